#!/usr/bin/env python
"""The bare Django yardstick project (bench/baseline): see bench/README.md."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baseline.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
