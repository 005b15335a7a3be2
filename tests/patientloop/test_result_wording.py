"""Issue 15 point 2: a decision reaches the patient as "your result is ready;
open your status page" (email, text or a coordinator's call), never as "there
is an update", and still with no health data: not which result, not the
doctor's words. Other status changes keep the update wording, except a consult
booked before the patient heard the result (one combined message)."""

import re
from datetime import timedelta

import pytest
from django.core import mail

from intake import clock
from intake.models import Notification
from intake.services.notifications import notification_send
from intake.transitions import Status
from patientloop.models import CallTask
from patientloop.services.contact import PATIENT_RESULT, patient_updates_dispatch, update_kind
from patientloop.services.requests import patient_request_open
from reviews.services import consult_schedule, review_save
from tests.intake.test_admin_support import make_case
from tests.reviews.conftest import review_data

from .conftest import sms_files

LATER = timedelta(hours=1)  # past any quiet window: the held update goes out
# Words that would tell the result or the doctor's findings (review_data's).
HEALTH_WORDS = ("candidate", "treatment", "disc", "nerve", "therapy", "surgeon", "MRI")


def _send_held_updates():
    patient_updates_dispatch(now=clock.now() + LATER)
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def _emails_to(case):
    return [f"{m.subject}\n{m.body}" for m in mail.outbox if case.email in m.to]


def _no_health_data(message):
    words = re.sub(r"https?://\S+", "", message).lower()  # the link's path says /mri-review/
    assert not any(w.lower() in words for w in HEALTH_WORDS), message


@pytest.mark.parametrize("decision", ["candidate", "not_candidate", "needs_more_info"])
def test_a_review_decision_emails_that_the_result_is_ready(staff, decision):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, mri_status="none")
    review_save(case=case, author=staff.clinician, data=review_data(decision), expected_version=0)
    _send_held_updates()

    [message] = _emails_to(case)
    assert f"Your result is ready: request {case.reference}" in message
    assert "Please open your status page to read it." in message and "/mri-review/status/" in message
    assert "update" not in message.lower()
    _no_health_data(message)
    assert Notification.objects.get(case=case, recipient=case.email).kind == PATIENT_RESULT


def test_a_text_patient_is_texted_that_the_result_is_ready(staff, settings):
    case = make_case(
        staff.queue_a, status=Status.IN_REVIEW, consent_email=False, consent_text=True, contact_method="text"
    )
    review_save(case=case, author=staff.clinician, data=review_data("not_candidate"), expected_version=0)
    _send_held_updates()

    assert not _emails_to(case)
    [text] = [f.read_text() for f in sms_files(settings)]
    assert f"your result is ready for your request {case.reference}" in text
    assert "Open your status page to read it" in text and "/mri-review/status/" in text
    assert "update" not in text.lower()
    _no_health_data(text.split("\n\n", 1)[-1])  # the body, past the file backend's header
    assert Notification.objects.get(case=case, channel="text").kind == PATIENT_RESULT


def test_a_phone_only_patient_gets_a_call_task_to_say_the_result_is_ready(staff):
    case = make_case(
        staff.queue_a,
        status=Status.IN_REVIEW,
        consent_email=False,
        consent_text=False,
        consent_phone=True,
        contact_method="phone",
    )
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    _send_held_updates()

    assert not _emails_to(case) and not Notification.objects.filter(channel="text").exists()
    task = CallTask.objects.get(case=case)
    assert task.kind == PATIENT_RESULT and "result is ready" in task.reason


def test_a_decision_without_a_structured_review_is_still_a_result(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    case.status = Status.NOT_CANDIDATE  # as the case page's plain decision leaves it
    assert update_kind(case) == PATIENT_RESULT


def _book_consult(case, staff):
    consult_schedule(
        case=case,
        actor=staff.coord_a,
        starts_at=clock.now() + timedelta(days=5),
        clinician=staff.clinician,
        place="Room 4",
    )


def test_a_consult_booked_right_after_the_decision_still_says_the_result_is_ready(staff):
    # "Candidate" and the booking a minute later make one combined message.
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    _book_consult(case, staff)
    _send_held_updates()
    [message] = _emails_to(case)
    assert "Your result is ready" in message and "Room 4" not in message


def test_a_consult_booked_after_the_patient_heard_the_result_is_an_update(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    _send_held_updates()
    _book_consult(case, staff)
    patient_updates_dispatch(now=clock.now() + 2 * LATER)
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)
    result, booked = _emails_to(case)
    assert "Your result is ready" in result
    assert f"An update on your request {case.reference}" in booked and "result" not in booked.lower()


def test_new_imaging_is_not_a_result_but_an_update(staff):
    # The letter says so ("do not show enough for us to give you a result"),
    # and the case waits for the images (awaiting MRI), as any request for them.
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data("new_imaging"), expected_version=0)
    _send_held_updates()
    [message] = _emails_to(case)
    assert f"An update on your request {case.reference}" in message and "result" not in message.lower()


def test_questions_without_a_review_and_other_changes_stay_an_update(staff):
    # A clinician's question from the case page: "needs more information", no review yet.
    asked = make_case(staff.queue_a, status=Status.IN_REVIEW, assigned_to=staff.clinician)
    patient_request_open(case_id=asked.pk, kind="information", questions="Which leg?", actor=staff.clinician)
    # An ordinary move: asked for the images.
    waiting = make_case(staff.queue_a, status=Status.TRIAGE)
    patient_request_open(case_id=waiting.pk, kind="images", questions="Your MRI, please.", actor=staff.coord_a)
    _send_held_updates()

    for case in (asked, waiting):
        [message] = _emails_to(case)
        assert f"An update on your request {case.reference}" in message
        assert "result" not in message.lower()
        assert Notification.objects.get(case=case, recipient=case.email).kind == "patient_status"
