"""The lean session store keeps Django's db session contract."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session

from clinic.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_round_trip_update_and_expiry(django_assert_num_queries):
    s = SessionStore()
    s["draft"] = {"step": "contact", "answers": [1, 2]}
    s.save()
    key = s.session_key
    loaded = SessionStore(session_key=key)
    assert loaded["draft"] == {"step": "contact", "answers": [1, 2]}
    loaded["draft"] = {"step": "pain"}
    with django_assert_num_queries(1):  # one UPDATE, no BEGIN/COMMIT around it
        loaded.save()
    assert SessionStore(session_key=key)["draft"] == {"step": "pain"}
    Session.objects.filter(session_key=key).update(expire_date=Session.objects.get().expire_date - timedelta(days=30))
    expired = SessionStore(session_key=key)
    assert expired.get("draft") is None and expired.session_key is None


def test_saving_a_deleted_session_raises_update_error():
    s = SessionStore()
    s["x"] = 1
    s.save()
    Session.objects.all().delete()
    s["x"] = 2
    with pytest.raises(UpdateError):
        s.save()
