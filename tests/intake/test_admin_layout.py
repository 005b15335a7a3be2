"""The staff side's shape (issue 13, point 3: one admin package, reads in
selectors, the export's writes in a service, URLs through the admin site) and
its rough edges (point 14: the case list, titles, the duplicate link, labels,
phone and names, first contact, the funnel, the lockout page, the favicon)."""

import importlib.util
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.admin_site import ClinicAdminSite
from clinic.models import AuditEntry
from intake.admin.selectors import dashboard_for
from intake.choices import Kind
from intake.models import CaseEvent
from intake.services.contact import case_log_contact
from intake.services.errors import ServiceError
from intake.services.export import cases_record_export
from intake.services.lifecycle import case_transition
from intake.transitions import Status

from .test_admin_support import change_url, changelist_url, follow_messages, make_case, transition_url

STAFF_TITLE = f"{settings.INTAKE_CLINIC_NAME} staff"


# --- Point 3: one package -----------------------------------------------------------------
def test_the_staff_side_is_one_package_and_its_urls_come_from_the_site_class():
    # No views module beside the package, no dashboard module mixing reads and drawing.
    assert importlib.util.find_spec("intake.admin_views") is None
    assert importlib.util.find_spec("intake.dashboard") is None
    # The dashboard is a page registered with the clinic's site class, whose
    # get_urls serves it; intake no longer wraps the instance's get_urls.
    assert isinstance(admin.site._wrapped, ClinicAdminSite)
    assert not hasattr(admin.site.get_urls, "with_intake_dashboard")
    assert "intake_dashboard" in admin.site._pages
    assert reverse("admin:intake_dashboard") == "/admin/intake/dashboard/"


def test_register_page_serves_a_page_behind_the_admins_checks(rf, db):
    from django.http import HttpResponse

    site = ClinicAdminSite(name="pages_test")
    site.register_page("extra/", lambda request: HttpResponse("ok"), name="extra")
    site.register_page("extra/", lambda request: HttpResponse("ok"), name="extra")  # twice: still one
    names = [getattr(p, "name", None) for p in site.get_urls()]
    assert names.count("extra") == 1
    view = next(p for p in site.get_urls() if getattr(p, "name", None) == "extra").callback
    request = rf.get("/admin/extra/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert view(request).status_code == 302  # the admin's sign-in, not the page


def test_the_dashboard_only_reads(staff):
    make_case(staff.queue_a)
    with CaptureQueriesContext(connection) as ctx:
        dashboard_for(staff.superuser, days=30)
    statements = [q["sql"].lstrip().split()[0].upper() for q in ctx.captured_queries]
    assert statements and set(statements) == {"SELECT"}, statements


def test_the_export_view_writes_nothing_itself_it_calls_the_service(client, staff, monkeypatch):
    case = make_case(staff.queue_a)
    calls = []
    monkeypatch.setattr("intake.admin.export.cases_record_export", lambda **kw: calls.append(kw))
    client.force_login(staff.supervisor)
    response = client.post(reverse("admin:intake_reviewrequest_export"))
    assert response.status_code == 200
    assert case.reference in b"".join(response.streaming_content).decode()
    assert calls == [{"cases": [(case.pk, case.reference)], "actor": staff.supervisor}]
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.EXPORTED).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_the_export_service_records_every_case_and_one_audit_entry(staff):
    a, b = make_case(staff.queue_a), make_case(staff.queue_b)
    assert cases_record_export(cases=[(a.pk, a.reference), (b.pk, b.reference)], actor=staff.supervisor) == 2
    events = CaseEvent.objects.filter(kind=CaseEvent.Kind.EXPORTED)
    assert sorted(events.values_list("case_id", flat=True)) == sorted([a.pk, b.pk])
    assert set(events.values_list("actor", flat=True)) == {staff.supervisor.pk}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert a.reference in entry.summary and b.reference in entry.summary


# --- Point 14: the case list ----------------------------------------------------------------
def test_the_case_list_has_seven_columns_and_marks_urgent_cases(client, staff):
    urgent = make_case(staff.queue_a, is_urgent=True)
    routine = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    html = client.get(changelist_url()).content.decode()
    headers = re.findall(r'<th scope="col"\s+class="([^"]*)"', html)
    columns = [c for c in headers if "column-" in c and "action-checkbox" not in c]
    assert len(columns) <= 7, columns
    assert any("column-sla" in c for c in columns)
    rows = {ref: row for row in re.findall(r"<tr>(.*?)</tr>", html, re.S) for ref in re.findall(r"MR-\w{6}", row)}
    assert 'class="urgent-flag"' in rows[urgent.reference]
    assert "urgent-flag" not in rows[routine.reference]
    # The app menu gives its width to the list.
    assert 'id="nav-sidebar"' not in html


# --- Point 14: titles -----------------------------------------------------------------------
def test_admin_pages_are_titled_with_the_clinics_name(client, staff):
    client.force_login(staff.coord_a)
    html = client.get(reverse("admin:index")).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.strip().endswith(STAFF_TITLE)
    assert "Django" not in title
    assert f">{STAFF_TITLE}</a>" in html


