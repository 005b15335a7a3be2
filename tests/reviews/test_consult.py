"""The consult: booking moves a candidate on, the .ics file, the reminder once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from intake.models import Notification
from intake.services.errors import IllegalTransition, ServiceError
from intake.transitions import Status
from reviews.documents import consult_ics
from reviews.models import Consult
from reviews.services import consult_reminders_send, consult_schedule
from tests.intake.test_admin_support import make_case

pytestmark = pytest.mark.django_db


def _tomorrow_at(hour):
    tomorrow = timezone.localdate() + timedelta(days=1)
    return datetime.combine(tomorrow, datetime.min.time(), tzinfo=timezone.get_current_timezone()).replace(hour=hour)


def _book(staff, case, **kwargs):
    defaults = {
        "case": case,
        "actor": staff.coord_a,
        "starts_at": _tomorrow_at(10),
        "clinician": staff.clinician,
        "place": "Riverside Spine Clinic, 2nd floor, Room 4",
    }
    return consult_schedule(**{**defaults, **kwargs})


def test_booking_a_candidate_moves_the_case_and_records_when_where_and_who(staff):
    case = make_case(staff.queue_a, status=Status.CANDIDATE)
    consult = _book(staff, case)
    case.refresh_from_db()
    assert case.status == Status.CONSULT_SCHEDULED
    assert (consult.clinician, consult.created_by) == (staff.clinician, staff.coord_a)
    assert case.events.filter(to_status=Status.CONSULT_SCHEDULED, actor=staff.coord_a).exists()


def test_only_a_candidate_is_booked_and_nothing_is_left_behind(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    with pytest.raises(IllegalTransition):
        _book(staff, case)
    assert not Consult.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"place": ""}, "place or a video link"),
        ({"starts_at": timezone.now() - timedelta(hours=1)}, "future"),
        ({"clinician": None}, "not a clinician"),
    ],
)
def test_incomplete_bookings_are_refused(staff, overrides, message):
    case = make_case(staff.queue_a, status=Status.CANDIDATE)
    if "clinician" in overrides:
        overrides = {"clinician": staff.coord_a}
    with pytest.raises(ServiceError, match=message):
        _book(staff, case, **overrides)
    assert not Consult.objects.exists()


def test_the_ics_file_is_one_rfc5545_event_without_health_data(staff):
    case = make_case(staff.queue_a, status=Status.CANDIDATE)
    consult = _book(
        staff, case, place="Riverside Spine Clinic; Room 4, 2nd floor", video_url="https://video.example/r/abc"
    )
    text = consult_ics(consult)

    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded
    unfolded = text.replace("\r\n ", "")
    start = consult.starts_at.astimezone(UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in unfolded
    assert f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}" in unfolded
    assert f"UID:{consult.uid}@consults" in unfolded
    assert "LOCATION:Riverside Spine Clinic\\; Room 4\\, 2nd floor" in unfolded
    assert "URL:https://video.example/r/abc" in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 1 and "TRIGGER:-P1D" in unfolded
    for private in (case.first_name, case.last_name, case.reference, "herniat"):
        assert private not in unfolded


def test_the_reminder_goes_once_for_a_consult_tomorrow(staff):
    case = make_case(staff.queue_a, status=Status.CANDIDATE, consent_email=True)
    consult = _book(staff, case)
    later = make_case(staff.queue_a, status=Status.CANDIDATE)
    _book(staff, later, starts_at=_tomorrow_at(10) + timedelta(days=2))

    assert consult_reminders_send() == 1
    assert consult_reminders_send() == 1  # asked again: recorded as a repeat, nothing more sent
    reminders = Notification.objects.filter(dedupe_key__contains="consult-reminder")
    assert list(reminders.values_list("case_id", "recipient", "duplicate_requests")) == [(case.pk, case.email, 1)]
    assert str(consult.pk) in reminders.get().dedupe_key


def test_the_beat_task_run_twice_reminds_once_and_skips_a_withdrawn_case(staff):
    from intake.services.lifecycle import case_transition
    from reviews.tasks import send_consult_reminders

    case = make_case(staff.queue_a, status=Status.CANDIDATE)
    _book(staff, case)
    gone = make_case(staff.queue_a, status=Status.CANDIDATE)
    _book(staff, gone, starts_at=_tomorrow_at(11))
    case_transition(case_id=gone.pk, to_status=Status.WITHDRAWN, actor=staff.coord_a)

    assert send_consult_reminders.apply().get() == 1
    assert send_consult_reminders.apply().get() == 1
    reminders = Notification.objects.filter(dedupe_key__contains="consult-reminder")
    assert list(reminders.values_list("case_id", flat=True)) == [case.pk]


def test_the_reminder_email_carries_no_health_data(staff, mailoutbox):
    from intake.services.notifications import notification_send
    from reviews.services import review_save

    from .conftest import review_data

    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data(), expected_version=0)
    _book(staff, case)
    consult_reminders_send()
    reminder = Notification.objects.get(dedupe_key__contains="consult-reminder")
    assert notification_send(notification_id=reminder.pk) is True
    (mail,) = mailoutbox
    text = mail.subject + mail.body
    assert case.reference in text and "/mri-review/status/" in text
    for private in ("Wear and tear", "nerve", "candidate", "L4", "Room 4", case.last_name):
        assert private not in text
