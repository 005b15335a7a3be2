"""Issue 23 point 2: every case has someone who acts on it, and the patient is
told who. A back MRI routed by the seeded rules reaches the seeded coordinator
(first contact, the images, the questions) and the seeded clinician (the read);
a coordinator of other queues cannot see it. Plus point 6's small things on
the staff side: the timeline's words, a queue move's promise and who hears of
it, the "patient answered" marker, the case page's order, the CSV's name."""

from datetime import UTC, date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from intake import seed
from intake.models import CaseEvent, Notification, QueueMembership, ReviewRequest, StaffQueue
from intake.selectors import patient_stage
from intake.services.files import mri_file_add
from intake.services.lifecycle import case_move_queue, case_transition
from intake.services.routing import case_route
from intake.services.submission import review_request_submit
from intake.transitions import Status
from patientloop.models import PatientRequest, PendingUpdate
from patientloop.services.requests import patient_request_answer, patient_request_open
from reviews.models import ReviewVersion
from tests.intake import corpus

pytestmark = pytest.mark.django_db


def _back_mri_answers():
    taken = timezone.localdate().replace(day=1) - timedelta(days=60)
    return dict(
        first_name="Rosa", last_name="Quintero", email="rosa@example.com", phone="+13125550142",
        date_of_birth=date(1961, 5, 2), contact_method="email", regions=["lower_back"], pain_duration="3m_12m",
        severity=6, mri_status="upload", mri_taken_on=taken.replace(day=1), mri_region="lower_back",
        imaging_centre="Lakeside Imaging", consent_privacy=True, consent_email=True,
    )  # fmt: skip


@pytest.fixture
def demo(db):
    """What `seed_demo` makes: groups, queues, rules and the demo staff."""
    seed.seed_groups()
    queues = seed.seed_queues_and_rules()
    seed.seed_demo_staff(queues)
    User = get_user_model()
    return {u.username: u for u in User.objects.filter(username__in=["coordinator", "coordinator2", "clinician"])}


@pytest.fixture
def mri_case(demo):
    """A back MRI with its images, sent and routed as a patient's would be."""
    case = review_request_submit(answers=_back_mri_answers())
    mri_file_add(uploaded=SimpleUploadedFile("scan.pdf", corpus.PDF, content_type="application/pdf"), case=case)
    ReviewRequest.objects.filter(pk=case.pk).update(mri_received_at=timezone.now())
    assert case_route(case_id=case.pk)
    case.refresh_from_db()
    return case


def change_url(case):
    return reverse("admin:intake_reviewrequest_change", args=[case.pk])


def review_url(case):
    return reverse("admin:reviews_case_review", args=[case.pk])


LIST = reverse("admin:intake_reviewrequest_changelist")


def _listed(client, **params):
    return [c.reference for c in client.get(LIST, params).context["cl"].result_list]


def review_post(version=0):
    return {
        "version": version, "impression": "Worn discs low in the back.", "decision": "candidate",
        "decision_detail": "", "next_step": "A consultation with our surgeon.",
        "f-TOTAL_FORMS": "1", "f-INITIAL_FORMS": "0", "f-MIN_NUM_FORMS": "0", "f-MAX_NUM_FORMS": "23",
        "f-0-level": "L4-5", "f-0-herniation": "on", "f-0-herniation_side": "left",
        # The case's file is a PDF report, never opened here: the decide rule asks why.
        "no_images_reason": "Report only: the images were read on the imaging centre's viewer.",
    }  # fmt: skip


# --- Who has the case ---------------------------------------------------------------------
def test_the_seeded_rules_give_a_back_mri_to_a_coordinator_in_a_queue_with_a_clinician(demo, mri_case):
    assert mri_case.queue.slug == "mri-thoracolumbar"
    assert mri_case.assigned_to == demo["coordinator"]  # first contact: a coordinator, not the clinician
    members = set(mri_case.queue.memberships.values_list("user__username", flat=True))
    assert {"coordinator", "clinician"} <= members and "coordinator2" not in members
    # New case: the coordinator hears of it; the clinician hears when it is ready to read.
    told = set(Notification.objects.filter(case=mri_case, kind="staff_new_case").values_list("recipient", flat=True))
    assert told == {demo["coordinator"].email}
    assert patient_stage(mri_case)["headline"] == "A coordinator is checking your images"


