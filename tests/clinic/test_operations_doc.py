"""The operator's documents against the code (issue 29): every environment
variable the settings read is documented, and no documented one is stale."""

import re
from pathlib import Path

from clinic import health

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = [ROOT / "clinic" / "settings" / name for name in ("base.py", "local.py", "production.py")]
DOCS = [ROOT / "README.md", ROOT / "docs" / "operations.md"]
READ = re.compile(r"""(?:env(?:\.\w+)?|os\.environ(?:\.get)?|os\.getenv)[(\[]\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_variables() -> set[str]:
    return {name for path in SETTINGS for name in READ.findall(path.read_text())}


def test_the_pattern_finds_the_variables_it_should():
    found = settings_variables()
    assert {"DATABASE_URL", "INTAKE_FILE_KEYS", "FILE_UPLOAD_TEMP_DIR", "INTAKE_ONE_MACHINE"} <= found
    assert len(found) > 50


def test_every_variable_the_settings_read_is_documented():
    text = "\n".join(path.read_text() for path in DOCS)
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in text)
    assert not missing, f"document these in README.md or docs/operations.md: {missing}"


def test_every_variable_in_the_operations_table_is_read_by_the_settings():
    doc = (ROOT / "docs" / "operations.md").read_text()
    table = doc[doc.index("## 8. Other environment variables") :]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", table, re.M))
    documented |= set(re.findall(r", `([A-Z][A-Z0-9_]+)`", table))
    assert documented, "the table was not found"
    assert not documented - settings_variables()


def test_the_health_paths_in_the_runbook_are_the_ones_the_code_answers():
    doc = (ROOT / "docs" / "operations.md").read_text()
    for paths in (health.HEALTH_PATHS, health.READY_PATHS, health.BEAT_PATHS):
        assert f"`{min(paths, key=len)}`" in doc
