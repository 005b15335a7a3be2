"""Issue 22: django-axes kept the raw typed user name (sometimes a password)
in AccessAttempt, and it counted (user name, address) pairs only, so one
password sprayed over many user names from one address never locked."""

import pytest
from axes.models import AccessAttempt

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


def _sign_in(client, username, password="wrong-password", address="203.0.113.7"):
    return client.post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_a_typed_user_name_is_never_stored(client):
    typed = "Marker-Sunflower-1987!"  # a password typed into the name box
    for _ in range(2):
        _sign_in(client, typed)
    UserFactory(username="realstaff")
    _sign_in(client, "realstaff")
    assert AccessAttempt.objects.count() == 2
    for row in AccessAttempt.objects.values():
        stored = " ".join(str(v) for v in row.values())
        assert "Marker-Sunflower" not in stored and "marker-sunflower" not in stored
        assert "realstaff" not in stored
        assert row["username"].startswith("name hash ")
    # One typed text is one name: its two failures are counted together.
    assert AccessAttempt.objects.filter(failures_since_start=2).count() == 1


def test_the_lock_per_name_still_counts_one_typed_name_as_one(client, settings):
    UserFactory(username="target")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "target")
    assert _sign_in(client, "target", PASSWORD).status_code == 429


def test_one_address_failing_for_many_names_is_locked(client, settings):
    UserFactory(username="target")
    limit = settings.INTAKE_SIGN_IN_FAILURES_PER_ADDRESS
    assert limit > settings.AXES_FAILURE_LIMIT
    # One password sprayed over many names, each tried once.
    for i in range(limit):
        assert _sign_in(client, f"name{i}").status_code in (200, 429)
    response = _sign_in(client, "target", PASSWORD)
    assert response.status_code == 429
    assert "Signing in is paused" in response.content.decode()
    # Another address is not affected.
    assert _sign_in(client, "target", PASSWORD, address="198.51.100.9").status_code == 302


def test_an_address_below_the_limit_still_signs_in(client, settings):
    UserFactory(username="target")
    for i in range(settings.INTAKE_SIGN_IN_FAILURES_PER_ADDRESS - 1):
        _sign_in(client, f"name{i}")
    assert _sign_in(client, "target", PASSWORD).status_code == 302
