"""Staff side of the patient loop: asking from the case page, the call-task list."""

from django.test import Client
from django.urls import reverse

from intake.models import ReviewRequest
from intake.transitions import Status
from patientloop.models import CallTask, PatientRequest
from patientloop.services.contact import patient_message
from tests.intake.test_admin_support import make_case


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_a_coordinator_asks_for_images_from_the_case_page(staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    response = _client(staff.coord_a).post(
        reverse("admin:patientloop_patientrequest_ask", args=[case.pk]),
        {"kind": "images", "questions": "Please upload your lumbar MRI."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.AWAITING_MRI and case.sla_paused_at is not None
    assert PatientRequest.objects.get(case=case).asked_by == staff.coord_a


def test_another_queues_coordinator_cannot_ask(staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    response = _client(staff.coord_b).post(
        reverse("admin:patientloop_patientrequest_ask", args=[case.pk]), {"kind": "images", "questions": "x"}
    )
    assert response.status_code == 404
    assert not PatientRequest.objects.exists() and ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE


def test_a_get_never_asks(staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    response = _client(staff.coord_a).get(reverse("admin:patientloop_patientrequest_ask", args=[case.pk]))
    assert response.status_code == 405 and not PatientRequest.objects.exists()


def test_call_tasks_are_listed_and_marking_one_done_logs_the_contact(staff):
    case = make_case(staff.queue_a, consent_email=False, consent_text=False, consent_phone=True)
    other = make_case(staff.queue_b, consent_email=False, consent_text=False, consent_phone=True)
    patient_message(case=case, kind="patient_status", key=f"patient_status:{case.pk}:t")
    patient_message(case=other, kind="patient_status", key=f"patient_status:{other.pk}:t")
    client = _client(staff.coord_a)
    listing = client.get(reverse("admin:patientloop_calltask_changelist")).content.decode()
    assert case.reference in listing and other.reference not in listing  # only their queues' patients
    assert case.reference in client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    task = CallTask.objects.get(case=case)
    client.post(
        reverse("admin:patientloop_calltask_changelist"),
        {"action": "mark_done", "_selected_action": [task.pk]},
    )
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == staff.coord_a
    case.refresh_from_db()
    assert case.first_contact_at is not None
