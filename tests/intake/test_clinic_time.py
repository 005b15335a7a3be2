"""Clinic time: every time a person reads is in the clinic's zone, named, and
the SLA clock skips public holidays and the clinic's closure days (issue 12,
point 7). The clinic is in Illinois: America/Chicago, US holidays with IL's."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse

from clinic.models import AuditEntry, ClosureDay
from clinic.templatetags.clinic_time import clinic_zone_name, format_clinic_time
from intake import sla
from intake.models import ReviewRequest
from intake.services.routing import case_route
from intake.status_links import status_link
from tests.factories import CaseFactory, UserFactory

from .helpers import CONTACT, MRI, submit_complete
from .test_admin_support import change_url, changelist_url, make_case

CHICAGO = ZoneInfo("America/Chicago")
UTC = ZoneInfo("UTC")
HOUR = timedelta(hours=1)

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=CHICAGO)


WEDNESDAY_4PM = at(2026, 11, 25, 16, 0)  # the day before Thanksgiving
TUESDAY_1PM = at(2026, 12, 1, 13, 0)
PROMISE = "Tuesday 1 December 2026, 1:00 p.m. Central"
NO_MRI = {"mri_status": "none", **{k: "" for k in MRI if k != "mri_status"}}


# --- The SLA clock: holidays -------------------------------------------------------------
def test_the_package_lists_thanksgiving_but_not_the_day_after_for_illinois():
    # The rule the required test rests on: only Thursday 26 November is a public
    # holiday; the Friday after is a working day unless supervisors close it.
    assert date(2026, 11, 26) in sla.public_holidays(2026)
    assert date(2026, 11, 27) not in sla.public_holidays(2026)


def test_routine_request_the_day_before_thanksgiving_is_due_tuesday_1pm(django_assert_num_queries):
    # Wednesday 16:00-17:00 is 1 h; Thursday is Thanksgiving; Friday 9 h (10);
    # the weekend; Monday 9 h (19); Tuesday 08:00 + 5 h = 13:00. Not Monday.
    with django_assert_num_queries(1):  # the closure days, once, not once per day
        due = sla.add_business_time(WEDNESDAY_4PM, timedelta(hours=24))
    assert due == TUESDAY_1PM
    assert due.tzinfo == CHICAGO  # in the zone it was given
    assert sla.add_business_time(WEDNESDAY_4PM.astimezone(UTC), timedelta(hours=24)) == TUESDAY_1PM


def test_business_time_between_skips_holidays_with_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        # Wednesday 9 h, Thanksgiving 0, Friday 9 h.
        assert sla.business_time_between(at(2026, 11, 25, 8), at(2026, 11, 27, 17)) == 18 * HOUR
    # Independence Day falls on a Saturday in 2026: observed Friday 3 July.
    assert sla.business_time_between(at(2026, 7, 2, 8), at(2026, 7, 6, 17)) == 18 * HOUR
    # Casimir Pulaski Day (Monday 2 March 2026) is an Illinois holiday.
    assert sla.business_time_between(at(2026, 3, 2, 8), at(2026, 3, 2, 17)) == timedelta(0)
    # A whole year in one query too.
    with django_assert_num_queries(1):
        sla.business_time_between(at(2026, 1, 1), at(2027, 1, 1))


def test_business_hours_are_wall_clock_hours_across_daylight_saving():
    # Clocks go forward on Sunday 8 March 2026: 08:00-17:00 is still 9 hours.
    friday = at(2026, 3, 6, 16, 0)  # CST, UTC-6
    due = sla.add_business_time(friday, 24 * HOUR)
    assert due == at(2026, 3, 11, 13, 0) and due.utcoffset() == -5 * HOUR  # CDT
    assert format_clinic_time(due) == "Wednesday 11 March 2026, 1:00 p.m. Central"
    assert sla.business_time_between(friday, due) == 24 * HOUR


def test_holiday_country_and_subdivision_come_from_settings(settings):
    pulaski = (at(2026, 3, 2, 8), at(2026, 3, 2, 17))
    settings.INTAKE_HOLIDAY_SUBDIVISION = ""  # national holidays only
    assert sla.business_time_between(*pulaski) == 9 * HOUR
    assert sla.business_time_between(at(2026, 11, 26, 8), at(2026, 11, 26, 17)) == timedelta(0)
    settings.INTAKE_HOLIDAY_COUNTRY = ""  # no public holidays at all
    assert sla.business_time_between(at(2026, 11, 26, 8), at(2026, 11, 26, 17)) == 9 * HOUR
    assert sla.add_business_time(WEDNESDAY_4PM, 24 * HOUR) == at(2026, 11, 30, 13, 0)


def test_urgent_queues_still_count_every_hour_through_holidays():
    assert sla.add_business_time(WEDNESDAY_4PM, 24 * HOUR, around_the_clock=True) == at(2026, 11, 26, 16, 0)


# --- The SLA clock: closure days ----------------------------------------------------------
def test_a_closure_day_added_in_the_admin_shifts_the_due_time(client, staff):
    client.force_login(staff.supervisor)
    add = reverse("admin:clinic_closureday_add")
    response = client.post(add, {"date": "2026-11-27", "reason": "Day after Thanksgiving"})
    assert response.status_code == 302, response.content.decode()[:500]
    closure = ClosureDay.objects.get()
    assert closure.date == date(2026, 11, 27)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE, object_type="closureday")
    assert entry.actor == staff.supervisor

    # Wednesday 1 h, Monday 9 h (10), Tuesday 9 h (19), Wednesday 08:00 + 5 h.
    assert sla.add_business_time(WEDNESDAY_4PM, 24 * HOUR) == at(2026, 12, 2, 13, 0)
    assert sla.business_time_between(at(2026, 11, 25, 8), at(2026, 11, 27, 17)) == 9 * HOUR
    # And through routing: a case submitted then is promised the later time.
    assert sla.due_at(staff.queue_a, WEDNESDAY_4PM) == at(2026, 12, 2, 13, 0)

    # Supervisors can list, change and delete closures; coordinators cannot add one.
    assert client.get(reverse("admin:clinic_closureday_changelist")).status_code == 200
    client.force_login(staff.coord_a)
    assert client.post(add, {"date": "2026-12-24", "reason": "Christmas Eve"}).status_code == 403
    assert ClosureDay.objects.count() == 1


def test_closure_days_before_the_start_or_after_the_end_are_not_read(django_assert_num_queries):
    ClosureDay.objects.create(date=date(2026, 11, 20), reason="Before")
    ClosureDay.objects.create(date=date(2026, 12, 1), reason="Training day")
    # Tuesday 1 December closed: Wednesday 08:00 + 5 h.
    assert sla.add_business_time(WEDNESDAY_4PM, 24 * HOUR) == at(2026, 12, 2, 13, 0)
    with django_assert_num_queries(1):
        assert sla.business_time_between(at(2026, 11, 20, 8), at(2026, 11, 20, 17)) == timedelta(0)


# --- The patient: confirmation, status page, emails -----------------------------------
def _submit_on_wednesday_4pm(client, django_capture_on_commit_callbacks):
    """A routine request without an MRI (the 24-hour imaging queue), sent at
    16:00 Central the day before Thanksgiving."""
    with django_capture_on_commit_callbacks(execute=False):
        submit_complete(client, mri=NO_MRI, pain={"pain_duration": "3m_12m"})
    case = ReviewRequest.objects.get()
    ReviewRequest.objects.filter(pk=case.pk).update(created_at=WEDNESDAY_4PM)
    case.refresh_from_db()
    return case


def test_confirmation_status_page_and_emails_promise_tuesday_1pm_central(
    client, seeded, django_capture_on_commit_callbacks
):
    from intake.services.notifications import Notification, notification_send

    case = _submit_on_wednesday_4pm(client, django_capture_on_commit_callbacks)

    # The confirmation page, before routing: the promise from the rule that will place it.
    page = client.get(reverse("intake:submitted")).content.decode()
    assert f'<strong data-testid="promised">{PROMISE}</strong>' in page
    assert "UTC" not in page

    # Routed into the 24-business-hour queue: due Tuesday 13:00 Central.
    case_route(case_id=case.pk, now=WEDNESDAY_4PM)
    case.refresh_from_db()
    assert case.queue.sla_hours == 24 and not case.queue.is_urgent
    assert case.sla_due_at == TUESDAY_1PM

    # The status page.
    body = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    assert f'We promised to answer by <strong data-testid="promised">{PROMISE}</strong>.' in body
    assert "UTC" not in body

    # The patient's confirmation email.
    confirmation = case.notifications.get(kind=Notification.Kind.PATIENT_CONFIRMATION)
    notification_send(notification_id=confirmation.pk)
    (message,) = mail.outbox
    assert f"will contact you by {PROMISE}, in the way you asked." in message.body
    assert "UTC" not in message.body


def test_staff_emails_name_the_clinic_zone():
    due = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 13:00 Central
    ctx = {"reference": "MR-TEST12", "admin_url": "https://clinic.example/admin/x/", "due": due}
    assert "due by Tue 1 Dec 13:00 Central." in render_to_string("emails/staff_new_case.txt", ctx)
    assert "it was due Tue 1 Dec 13:00 Central)" in render_to_string("emails/supervisor_overdue.txt", ctx)
    patient = render_to_string(
        "emails/patient_confirmation.txt",
        {"reference": "MR-TEST12", "clinic_name": "Riverside", "status_url": "https://x/", "due": due},
    )
    assert patient.startswith("Hello,\n")
    assert f"will contact you by {PROMISE}, in the way you asked." in patient
    assert "will contact you in the way you asked." in render_to_string(
        "emails/patient_confirmation.txt", {"reference": "MR-TEST12", "due": None}
    )


# --- The format -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "summer", "winter"),
    [
        ("America/Chicago", "Central", "Central"),
        ("America/New_York", "Eastern", "Eastern"),
        ("America/Denver", "Mountain", "Mountain"),
        ("America/Phoenix", "Mountain (Arizona)", "Mountain (Arizona)"),
        ("America/Los_Angeles", "Pacific", "Pacific"),
        ("Europe/London", "BST", "GMT"),  # no friendly name: the abbreviation of the day
    ],
)
def test_zone_names(settings, zone, summer, winter):
    settings.INTAKE_CLINIC_TIME_ZONE = zone
    assert clinic_zone_name(datetime(2026, 7, 1, 12, tzinfo=UTC)) == summer
    assert clinic_zone_name(datetime(2026, 12, 1, 12, tzinfo=UTC)) == winter


def test_format_converts_to_the_clinic_zone_whatever_zone_is_active(settings):
    from django.utils import timezone

    moment = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    with timezone.override("Asia/Tokyo"):
        assert format_clinic_time(moment) == PROMISE
        assert format_clinic_time(moment, "staff") == "2026-12-01 13:00 Central"
    assert format_clinic_time(moment, "Y-m-d H:i") == "2026-12-01 13:00 Central"
    assert format_clinic_time(datetime(2026, 7, 1, 17, 0, tzinfo=UTC)) == "Wednesday 1 July 2026, 12:00 p.m. Central"
    assert format_clinic_time(None) == ""
    settings.INTAKE_CLINIC_TIME_ZONE = "America/New_York"
    assert format_clinic_time(moment) == "Tuesday 1 December 2026, 2:00 p.m. Eastern"


def test_the_filter_takes_named_formats_and_survives_bad_values():
    from django.template import engines

    template = engines["django"].from_string(
        '{% load clinic_time %}{{ a|clinic_time }}|{{ a|clinic_time:"staff" }}|{{ b|clinic_time|default:"—" }}'
        "|{{ c|clinic_time }}|{% clinic_zone_name %}|{% clinic_zone_name full=True %}"
    )
    moment = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    assert template.render({"a": moment, "b": None, "c": "not a time"}) == (
        f"{PROMISE}|2026-12-01 13:00 Central|—||Central|Central (America/Chicago)"
    )


def test_django_time_zone_is_the_clinic_zone(settings):
    assert settings.TIME_ZONE == settings.INTAKE_CLINIC_TIME_ZONE == "America/Chicago"
    assert settings.CELERY_TIMEZONE == "UTC"  # beat runs intervals; ETAs are aware


# --- Staff: the admin and the CSV ---------------------------------------------------------
def test_admin_case_page_shows_clinic_time_not_utc(client, staff):
    created = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 16:00 Central
    case = make_case(
        staff.queue_a,
        created_at=created,
        consented_at=created,
        first_contact_at=created + 2 * HOUR,
        sla_due_at=TUESDAY_1PM,
    )
    client.force_login(staff.coord_a)
    page = client.get(change_url(case)).content.decode()
    assert "Times are Central (America/Chicago)" in page
    assert '<span class="quiet" id="case-sla-due">due 2026-12-01 13:00 Central</span>' in page
    assert "2026-11-25 16:00 Central" in page  # created and consented
    assert "2026-11-25 18:00 Central" in page  # first contact
    assert "22:00" not in page and "19:00" not in page and "UTC" not in page


def test_case_list_and_dashboard_show_clinic_time(client, staff):
    make_case(staff.queue_a, sla_due_at=TUESDAY_1PM)
    client.force_login(staff.supervisor)
    listing = client.get(changelist_url()).content.decode()
    assert 'title="due 2026-12-01 13:00 Central"' in listing
    assert "Times are Central (America/Chicago)" in listing
    dashboard = client.get(reverse("admin:intake_dashboard")).content.decode()
    assert "<td>2026-12-01 13:00 Central</td>" in dashboard


def test_csv_export_times_are_in_the_clinic_zone_and_named(client, staff):
    import csv
    import io

    make_case(staff.queue_a, created_at=datetime(2026, 11, 25, 22, 0, tzinfo=UTC), sla_due_at=TUESDAY_1PM)
    make_case(staff.queue_a, created_at=datetime(2026, 7, 1, 17, 0, tzinfo=UTC), sla_due_at=None)
    client.force_login(staff.supervisor)
    response = client.post(reverse("admin:intake_reviewrequest_export"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header = rows[0]
    winter, summer = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert winter["created"] == "2026-11-25T16:00-06:00"
    assert winter["sla_due"] == "2026-12-01T13:00-06:00"
    assert summer["created"] == "2026-07-01T12:00-05:00"
    assert summer["sla_due"] == ""
    assert winter["time_zone"] == summer["time_zone"] == "Central (America/Chicago)"


def test_seeded_supervisors_hold_the_closure_day_permissions(seeded):
    supervisor = UserFactory(groups=["Supervisor"])
    coordinator = UserFactory(groups=["Coordinator"])
    for action in ("view", "add", "change", "delete"):
        assert supervisor.has_perm(f"clinic.{action}_closureday")
        assert not coordinator.has_perm(f"clinic.{action}_closureday")


def test_routing_a_case_skips_holidays_and_closure_days(seeded):
    case = CaseFactory(created_at=WEDNESDAY_4PM, mri_status="none", pain_duration="3m_12m")
    ClosureDay.objects.create(date=date(2026, 11, 30), reason="Inventory")
    case_route(case_id=case.pk, now=WEDNESDAY_4PM)
    case.refresh_from_db()
    assert case.queue.slug == "imaging" and case.queue.sla_hours == 24
    # Wednesday 1 h, Thanksgiving, Friday 9 h (10), Monday closed, Tuesday 9 h (19), Wednesday 08:00 + 5 h.
    assert case.sla_due_at == at(2026, 12, 2, 13, 0)
