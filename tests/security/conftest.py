import pytest


@pytest.fixture(autouse=True)
def _audit_anchor_dir(settings, tmp_path):
    """Each test exports head hashes to a folder of its own."""
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {**settings.STORAGES["audit"], "OPTIONS": {"location": str(tmp_path / "audit-anchors")}},
    }
