"""Issue 15, "Done when", in one browser run: a patient sends a request on a
360 px screen; a coordinator (signed in, desktop size) asks for more
information on the case page; the patient answers on the status page with a
file; a clinician writes the structured review and decides "candidate"; the
coordinator books the consult; the patient reads the letter and downloads the
PDF and the .ics. Every patient page: 0 serious or critical axe violations, no
CSP violation, nothing from another origin, nothing wider than the screen.

Everything goes through the pages (clicks and form fills), except routing,
which is the worker's job and has no page (see the comment there)."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from intake.models import QueueMembership, ReviewRequest
from intake.services.routing import case_route
from intake.transitions import Status
from patientloop.models import PatientRequest
from reviews.models import Consult, ReviewVersion
from tests.factories import UserFactory
from tests.intake import corpus
from tests.intake.test_admin_support import PDF

from .conftest import axe_violations, open_page
from .test_admin_browser import click_and_wait, sign_in
from .test_patient_browser import check_page, choose, fill_mri_details, fill_to_mri, send_consent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOB = "1968-07-14"  # the walk's (fill_to_mri)
QUESTION = "Which arm does the pain go down, and since when?"
ANSWER = "The right arm, since March."
# The letter's plain words for "candidate" (reviews/_letter_body.html).
CANDIDATE_WORDS = "A treatment our clinic offers may help you"


@pytest.fixture
def staff(seeded_tx):
    """A coordinator and a clinician in every seeded queue, so whichever queue
    the rules choose for the request, both can see the case."""
    coordinator = UserFactory(username="coord_loop", groups=["Coordinator"])
    clinician = UserFactory(username="clin_loop", groups=["Clinician"], first_name="Dana", last_name="Okafor")
    for queue in seeded_tx.values():
        for user in (coordinator, clinician):
            QueueMembership.objects.create(queue=queue, user=user)
    return coordinator, clinician


@pytest.fixture
def pages(browser, live_server):
    """The patient's phone, the coordinator's and the clinician's desks: three
    browsers (contexts), so each keeps its own session."""
    opened = {
        "patient": open_page(browser, live_server, width=360, height=740),
        "coordinator": open_page(browser, live_server, width=1280, height=900),
        "clinician": open_page(browser, live_server, width=1280, height=900),
    }
    yield {who: pg for who, (_context, pg) in opened.items()}
    for context, _pg in opened.values():
        context.close()


def _staff_page_clean(page, where):
    assert axe_violations(page) == [], where
    assert page.watch.csp_violations == [], where
    assert page.watch.foreign_requests == [], where


def _pdf_text(path) -> str:
    pdf = pypdfium2.PdfDocument(path)
    try:
        text = " ".join(p.get_textpage().get_text_range() for p in pdf)
    finally:
        pdf.close()
    return " ".join(text.split())


def test_request_question_answer_review_consult_and_letter_in_one_run(staff, pages, live_server, tmp_path):
    coordinator, clinician = staff
    base = live_server.url
    patient = pages["patient"]

    # 1. The patient sends the request at 360 px, with an MRI report, email allowed.
    fill_to_mri(patient, live_server, check=check_page)
    choose(patient, "mri_status", "upload")
    mri = tmp_path / "neck-mri.pdf"
    mri.write_bytes(corpus.PDF)
    patient.locator("#id_file").set_input_files(str(mri))
    patient.get_by_role("button", name="Upload file").click()
    patient.get_by_role("button", name="Remove neck-mri.pdf").wait_for()
    fill_mri_details(patient)
    check_page(patient, "mri")
    patient.get_by_role("button", name="Continue").click()
    send_consent(patient, check=check_page)
    reference = patient.get_by_test_id("reference").inner_text()
    check_page(patient, "confirmation")
    # The confirmation page shows the private status link; the patient keeps it.
    status_url = patient.get_by_test_id("status-link").get_attribute("href")
    assert re.search(r"/mri-review/status/[^/]+/$", status_url), status_url
    if status_url.startswith("/"):
        status_url = base + status_url
    case = ReviewRequest.objects.get(reference=reference)
    assert case.consent_email and case.files.count() == 1

    # Routing is the worker's job (enqueued after the request's commit) and has
    # no page; no worker runs here, so it is called as the worker calls it.
    assert case_route(case_id=case.pk)
    case.refresh_from_db()
    assert case.status == Status.TRIAGE and case.queue is not None

    # 2. The coordinator, at a desk, asks for more information on the case page.
    desk = pages["coordinator"]
    sign_in(desk, base, coordinator.username)
    desk.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
    desk.get_by_label("Ask for").select_option("information")
    desk.get_by_label("Questions for the patient").fill(QUESTION)
    click_and_wait(desk, "#ask-patient")
    assert QUESTION in desk.locator("#patient-requests").inner_text()
    _staff_page_clean(desk, "case page after asking")
    asked = PatientRequest.objects.get(case=case)
    assert asked.state == PatientRequest.State.OPEN and asked.kind == "information"

    # 3. The patient opens the status page (signed link + date of birth) and
    #    answers with a file, through the upload box's progress-bar script.
    patient.goto(status_url)
    check_page(patient, "date of birth")
    patient.get_by_label("Your date of birth").fill(DOB)
    patient.get_by_role("button", name="Show my request").click()
    assert QUESTION in patient.get_by_test_id("questions").inner_text()
    check_page(patient, "questions")
    patient.wait_for_load_state("load")  # the upload box's script is deferred
    files = patient.locator("#file-list li")
    expect(files).to_have_count(1)  # the MRI report sent with the request
    patient.set_input_files(
        "#id_file", files=[{"name": "nerve-test.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    patient.get_by_role("button", name="Upload file").click()
    expect(files).to_have_count(2)
    check_page(patient, "after the upload")
    patient.get_by_label("Your answer").fill(ANSWER)
    patient.get_by_role("button", name="Send my answer").click()
    patient.get_by_text("Your answer was sent to the clinic").wait_for()
    check_page(patient, "answered")
    asked.refresh_from_db()
    assert asked.state == PatientRequest.State.ANSWERED and asked.answer == ANSWER
    assert ReviewRequest.objects.get(pk=case.pk).files.count() == 2

    # 4. The clinician writes the structured review from the case page and decides "candidate".
    clinic = pages["clinician"]
    sign_in(clinic, base, clinician.username)
    clinic.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
    assert ANSWER in clinic.content()  # the patient's answer is on the case's timeline
    click_and_wait(clinic, "#structured-review-link")
    clinic.select_option("#id_f-0-level", "C5-6")
    clinic.check("#id_f-0-herniation")
    clinic.select_option("#id_f-0-herniation_side", "right")
    clinic.fill("#id_impression", "A disc in the neck presses on the nerve to the right arm.")
    clinic.check("input[name=decision][value=candidate]")
    clinic.fill("#id_next_step", "A consultation with our spine surgeon.")
    # The patient sent the centre's reports, no images: the decision says so.
    clinic.fill("#id_no_images_reason", "Report only, no images sent.")
    _staff_page_clean(clinic, "review form")
    click_and_wait(clinic, "#save-review")
    assert "Review version 1 saved" in clinic.inner_text(".messagelist")
    assert clinic.inner_text("#case-status") == "Candidate"

    # 5. The coordinator books the consult on the same page (a read-only review for them).
    day = timezone.localdate() + timedelta(days=7)  # the clinic's date (TIME_ZONE is the clinic's zone)
    desk.goto(f"{base}/admin/reviews/case/{case.pk}/review/")
    assert desk.locator("#review-form").count() == 0
    desk.fill("#id_day", day.isoformat())
    desk.fill("#id_time", "14:30")
    desk.fill("#id_place", "Riverside Spine Clinic, 2nd floor, Room 4")
    desk.select_option("#id_clinician", str(clinician.pk))
    click_and_wait(desk, "#book-consult")
    assert "Consult booked" in desk.inner_text(".messagelist")
    _staff_page_clean(desk, "consult booked")
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.CONSULT_SCHEDULED

    # 6. The patient comes back to the status page, reads the letter and
    #    downloads both files. The date-of-birth check still holds in this
    #    browser (INTAKE_PATIENT_VERIFIED_MINUTES), so the page opens directly.
    patient.goto(status_url)
    assert patient.get_by_label("Your date of birth").count() == 0
    letter = patient.get_by_test_id("result-letter").inner_text()
    assert CANDIDATE_WORDS in letter
    assert "presses on the nerve to the right arm" in letter
    assert "Your consultation is booked" in letter
    consult_box = patient.get_by_test_id("consult").inner_text()
    assert "Room 4" in consult_box and "Dana Okafor" in consult_box
    check_page(patient, "letter and consult")

    # Rendered on request; the first PDF in the test process also imports
    # WeasyPrint and loads its fonts: 9.2 s of the default 10 s on a loaded
    # 2-core machine (and over 10 s once).
    with patient.expect_download(timeout=30_000) as pdf_download:
        patient.get_by_test_id("letter-pdf").click()
    pdf_path = tmp_path / "letter.pdf"
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    pdf_text = _pdf_text(pdf_path)
    assert CANDIDATE_WORDS in pdf_text
    assert reference in pdf_text

    with patient.expect_download() as ics_download:
        patient.get_by_test_id("consult-ics").click()
    ics_path = tmp_path / "consult.ics"
    ics_download.value.save_as(ics_path)
    ics = ics_path.read_bytes().decode()  # bytes: RFC 5545 lines end in CRLF
    starts = datetime.combine(day, time(14, 30), tzinfo=ZoneInfo(settings.INTAKE_CLINIC_TIME_ZONE))
    assert f"DTSTART:{starts.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n" in ics
    assert "BEGIN:VEVENT" in ics and "Room 4" in ics.replace("\r\n ", "")
    check_page(patient, "after the downloads")

    # What the pages did, as the clinic's records hold it.
    assert ReviewVersion.objects.filter(review__case=case, decision="candidate").count() == 1
    consult = Consult.objects.get(case=case)
    assert consult.clinician == clinician and consult.starts_at == starts
