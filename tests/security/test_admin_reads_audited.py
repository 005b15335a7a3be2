"""Red-team finding 9 (second half): only the case page was recorded. List
views, searches, autocomplete, pop-up reads and refused attempts (a 404 for
another queue's case) left no trace."""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from tests.intake.test_admin_support import change_url, changelist_url, make_case, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(seeded):
    return make_staff()


def _entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_the_case_list_is_recorded(client, staff):
    make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    assert client.get(changelist_url()).status_code == 200
    [entry] = _entries("view_list")
    assert entry.actor == staff.coord_a and entry.summary.startswith("Listed")


def test_a_search_is_recorded_by_a_hash_not_the_text(client, staff):
    case = make_case(staff.queue_a, first_name="Mariana", last_name="Quintero")
    client.force_login(staff.coord_a)
    client.get(changelist_url(), {"q": "Mariana Quintero"})
    client.get(changelist_url(), {"q": "  mariana   quintero "})
    client.get(changelist_url(), {"q": case.email})
    first, same, other = _entries("view_list")
    assert "searched" in first.summary and "term hash" in first.summary
    for entry in (first, same, other):
        assert "mariana" not in entry.summary.lower() and case.email not in entry.summary
    assert first.summary == same.summary != other.summary


def test_a_popup_list_is_recorded_as_such(client, staff):
    client.force_login(staff.coord_a)
    client.get(changelist_url(), {"_popup": "1", "_to_field": "id"})
    [entry] = _entries("view_list")
    assert "pop-up" in entry.summary


def test_another_queues_case_is_refused_and_recorded(client, staff):
    theirs = make_case(staff.queue_b)
    client.force_login(staff.coord_a)
    assert client.get(change_url(theirs)).status_code == 404
    [entry] = _entries("refused")
    assert entry.actor == staff.coord_a and entry.object_ref == str(theirs.pk)
    assert not _entries("view_case")


def test_refused_actions_on_another_queues_case_are_recorded(client, staff):
    theirs = make_case(staff.queue_b)
    client.force_login(staff.coord_a)
    url = reverse("admin:intake_reviewrequest_note", args=[theirs.pk])
    assert client.post(url, {"text": "hello"}).status_code == 404
    assert [e.object_ref for e in _entries("refused")] == [str(theirs.pk)]


def test_a_case_in_the_users_queue_is_not_a_refusal(client, staff):
    mine = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    assert client.get(change_url(mine)).status_code == 200
    assert not _entries("refused") and len(_entries("view_case")) == 1


def test_autocomplete_lookups_are_recorded_by_a_hash(client, staff):
    client.force_login(staff.superuser)
    params = {"app_label": "education", "model_name": "routinestep", "field_name": "stretch", "term": "Chin tuck"}
    assert client.get(reverse("admin:autocomplete"), params).status_code == 200
    [entry] = _entries("view_list")
    assert entry.object_type == "autocomplete" and "term hash" in entry.summary
    assert "chin" not in entry.summary.lower()