def test_a_coordinator_sees_searches_opens_and_works_the_mri_case_but_cannot_write_the_review(client, demo, mri_case):
    client.force_login(demo["coordinator"])
    assert mri_case.reference in _listed(client)
    assert _listed(client, q=mri_case.reference) == [mri_case.reference]
    assert client.get(change_url(mri_case)).status_code == 200
    # Asks the patient a question on the status page, and logs the call.
    ask = reverse("admin:patientloop_patientrequest_ask", args=[mri_case.pk])
    assert client.post(ask, {"kind": "information", "questions": "Is the scan from March?"}).status_code == 302
    assert PatientRequest.objects.filter(case=mri_case, asked_by=demo["coordinator"]).exists()
    mri_case.refresh_from_db()
    contact = reverse("admin:intake_reviewrequest_contact", args=[mri_case.pk])
    client.post(contact, {"method": "phone", "note": "Called; images are hers.", "version": mri_case.version})
    mri_case.refresh_from_db()
    assert mri_case.first_contact_at is not None
    # Cannot write the review, nor record a decision.
    page = client.get(review_url(mri_case)).content.decode()
    assert 'id="review-form"' not in page
    assert client.post(review_url(mri_case), review_post()).status_code == 403
    assert not ReviewVersion.objects.filter(review__case=mri_case).exists()
    case_transition(case_id=mri_case.pk, to_status=Status.IN_REVIEW, actor=demo["coordinator"])
    mri_case.refresh_from_db()
    transition = reverse("admin:intake_reviewrequest_transition", args=[mri_case.pk])
    client.post(
        transition,
        {"to_status": "candidate", "reason_category": "surgical_candidate", "note": "x", "version": mri_case.version},
    )
    mri_case.refresh_from_db()
    assert mri_case.status == Status.IN_REVIEW


def test_sent_to_review_the_case_gets_the_clinician_as_reader_who_writes_the_review(client, demo, mri_case):
    case_transition(case_id=mri_case.pk, to_status=Status.IN_REVIEW, actor=demo["coordinator"])
    mri_case.refresh_from_db()
    assert mri_case.reader == demo["clinician"] and mri_case.assigned_to == demo["coordinator"]
    assert Notification.objects.filter(case=mri_case, kind="staff_to_read", recipient=demo["clinician"].email).exists()
    assert patient_stage(mri_case)["headline"] == "A spine clinician is reading your MRI"
    client.force_login(demo["clinician"])
    assert _listed(client, mine="read") == [mri_case.reference]
    assert client.get(change_url(mri_case)).status_code == 200
    assert client.post(review_url(mri_case), review_post()).status_code == 302
    mri_case.refresh_from_db()
    assert mri_case.status == Status.CANDIDATE
    assert ReviewVersion.objects.get(review__case=mri_case).author == demo["clinician"]


def test_a_coordinator_of_other_queues_cannot_see_the_mri_case(client, demo, mri_case):
    client.force_login(demo["coordinator2"])
    assert mri_case.reference not in _listed(client)
    assert _listed(client, q=mri_case.reference) == []
    assert client.get(change_url(mri_case)).status_code == 404
    assert client.get(review_url(mri_case)).status_code == 404


