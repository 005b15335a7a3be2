"""The import layers (.importlinter): in each app, pure modules <- services <-
tasks, views, admin; between the apps, clinic <- intake and education <- the
feature apps <- partners, intake reaching a feature app only through the seams
listed there; the public pages independent of the request app. `make lint`
checks the same contracts; this keeps them in every test run too."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_layers_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is in requirements-dev.txt"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert "0 broken" in result.stdout
