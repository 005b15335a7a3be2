"""Reading a temporary file's bytes from the disk itself (the spool tests)."""

import os
from pathlib import Path


def temp_files_in(folder: Path) -> list[bytes]:
    """The bytes on disk of every file this process holds open in ``folder``,
    named or already unlinked (/proc/self/fd: unnamed files are not listed in
    the folder)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            with open(f"/proc/self/fd/{fd}", "rb") as raw:
                found.append(raw.read())
    return found