def test_a_case_back_from_the_patients_answer_returns_to_the_same_reader(demo, mri_case):
    other = get_user_model().objects.create_user("clinician_b", "b@spineclinic.example", is_staff=True)
    other.groups.add(*demo["clinician"].groups.all())
    QueueMembership.objects.create(queue=mri_case.queue, user=other)
    case_transition(case_id=mri_case.pk, to_status=Status.IN_REVIEW, actor=demo["clinician"])
    mri_case.refresh_from_db()
    assert mri_case.reader == demo["clinician"]  # the clinician who sent it to review reads it
    request = patient_request_open(
        case_id=mri_case.pk, kind="information", questions="Which side hurts?", actor=demo["clinician"]
    )
    patient_request_answer(case_id=mri_case.pk, request_id=request.pk, answer="The left.")
    mri_case.refresh_from_db()
    assert (mri_case.status, mri_case.reader) == (Status.IN_REVIEW, demo["clinician"])


def test_in_review_with_no_clinician_in_the_queue_waits_and_supervisors_hear(demo):
    sup = get_user_model().objects.get(username="supervisor")
    case = review_request_submit(answers={**_back_mri_answers(), "mri_status": "none", "regions": ["hips_legs"]})
    case_route(case_id=case.pk)
    case.refresh_from_db()
    assert not case.queue.memberships.filter(user=demo["clinician"]).exists()
    case_transition(case_id=case.pk, to_status=Status.IN_REVIEW, actor=demo["coordinator"])
    case.refresh_from_db()
    assert case.reader is None
    assert CaseEvent.objects.filter(case=case, kind="unassigned", summary__startswith="No clinician in").exists()
    assert Notification.objects.filter(case=case, kind="supervisor_unassigned", recipient=sup.email).exists()


# --- The patient is told who ------------------------------------------------------------------
def test_the_status_page_names_who_has_the_request_at_each_stage(client, demo, mri_case):
    from intake.status_links import status_link

    def stage():
        page = client.post(status_link(mri_case), {"date_of_birth": "1961-05-02"}).content.decode()
        return page

    assert "A coordinator is checking your images" in stage()
    case_transition(case_id=mri_case.pk, to_status=Status.IN_REVIEW, actor=demo["coordinator"])
    assert "A spine clinician is reading your MRI" in stage()
    assert "A coordinator is looking at your request" not in stage()


def test_an_urgent_call_back_is_a_clinicians(demo):
    case = review_request_submit(answers={**_back_mri_answers(), "red_flags": ["weakness"]})
    case_route(case_id=case.pk)
    case.refresh_from_db()
    assert case.queue.slug == "urgent" and case.assigned_to == demo["clinician"]
    assert patient_stage(case)["headline"] == "A clinician will call you back"


# --- Seeds: an existing database gets the fix on the next run -------------------------------------
def test_seeding_again_gives_an_existing_database_the_coordinator_in_the_mri_queues(db):
    seed.seed_groups()
    queues = seed.seed_queues_and_rules()
    seed.seed_demo_staff(queues)
    # As an earlier seed left it: the coordinator outside the MRI queues, the old descriptions.
    QueueMembership.objects.filter(user__username="coordinator", queue__slug__startswith="mri-").delete()
    StaffQueue.objects.filter(slug="mri-cervical").update(description="Neck MRIs for clinical review.")
    StaffQueue.objects.filter(slug="general").update(description="Our own words.")
    for _ in range(2):
        seed.seed_groups()
        seed.seed_demo_staff(seed.seed_queues_and_rules())
    slugs = set(QueueMembership.objects.filter(user__username="coordinator").values_list("queue__slug", flat=True))
    assert {"mri-cervical", "mri-thoracolumbar"} <= slugs
    assert QueueMembership.objects.filter(user__username="coordinator", queue__slug="mri-cervical").count() == 1
    assert "a clinician reads" in StaffQueue.objects.get(slug="mri-cervical").description
    assert StaffQueue.objects.get(slug="general").description == "Our own words."  # a supervisor's words stay


# --- Point 6: the small things --------------------------------------------------------------------
def test_the_timeline_says_in_words_who_was_told(client, demo, mri_case):
    request = patient_request_open(
        case_id=mri_case.pk, kind="information", questions="Any new pain?", actor=demo["coordinator"]
    )
    patient_request_answer(case_id=mri_case.pk, request_id=request.pk, answer="No.")
    client.force_login(demo["coordinator"])
    html = client.get(change_url(mri_case)).content.decode()
    assert "staff_patient_answered" not in html
    assert "Staff told: the patient answered or sent files (coordinator@spineclinic.example)" in html


