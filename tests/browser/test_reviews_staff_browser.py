"""Issue 15 in the staff's browser: a clinician writes the structured review
from the case page and decides "candidate"; a coordinator reads it (no form)
and books the consult. No CSP violation, nothing from another origin, and no
serious axe violation on the review page."""

import pytest

from intake.models import ReviewRequest
from intake.transitions import Status
from reviews.models import Consult, ReviewVersion
from tests.intake.test_admin_support import make_case, make_staff

from .conftest import axe_violations, open_page
from .test_admin_browser import click_and_wait, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wide_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=1280, height=900)
    yield pg
    context.close()


def test_clinician_writes_the_review_and_coordinator_books_the_consult(seeded_tx, wide_page, live_server):
    staff = make_staff()
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, assigned_to=staff.clinician)
    page, base = wide_page, live_server.url

    sign_in(page, base, staff.clinician.username)
    page.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
    click_and_wait(page, "#structured-review-link")
    page.select_option("#id_f-0-level", "L4-5")
    page.check("#id_f-0-herniation")
    page.select_option("#id_f-0-herniation_side", "left")
    page.fill("#id_impression", "A disc at the bottom of the back presses on the left nerve.")
    page.check("input[name=decision][value=candidate]")
    page.fill("#id_next_step", "A consultation with our spine surgeon.")
    # The case holds no files: the decision says why it was made without images.
    page.fill("#id_no_images_reason", "No images sent with this request.")
    assert axe_violations(page) == []
    click_and_wait(page, "#save-review")
    assert "Review version 1 saved" in page.inner_text(".messagelist")
    assert page.inner_text("#case-status") == "Candidate"
    assert "Version 1</strong> by clinician_a" in page.content()
    sign_out(page)

    sign_in(page, base, staff.coord_a.username)
    page.goto(f"{base}/admin/reviews/case/{case.pk}/review/")
    assert page.locator("#review-form").count() == 0
    assert "presses on the left nerve" in page.inner_text("#review-impression")
    page.fill("#id_day", "2099-03-02")
    page.fill("#id_time", "14:30")
    page.fill("#id_place", "Riverside Spine Clinic, Room 4")
    page.select_option("#id_clinician", str(staff.clinician.pk))
    assert axe_violations(page) == []
    click_and_wait(page, "#book-consult")
    assert "Consult booked" in page.inner_text(".messagelist")
    assert "Room 4" in page.inner_text("#consult-booked")

    assert ReviewVersion.objects.filter(review__case=case).count() == 1
    assert Consult.objects.filter(case=case, clinician=staff.clinician).count() == 1
    assert ReviewRequest.objects.get(pk=case.pk).status == Status.CONSULT_SCHEDULED
    assert page.watch.csp_violations == [] and page.watch.foreign_requests == []
