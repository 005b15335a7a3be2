"""Issue 23 point 5: the patient's result message (email and text) says that a
consult is booked and when (the clinic's zone, named), in the case's
language, and nothing clinical: not the result, not the doctor's words, not
the place or the doctor. A consult booked after the result was told reaches
the patient as an update that says the same."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from intake import clock
from intake.models import Notification
from intake.services.notifications import notification_send
from intake.transitions import Status
from patientloop.services.contact import PATIENT_RESULT, patient_updates_dispatch
from reviews.services import consult_schedule, review_save
from tests.intake.test_admin_support import make_case
from tests.reviews.conftest import review_data

from .conftest import sms_files

pytestmark = pytest.mark.django_db

CONSULT_AT = datetime(2030, 12, 10, 14, 30, tzinfo=ZoneInfo("America/Chicago"))  # a Tuesday
PLAN = "Keep walking every day; we will look at a decompression together."
# What would tell the result, the doctor's words, the plan, the place or the doctor.
CLINICAL = ("candidate", "treatment", "disc", "nerve", "surgeon", "decompression", "walking", "MRI", "Room 4", "Okafor")
EN_WHEN = "A consultation is booked for you on Tuesday 10 December 2030 at 2:30 p.m., the clinic's time (Central)."
ES_WHEN = "Tiene una consulta reservada el martes 10 de diciembre de 2030 a las 2:30 p.m., hora de la clínica (hora del Centro)."


def _send_all(later=timedelta(hours=1)):
    patient_updates_dispatch(now=clock.now() + later)
    # Emails and texts alike: a text is a notification on the "text" channel.
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def _decide(staff, case):
    review_save(
        case=case, author=staff.clinician, data=review_data("candidate", decision_detail=PLAN), expected_version=0
    )


def _book(staff, case):
    staff.clinician.first_name, staff.clinician.last_name = "Dana", "Okafor"
    staff.clinician.save()
    consult_schedule(
        case=case, actor=staff.coord_a, starts_at=CONSULT_AT, clinician=staff.clinician, place="2nd floor, Room 4"
    )


def _emails_to(case):
    return [f"{m.subject}\n{m.body}" for m in mail.outbox if case.email in m.to]


def _nothing_clinical(message):
    words = re.sub(r"https?://\S+", "", message).lower()  # the link's path says /mri-review/
    found = [w for w in CLINICAL if w.lower() in words]
    assert not found, (found, message)


def _one_line(text):
    return " ".join(text.split())


@pytest.mark.parametrize(("language", "when"), [("en", EN_WHEN), ("es", ES_WHEN)])
def test_the_result_email_says_the_consult_is_booked_and_when(staff, language, when):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language=language)
    _decide(staff, case)
    _book(staff, case)  # within the quiet window: one message, the result's
    _send_all()

    [message] = _emails_to(case)
    assert Notification.objects.get(case=case, recipient=case.email).kind == PATIENT_RESULT
    assert when in _one_line(message)
    _nothing_clinical(message)


def test_the_result_text_says_the_consult_is_booked_and_when(staff, settings):
    case = make_case(
        staff.queue_a, status=Status.IN_REVIEW, consent_email=False, consent_text=True, contact_method="text"
    )
    _decide(staff, case)
    _book(staff, case)
    _send_all()

    [text] = [f.read_text() for f in sms_files(settings)]
    body = _one_line(text.split("\n\n", 1)[-1])
    assert Notification.objects.get(case=case, channel="text").kind == PATIENT_RESULT
    assert f"your result is ready for your request {case.reference}, and a consultation is booked" in body
    assert "on Tuesday 10 December 2030 at 2:30 p.m. (Central)" in body
    _nothing_clinical(body)


def test_a_consult_booked_after_the_result_was_told_comes_as_an_update_that_says_when(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    _decide(staff, case)
    _send_all()  # the result is told first, with no consult yet
    [told] = _emails_to(case)
    assert "consultation is booked" not in told

    _book(staff, case)
    _send_all()
    update = _one_line(_emails_to(case)[-1])
    assert "There is an update on your request" in update and EN_WHEN in update
    _nothing_clinical(update)


def test_a_consult_booked_after_the_result_was_texted_is_texted_with_when(staff, settings):
    case = make_case(
        staff.queue_a, status=Status.IN_REVIEW, consent_email=False, consent_text=True, contact_method="text"
    )
    _decide(staff, case)
    _send_all()
    _book(staff, case)
    _send_all()

    # The file backend names files by the second and a random part: order by content.
    bodies = [_one_line(f.read_text().split("\n\n", 1)[-1]) for f in sms_files(settings)]
    first, second = sorted(bodies, key=lambda body: "your consultation" in body)
    assert "your result is ready" in first and "consultation" not in first
    assert f"your consultation for request {case.reference} is booked for Tuesday 10 December 2030" in second
    assert "at 2:30 p.m. (Central)" in second
    _nothing_clinical(second)