def test_the_lockout_page_has_the_clinics_header(client, settings, db):
    from tests.factories import UserFactory

    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="locked", is_staff=True)
    for _ in range(2):
        client.post("/admin/login/", {"username": "locked", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "locked", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "Signing in is paused" in html
    assert f">{STAFF_TITLE}</a>" in html
    assert "Django administration" not in html and "Django site admin" not in html


# --- Point 14: the case page ---------------------------------------------------------------
def test_a_duplicate_in_another_queue_is_named_not_linked(client, staff):
    other = make_case(staff.queue_b)
    case = make_case(staff.queue_a, is_duplicate=True, duplicate_of=other)
    client.force_login(staff.coord_a)
    html = client.get(change_url(case)).content.decode()
    assert other.reference in html
    assert "in a queue you do not work" in html
    assert change_url(other) not in html
    # Someone who may open it gets the link.
    client.force_login(staff.supervisor)
    html = client.get(change_url(case)).content.decode()
    assert f'href="{change_url(other)}"' in html
    assert "in a queue you do not work" not in html


def test_case_page_labels_phone_and_names(client, staff):
    case = make_case(staff.queue_a, first_name="maria", last_name="lopez", phone="+13125550142")
    mixed = make_case(staff.queue_a, first_name="Ann", last_name="McDonald")
    client.force_login(staff.coord_a)
    html = client.get(change_url(case)).content.decode()
    assert "MRI status" in html and "MRI region" in html
    assert not re.search(r"\bMri\b", html)  # no field named by Django's capfirst of "mri_..."
    assert 'href="tel:+13125550142"' in html and "(312) 555-0142" in html
    assert "E.164" not in html
    assert "Maria" in html and "Lopez" in html
    case.refresh_from_db()
    assert (case.first_name, case.last_name) == ("maria", "lopez")  # kept as typed
    listed = client.get(changelist_url()).content.decode()
    assert "Maria Lopez" in listed and "maria lopez" not in listed
    assert "Ann McDonald" in listed  # mixed case is shown as typed
    assert not re.search(r"\bMri\b", listed)
    assert mixed.last_name == "McDonald"


# --- Point 14: first contact ----------------------------------------------------------------
def test_in_review_does_not_stamp_first_contact(client, staff):
    case = make_case(staff.queue_a, status=Status.MRI_RECEIVED)
    triaged = make_case(staff.queue_a, status=Status.SUBMITTED)
    client.force_login(staff.clinician)
    client.post(transition_url(case), {"to_status": Status.IN_REVIEW, "version": case.version})
    case_transition(case_id=triaged.pk, to_status=Status.TRIAGE, actor=staff.coord_a)
    case.refresh_from_db()
    triaged.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    assert case.first_contact_at is None
    assert triaged.first_contact_at is None


def test_a_logged_contact_stamps_first_contact_once(client, staff):
    case = make_case(staff.queue_a)
    client.force_login(staff.coord_a)
    url = reverse("admin:intake_reviewrequest_contact", args=[case.pk])
    response = client.post(url, {"method": "phone", "note": "Left a voicemail.", "version": case.version})
    assert "Contact logged." in follow_messages(client, response)
    case.refresh_from_db()
    first = case.first_contact_at
    assert first is not None and first <= timezone.now()
    event = CaseEvent.objects.get(case=case, actor=staff.coord_a, summary__startswith="Contact logged")
    assert event.body == "Left a voicemail." and "phone call" in event.summary
    # A second contact is on the timeline but does not move the first.
    case_log_contact(case_id=case.pk, method="email", actor=staff.coord_a)
    case.refresh_from_db()
    assert case.first_contact_at == first
    assert CaseEvent.objects.filter(case=case, summary__startswith="Contact logged").count() == 2
    # The audit line names the method, never the note.
    assert not AuditEntry.objects.filter(summary__contains="voicemail").exists()


def test_a_contact_needs_a_method_and_the_right_version(client, staff):
    case = make_case(staff.queue_a)
    with pytest.raises(ServiceError):
        case_log_contact(case_id=case.pk, method="carrier pigeon", actor=staff.coord_a)
    client.force_login(staff.coord_a)
    url = reverse("admin:intake_reviewrequest_contact", args=[case.pk])
    response = client.post(url, {"method": "phone", "version": case.version + 5})
    assert any("changed by someone else" in m for m in follow_messages(client, response))
    client.force_login(staff.coord_b)  # outside queue A
    assert client.post(url, {"method": "phone", "version": case.version}).status_code == 404
    case.refresh_from_db()
    assert case.first_contact_at is None
    assert not CaseEvent.objects.filter(case=case, summary__startswith="Contact logged").exists()


# --- Point 14: the funnel ---------------------------------------------------------------------
def test_the_funnel_counts_urgent_callbacks_apart(client, staff):
    make_case(staff.queue_a, kind=Kind.REVIEW)
    make_case(staff.queue_a, kind=Kind.REVIEW, mri_received_at=timezone.now())
    make_case(staff.queue_a, kind=Kind.URGENT_CALLBACK, mri_status="", mri_received_at=None)
    board = dashboard_for(staff.superuser, days=30)
    assert [(s.label, s.count) for s in board.funnel][:2] == [("Submitted", 2), ("MRI received", 1)]
    assert board.funnel[1].percent == 50.0
    assert board.urgent_callbacks == 1
    client.force_login(staff.supervisor)
    html = client.get(reverse("admin:intake_dashboard")).content.decode()
    assert re.search(r'id="urgent-callbacks">[^<]*<strong>1</strong>', html)


# --- Point 14: the favicon --------------------------------------------------------------------
def test_favicon_is_served_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert response["Location"].startswith(settings.STATIC_URL)
    path = finders.find("favicon.ico")
    assert path is not None
    with open(path, "rb") as f:
        assert f.read(4) == b"\x00\x00\x01\x00"  # an ICO file