def test_moving_a_case_keeps_the_promise_and_tells_only_the_new_assignee(demo, mri_case):
    general = StaffQueue.objects.get(slug="general")
    QueueMembership.objects.create(
        queue=general, user=get_user_model().objects.create_user("c3", "c3@spineclinic.example", is_staff=True)
    )
    promised = mri_case.sla_due_at
    case_move_queue(case_id=mri_case.pk, queue=general, actor=demo["coordinator"])
    mri_case.refresh_from_db()
    assert mri_case.sla_due_at == promised
    moved = CaseEvent.objects.get(case=mri_case, kind="moved")
    assert "Promised date kept" in moved.summary
    told = Notification.objects.filter(case=mri_case, kind="staff_new_case", created_at__gte=moved.created_at)
    assert [n.recipient for n in told] == [mri_case.assigned_to.email]  # not every member of the queue
    assert not PendingUpdate.objects.filter(case=mri_case).exists()


def test_moving_a_case_with_the_new_queues_date_records_it_and_tells_the_patient(client, demo, mri_case):
    conservative = StaffQueue.objects.get(slug="conservative")  # 72 h: a later date
    promised = mri_case.sla_due_at
    client.force_login(demo["coordinator"])
    move = reverse("admin:intake_reviewrequest_move", args=[mri_case.pk])
    client.post(move, {"queue": conservative.pk, "new_promise": "on", "version": mri_case.version})
    mri_case.refresh_from_db()
    assert mri_case.queue == conservative and mri_case.sla_due_at > promised
    moved = CaseEvent.objects.get(case=mri_case, kind="moved")
    assert "Promised date changed from" in moved.summary and "the patient is told" in moved.summary
    assert PendingUpdate.objects.filter(case=mri_case).exists()  # "there is an update" on its way


def test_the_list_marks_and_filters_cases_where_the_patient_answered(client, demo, mri_case):
    other = review_request_submit(answers={**_back_mri_answers(), "email": "other@example.com"})
    case_route(case_id=other.pk)
    request = patient_request_open(
        case_id=mri_case.pk, kind="information", questions="Any new pain?", actor=demo["coordinator"]
    )
    client.force_login(demo["coordinator"])
    assert _listed(client, answered="yes") == []  # asked, not answered yet
    patient_request_answer(case_id=mri_case.pk, request_id=request.pk, answer="No.")
    assert _listed(client, answered="yes") == [mri_case.reference]
    html = client.get(LIST).content.decode()
    assert html.count('class="patient-answered"') == 1
    # Staff act on it (a note): no longer marked.
    note = reverse("admin:intake_reviewrequest_note", args=[mri_case.pk])
    client.post(note, {"body": "Read the answer; nothing new."})
    assert _listed(client, answered="yes") == []
    assert 'class="patient-answered"' not in client.get(LIST).content.decode()


def test_the_case_page_puts_the_patients_answers_to_our_questions_before_the_request(client, demo, mri_case):
    client.force_login(demo["coordinator"])
    html = client.get(change_url(mri_case)).content.decode()
    assert html.index('id="case-actions-h"') < html.index('id="patient-requests"') < html.index("Red flags")


def test_the_csv_export_is_named_by_the_clinics_clock(client, demo, mri_case, settings):
    from intake.clock import now as clinic_now

    client.force_login(get_user_model().objects.get(username="supervisor"))
    response = client.post(reverse("admin:intake_reviewrequest_export"))
    disposition = response["Content-Disposition"]
    local = timezone.localtime(clinic_now(), timezone.get_default_timezone())
    assert settings.TIME_ZONE == "America/Chicago"
    assert f"cases-{local:%Y%m%d-%H}" in disposition
    utc = clinic_now().astimezone(UTC)
    assert f"cases-{utc:%Y%m%d-%H}" not in disposition  # Chicago is never UTC
