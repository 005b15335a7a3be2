"""Issue 15 point 3: the two-way status page, behind the signed link and the
date of birth; every patient action audited, on the timeline, rate-limited,
CSRF-protected; the SLA paused while waiting and resumed by the answer."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEntry
from intake.models import CaseEvent, Notification, ReviewRequest
from intake.services.errors import ServiceError
from intake.status_links import status_link, status_token
from intake.transitions import Status
from patientloop.models import PatientRequest
from patientloop.services.requests import patient_request_open
from tests.intake.test_admin_support import PDF, make_case

DOB = "1970-03-21"  # CaseFactory's
SECRET = "my left knee gives way on stairs"  # the patient's words: never in the audit trail


def _url(case, name, *args):
    return reverse(f"intake:patientloop:{name}", args=[status_token(case), *args])


def _verified(client, case):
    response = client.post(status_link(case), {"date_of_birth": DOB})
    assert response.status_code == 200 and b"How we contact you" in response.content
    return client


def _pdf(name="report.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def in_review(staff):
    return make_case(staff.queue_a, status=Status.IN_REVIEW, assigned_to=staff.clinician, mri_status="none")


def test_after_the_date_of_birth_the_page_does_not_ask_again_for_a_while(client, staff, settings):
    case = make_case(staff.queue_a)
    assert b"How we contact you" not in client.get(status_link(case)).content  # the date-of-birth form
    _verified(client, case)
    again = client.get(status_link(case))
    assert b"How we contact you" in again.content and b"date_of_birth" not in again.content
    # Only the case id and the time are kept.
    assert set(client.session["status_verified"]) == {"case", "at"}
    settings.INTAKE_PATIENT_VERIFIED_MINUTES = 0
    mark = client.session["status_verified"]
    session = client.session
    session["status_verified"] = {**mark, "at": mark["at"] - 1}
    session.save()
    assert b"How we contact you" not in client.get(status_link(case)).content


def test_actions_without_the_date_of_birth_change_nothing(client, staff):
    case = make_case(staff.queue_a)
    response = client.post(_url(case, "withdraw"), {"confirm": "on"})
    assert response.status_code == 302 and response.url == status_link(case)
    assert b"please confirm your date of birth again" in client.get(response.url).content
    other = make_case(staff.queue_a)
    _verified(client, other)  # verified for another case
    client.post(_url(case, "withdraw"), {"confirm": "on"})
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE


def test_a_coordinator_cannot_ask_for_information_on_a_case_in_review(in_review, staff):
    with pytest.raises(ServiceError):
        patient_request_open(case_id=in_review.pk, kind="information", questions="Which leg?", actor=staff.coord_a)
    assert not PatientRequest.objects.exists()


def test_the_patient_answers_with_a_file_and_the_case_returns_to_review_with_its_clock(client, in_review, staff):
    # The clinician asks from the case page (the panel's form).
    staff_client = Client()
    staff_client.force_login(staff.clinician)
    page = staff_client.get(reverse("admin:intake_reviewrequest_change", args=[in_review.pk]))
    assert b'id="ask-patient"' in page.content
    staff_client.post(
        reverse("admin:patientloop_patientrequest_ask", args=[in_review.pk]),
        {"kind": "information", "questions": "Which leg hurts, and since when?"},
    )
    case = ReviewRequest.objects.get(pk=in_review.pk)
    assert case.status == Status.NEEDS_MORE_INFO and case.sla_paused_at is not None  # the clock waits
    # Paused since a known working morning, so resuming must move the due time.
    paused_at = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
    ReviewRequest.objects.filter(pk=case.pk).update(sla_paused_at=paused_at)
    due_before = case.sla_due_at
    request = PatientRequest.objects.get(case=case)

    _verified(client, case)
    page = client.get(status_link(case)).content.decode()
    assert "Which leg hurts, and since when?" in page and "What we are waiting for" in page
    uploaded = client.post(_url(case, "upload"), {"file": _pdf()}, HTTP_ACCEPT="application/json")
    assert uploaded.status_code == 200 and uploaded.json()["ok"]
    assert "report.pdf" not in uploaded.json()["html"]  # a label and a date, not the name
    response = client.post(_url(case, "answer", request.pk), {f"r{request.pk}-answer": SECRET})
    assert response.status_code == 302

    case = ReviewRequest.objects.get(pk=case.pk)
    assert case.status == Status.IN_REVIEW
    assert case.sla_paused_at is None and case.sla_due_at > due_before  # resumed, moved by the pause
    assert case.files.count() == 1
    request.refresh_from_db()
    assert request.state == "answered" and request.answer == SECRET
    # The timeline and the audit trail, without the patient's words in the audit.
    summaries = list(case.events.values_list("summary", flat=True))
    assert any("patient answered" in s for s in summaries)
    assert case.events.filter(kind=CaseEvent.Kind.STATUS, to_status=Status.IN_REVIEW).exists()
    audit = list(AuditEntry.objects.filter(object_ref=case.reference).values_list("summary", flat=True))
    assert any(f"answered request #{request.pk}" in s for s in audit)
    assert any("uploaded file" in s for s in audit)
    assert not any(SECRET in s or "Which leg" in s for s in audit)
    # The assigned clinician is told (no health data in the email).
    note = Notification.objects.get(case=case, kind="staff_patient_answered")
    assert note.recipient == staff.clinician.email
    # The patient sees their answer afterwards, under the question (issue 23).
    after = client.get(status_link(case)).content.decode()
    assert 'data-testid="your-answer"' in after and SECRET in after and "Which leg hurts, and since when?" in after
    # The staff member sees the answer on the case page.
    assert SECRET.encode() in staff_client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content


def test_images_asked_for_and_uploaded_move_the_case_to_mri_received(client, staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE, mri_status="none")
    request = patient_request_open(
        case_id=case.pk, kind="images", questions="Please send your MRI.", actor=staff.coord_a
    )
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.AWAITING_MRI
    _verified(client, case)
    # An answer without a file: recorded, still waiting for the images.
    client.post(_url(case, "answer", request.pk), {f"r{request.pk}-answer": ""})
    assert PatientRequest.objects.get(pk=request.pk).state == "open"
    client.post(_url(case, "upload"), {"file": _pdf()})  # without JavaScript: a redirect
    client.post(_url(case, "answer", request.pk), {f"r{request.pk}-answer": "Here it is."})
    case = ReviewRequest.objects.get(pk=case.pk)
    assert case.status == Status.MRI_RECEIVED and case.mri_received_at is not None


def test_no_uploads_when_the_clinic_asks_for_nothing(client, staff):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    _verified(client, case)
    response = client.post(_url(case, "upload"), {"file": _pdf()}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and not case.files.exists()


def test_withdraw_needs_a_confirmation(client, staff):
    case = make_case(staff.queue_a)
    _verified(client, case)
    confirm = client.get(_url(case, "withdraw"))
    assert confirm.status_code == 200 and b"Withdraw your request?" in confirm.content
    client.post(_url(case, "withdraw"), {})  # the box not ticked
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE
    client.post(_url(case, "withdraw"), {"confirm": "on"})
    case = ReviewRequest.objects.get(pk=case.pk)
    assert case.status == Status.WITHDRAWN and case.sla_stopped
    assert case.events.filter(summary__icontains="patient withdrew").exists()
    assert AuditEntry.objects.filter(object_ref=case.reference, summary="Patient withdrew the request").exists()
    assert b"Withdraw my request" not in client.get(status_link(case)).content  # nothing left to withdraw


def test_contact_preferences_change_and_are_used(client, staff):
    case = make_case(staff.queue_a, consent_email=True, consent_text=False, consent_phone=False)
    _verified(client, case)
    client.post(_url(case, "contact"), {"consent_text": "on", "contact_method": "text"})
    case = ReviewRequest.objects.get(pk=case.pk)
    assert (case.consent_email, case.consent_text, case.contact_method) == (False, True, "text")
    assert AuditEntry.objects.filter(object_ref=case.reference, summary__startswith="Patient changed contact").exists()
    # A preference the patient does not allow is refused.
    client.post(_url(case, "contact"), {"consent_text": "on", "contact_method": "email"})
    assert ReviewRequest.objects.get(pk=case.pk).contact_method == "text"
    from patientloop.channels import patient_channels

    assert patient_channels(case) == ["text"]


def test_patient_actions_are_rate_limited(client, staff, settings):
    settings.INTAKE_PATIENT_ACTION_LIMIT_PER_HOUR = 2
    case = make_case(staff.queue_a)
    _verified(client, case)
    codes = [
        client.post(_url(case, "contact"), {"consent_email": "on", "contact_method": "email"}).status_code
        for _ in range(3)
    ]
    assert codes == [302, 302, 429]
    assert client.post(_url(case, "withdraw"), {"confirm": "on"}).status_code == 429
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE


def test_patient_actions_need_the_csrf_token(staff):
    case = make_case(staff.queue_a)
    client = Client(enforce_csrf_checks=True)
    page = client.get(status_link(case))
    token = page.cookies["csrftoken"].value
    response = client.post(status_link(case), {"date_of_birth": DOB, "csrfmiddlewaretoken": token})
    assert b"How we contact you" in response.content
    token = response.cookies["csrftoken"].value if "csrftoken" in response.cookies else token
    assert client.post(_url(case, "withdraw"), {"confirm": "on"}).status_code == 403
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE
    client.post(_url(case, "withdraw"), {"confirm": "on", "csrfmiddlewaretoken": token})
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.WITHDRAWN


def test_what_the_clinic_holds_is_labels_and_dates(client, staff):
    from tests.intake.test_admin_support import add_pdf

    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    add_pdf(case, name="private-name.pdf")
    body = _verified(client, case).get(status_link(case)).content.decode()
    assert "PDF report" in body and "private-name" not in body


def test_a_file_for_a_case_awaiting_its_mri_without_questions_moves_it_on(client, staff):
    case = make_case(staff.queue_a, status=Status.AWAITING_MRI, assigned_to=staff.coord_a, sla_paused_at=None)
    _verified(client, case)
    response = client.post(_url(case, "upload"), {"file": _pdf()}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    case = ReviewRequest.objects.get(pk=case.pk)
    assert case.status == Status.MRI_RECEIVED and case.files.count() == 1
    assert Notification.objects.filter(case=case, kind="staff_patient_answered", recipient=staff.coord_a.email).exists()


def test_the_retention_purge_removes_the_answers_and_what_was_waiting(client, in_review, staff):
    from intake.services.notifications import notification_send
    from intake.services.retention import case_purge
    from patientloop.models import CallTask, PendingUpdate
    from patientloop.services.contact import patient_message, patient_update_request

    request = patient_request_open(
        case_id=in_review.pk, kind="information", questions="Which leg?", actor=staff.clinician
    )
    PatientRequest.objects.filter(pk=request.pk).update(answer=SECRET, state="answered")
    ReviewRequest.objects.filter(pk=in_review.pk).update(consent_text=True, consent_email=False)
    case = ReviewRequest.objects.get(pk=in_review.pk)
    patient_message(case=case, kind="patient_status", key="t:1")
    patient_update_request(case=case)
    assert case_purge(case_id=case.pk)
    request.refresh_from_db()
    assert (request.questions, request.answer) == ("", "")
    texts = Notification.objects.filter(case=case, channel="text")
    assert texts.exists() and not texts.filter(recipient=case.phone).exists()
    assert notification_send(notification_id=texts.get().pk) is False  # nothing sent to a purged case
    assert not PendingUpdate.objects.filter(state="pending").exists()
    assert not CallTask.objects.filter(done_at__isnull=True).exists()
