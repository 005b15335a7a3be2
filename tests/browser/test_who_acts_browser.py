"""Issue 23 point 2 in two staff browsers at 1280 px: the seeded coordinator
and the seeded clinician, each signed in (two browser contexts), work the same
back MRI that the seeded rules routed. The coordinator finds it, logs the
first call, asks the patient a question and sends it to review; the
clinician finds it as theirs to read and writes the review; the coordinator
sees the result. No CSP violation and nothing from another origin."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from intake import seed
from intake.models import ReviewRequest
from intake.services.files import mri_file_add
from intake.services.routing import case_route
from intake.services.submission import review_request_submit
from intake.transitions import Status
from patientloop.models import PatientRequest
from reviews.models import ReviewVersion
from tests.intake import corpus

from .conftest import open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/h2-who-acts")


def _sign_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", seed.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _click_and_wait(page, selector):
    with page.expect_navigation():
        page.click(selector)


@pytest.fixture
def mri_case(transactional_db):
    seed.seed_groups()
    seed.seed_demo_staff(seed.seed_queues_and_rules())
    taken = timezone.localdate().replace(day=1) - timedelta(days=60)
    case = review_request_submit(
        answers=dict(
            first_name="Rosa",
            last_name="Quintero",
            email="rosa@example.com",
            phone="+13125550142",
            date_of_birth=date(1961, 5, 2),
            contact_method="email",
            regions=["lower_back"],
            pain_duration="3m_12m",
            severity=6,
            mri_status="upload",
            mri_taken_on=taken.replace(day=1),
            mri_region="lower_back",
            imaging_centre="Lakeside Imaging",
            consent_privacy=True,
            consent_email=True,
        )  # fmt: skip
    )
    mri_file_add(uploaded=SimpleUploadedFile("scan.pdf", corpus.PDF, content_type="application/pdf"), case=case)
    ReviewRequest.objects.filter(pk=case.pk).update(mri_received_at=timezone.now())
    case_route(case_id=case.pk)
    case.refresh_from_db()
    return case


def test_the_coordinator_and_the_clinician_work_the_same_mri_case(browser, live_server, mri_case):
    SHOTS.mkdir(exist_ok=True)
    base, case = live_server.url, mri_case
    coord_ctx, coord = open_page(browser, live_server, width=1280, height=900)
    clin_ctx, clin = open_page(browser, live_server, width=1280, height=900)
    try:
        _sign_in(coord, base, "coordinator")
        _sign_in(clin, base, "clinician")

        # The coordinator: the case is in their list as theirs, found by its reference.
        coord.goto(f"{base}/admin/intake/reviewrequest/?mine=yes")
        assert case.reference in coord.inner_text("#result_list")
        coord.fill("#searchbar", case.reference)
        _click_and_wait(coord, "#changelist-search input[type=submit]")
        coord.screenshot(path=str(SHOTS / "coordinator-list.png"))
        _click_and_wait(coord, f"#result_list a:has-text('{case.reference}')")
        assert coord.inner_text("#case-queue") == "MRI review: thoracic and lumbar"
        assert coord.inner_text("#case-assignee") == "coordinator"
        # First call, then a question on the status page.
        coord.select_option("#id_method", "phone")
        coord.fill("#id_contact_note", "Called: the images are hers and complete.")
        _click_and_wait(coord, "#log-contact")
        coord.select_option("#id_ask_kind", "information")
        coord.fill("#id_ask_questions", "Which leg has the pain, and since when?")
        _click_and_wait(coord, "#ask-patient")
        assert "the patient is told" in coord.inner_text(".messagelist")
        coord.screenshot(path=str(SHOTS / "coordinator-case.png"), full_page=True)
        # No review form for the coordinator.
        coord.goto(f"{base}/admin/reviews/case/{case.pk}/review/")
        assert coord.locator("#review-form").count() == 0
        coord.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
        _click_and_wait(coord, "#to-in_review")
        assert coord.inner_text("#case-status") == "In review"
        assert coord.inner_text("#case-reader") == "clinician"

        # The clinician: the case is theirs to read.
        clin.goto(f"{base}/admin/intake/reviewrequest/?mine=read")
        assert case.reference in clin.inner_text("#result_list")
        clin.screenshot(path=str(SHOTS / "clinician-list.png"))
        _click_and_wait(clin, f"#result_list a:has-text('{case.reference}')")
        _click_and_wait(clin, "#structured-review-link")
        clin.select_option("#id_f-0-level", "L4-5")
        clin.check("#id_f-0-herniation")
        clin.select_option("#id_f-0-herniation_side", "left")
        clin.fill("#id_impression", "A disc low in the back presses on the left nerve.")
        clin.check("input[name=decision][value=candidate]")
        clin.fill("#id_next_step", "A consultation with our spine surgeon.")
        # The case's file is a PDF report (no images to open): the decide rule asks why.
        clin.fill("#id_no_images_reason", "Report only, no images sent.")
        _click_and_wait(clin, "#save-review")
        assert "Review version 1 saved" in clin.inner_text(".messagelist")
        assert clin.inner_text("#case-status") == "Candidate"

        # The coordinator sees the clinician's result on the same case.
        coord.reload()
        assert coord.inner_text("#case-status") == "Candidate"
        coord.screenshot(path=str(SHOTS / "coordinator-after-review.png"))

        assert ReviewVersion.objects.get(review__case=case).author.username == "clinician"
        assert PatientRequest.objects.get(case=case).asked_by.username == "coordinator"
        case.refresh_from_db()
        assert (case.status, case.assigned_to.username, case.reader.username) == (
            Status.CANDIDATE,
            "coordinator",
            "clinician",
        )
        for page in (coord, clin):
            assert page.watch.csp_violations == [] and page.watch.foreign_requests == []
    finally:
        coord_ctx.close()
        clin_ctx.close()
