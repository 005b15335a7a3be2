"""Issue 15: the patient answers the clinic's questions on the status page in
Chromium at 360 px, with a file through the upload box's progress bar, checked
with axe-core (no serious or critical violations) at every screen."""

import pytest
from playwright.sync_api import expect

from intake.models import ReviewRequest
from intake.status_links import status_link
from intake.transitions import Status
from patientloop.models import PatientRequest
from patientloop.services.requests import patient_request_open
from tests.intake.test_admin_support import PDF, make_case, make_staff

from .conftest import axe_violations, open_page
from .test_patient_browser import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def test_the_patient_answers_a_request_for_more_information_with_a_file(seeded_tx, phone_page, live_server):
    staff = make_staff()
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, assigned_to=staff.clinician, mri_status="none")
    request = patient_request_open(
        case_id=case.pk, kind="information", questions="Which leg hurts, and since when?", actor=staff.clinician
    )
    case.refresh_from_db()
    assert case.status == Status.NEEDS_MORE_INFO and case.sla_paused_at is not None
    page = phone_page

    page.goto(live_server.url + status_link(case))
    check_page(page, "date of birth")
    page.get_by_label("Your date of birth").fill("1970-03-21")
    page.get_by_role("button", name="Show my request").click()
    assert "Which leg hurts, and since when?" in page.get_by_test_id("questions").inner_text()
    check_page(page, "questions")
    # The upload script is deferred: until it has run, "Upload file" would
    # post the form and reload the page.
    page.wait_for_load_state("load")

    # Issue 23: the files box comes before the answer, in reading order (no "below first").
    hint = page.get_by_test_id("files-hint").inner_text()
    assert "first" in hint and "below" not in hint
    assert page.locator("#id_file").bounding_box()["y"] < page.get_by_label("Your answer").bounding_box()["y"]

    # The file through the progress-bar script: the row appears without a reload.
    page.set_input_files("#id_file", files=[{"name": "scan-report.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.evaluate("() => { window.sameDocument = true; }")
    page.get_by_role("button", name="Upload file").click()
    page.locator("#file-list li", has_text="PDF report").wait_for()
    assert page.locator("#no-files").count() == 0
    assert page.evaluate("() => window.sameDocument === true")  # sent by the script, not a page reload
    check_page(page, "after the upload")

    page.get_by_label("Your answer").fill("The left leg, since August.")
    page.get_by_role("button", name="Send my answer").click()
    page.get_by_text("Your answer was sent to the clinic").wait_for()
    check_page(page, "answered")
    # The answer stays on the page, under the question it answers (issue 23).
    expect(page.get_by_test_id("your-answer")).to_have_text("The left leg, since August.")
    expect(page.get_by_test_id("answered-request")).to_contain_text("Which leg hurts, and since when?")

    case = ReviewRequest.objects.get(pk=case.pk)
    assert case.status == Status.IN_REVIEW and case.sla_paused_at is None
    assert case.files.count() == 1
    assert PatientRequest.objects.get(pk=request.pk).answer == "The left leg, since August."
    # No date-of-birth question again within the half hour: the page opens directly.
    page.goto(live_server.url + status_link(case))
    assert page.get_by_role("heading", name="How we contact you").is_visible()


def test_the_patient_withdraws_with_a_confirmation_at_360_px(seeded_tx, phone_page, live_server):
    staff = make_staff()
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    page = phone_page
    page.goto(live_server.url + status_link(case))
    page.get_by_label("Your date of birth").fill("1970-03-21")
    page.get_by_role("button", name="Show my request").click()
    page.get_by_role("link", name="Withdraw my request").click()
    expect(page.get_by_role("heading", name="Withdraw your request?", exact=True)).to_be_visible()
    check_page(page, "withdraw confirmation")
    page.get_by_role("button", name="Withdraw my request").click()
    # The answer to that post is on the page before the database is looked at.
    page.get_by_text("Please tick the box to confirm").first.wait_for()
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.TRIAGE  # not confirmed yet
    check_page(page, "withdraw, box not ticked")
    page.get_by_label("Yes, withdraw my request").check()
    page.get_by_role("button", name="Withdraw my request").click()
    page.get_by_text("Your request was withdrawn").wait_for()
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.WITHDRAWN
    check_page(page, "withdrawn")


def test_a_coordinator_asks_for_images_from_the_case_page(seeded_tx, browser, live_server):
    from .test_admin_browser import sign_in

    staff = make_staff()
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    context, page = open_page(browser, live_server, width=1280, height=900)
    try:
        sign_in(page, live_server.url, staff.coord_a.username)
        page.goto(f"{live_server.url}/admin/intake/reviewrequest/{case.pk}/change/")
        page.get_by_label("Ask for").select_option("images")
        page.get_by_label("Questions for the patient").fill("Please upload your lumbar MRI.")
        with page.expect_navigation():
            page.click("#ask-patient")
        assert "Please upload your lumbar MRI." in page.locator("#patient-requests").inner_text()
        assert axe_violations(page) == []
        assert ReviewRequest.objects.get(pk=case.pk).status == Status.AWAITING_MRI
    finally:
        context.close()
