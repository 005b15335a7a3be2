"""Wording fits the case: a patient without an MRI is never told about "your MRI"."""

from datetime import timedelta

from django.core import mail
from django.urls import reverse

from intake import clock
from intake.models import Notification, ReviewRequest
from intake.services.lifecycle import case_transition
from intake.services.notifications import notification_send
from intake.services.routing import case_route
from intake.status_links import status_link
from intake.transitions import Status
from patientloop.services.contact import patient_updates_dispatch
from tests.intake.helpers import CONTACT, submit_complete


def _texts_to_patient(case):
    return [f"{m.subject}\n{m.body}" for m in mail.outbox if case.email in m.to]


def test_a_patient_without_an_mri_is_not_told_about_your_mri(client, seeded):
    response = submit_complete(client, mri={"mri_status": "none"})
    assert response.status_code == 302
    confirmation = client.get(reverse("intake:submitted")).content.decode()
    assert "your MRI" not in confirmation and "reviews your request" in confirmation
    case = ReviewRequest.objects.get()
    assert case.mri_status == "none"
    case_route(case_id=case.pk)
    case_transition(case_id=case.pk, to_status=Status.IN_REVIEW)
    status = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    assert "your MRI" not in status and "Images" not in status and "reviewing your request" in status
    case_transition(case_id=case.pk, to_status=Status.NOT_CANDIDATE, reason_category="conservative_care", note="plan")
    patient_updates_dispatch(now=clock.now() + timedelta(hours=1))
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)
    messages = _texts_to_patient(case)
    assert len(messages) == 2  # the confirmation and the update
    assert not any("MRI" in m for m in messages)


def test_a_patient_whose_centre_sends_the_mri_is_told_about_it(client, seeded):
    submit_complete(client)  # centre_sends
    confirmation = client.get(reverse("intake:submitted")).content.decode()
    assert "reviews your MRI" in confirmation
