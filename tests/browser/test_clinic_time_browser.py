"""Clinic time in a real browser (issue 12, point 7): after a submission, the
confirmation page, the status page and the admin case page state their times
in the clinic's zone, by name. The browser itself runs in another zone (Tokyo)
to show that nothing depends on where the reader is."""

import re

import pytest
from playwright.sync_api import expect

from intake.choices import RedFlag
from intake.models import ReviewRequest
from intake.services.routing import case_route
from tests.factories import UserFactory

from .conftest import PageWatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-123"  # UserFactory's
# "Tuesday 1 December 2026, 1:00 p.m. Central": a weekday, a date, a time, the zone's name.
PATIENT_TIME = re.compile(r"\w+day \d{1,2} \w+ \d{4}, \d{1,2}:\d{2} [ap]\.m\. Central")
STAFF_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} Central")


@pytest.fixture
def tokyo_page(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.watch = PageWatch(page, live_server.url)
    page.set_default_timeout(10_000)
    yield page
    context.close()


def choose(page, name, value):
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def submit_without_an_mri(page, base):
    page.goto(base + "/mri-review/")
    for flag in RedFlag:
        choose(page, flag.value, "no")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").fill("Casey")
    page.get_by_label("Last name").fill("Clockwise")
    page.get_by_label("Date of birth").fill("1971-02-03")
    page.get_by_label("Email address").fill("casey@example.com")
    page.get_by_label("Phone number").fill("(312) 555-0123")
    page.get_by_label("ZIP code").fill("60614")
    page.get_by_label("State").select_option("IL")
    choose(page, "contact_method", "email")
    choose(page, "contact_time", "any")
    page.get_by_role("button", name="Continue").click()
    page.locator('input[name="regions"][value="lower_back"]').check()
    choose(page, "side", "both")
    choose(page, "pain_duration", "3m_12m")
    page.get_by_label(re.compile("How bad is it")).fill("5")
    for f in ("radiating_pain", "numbness", "weakness"):
        choose(page, f, "no")
    page.get_by_role("button", name="Continue").click()
    page.locator('input[name="diagnoses"][value="none"]').check()
    choose(page, "prior_surgery", "no")
    page.get_by_role("button", name="Continue").click()
    choose(page, "mri_status", "none")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("How did you hear about us?").select_option("article")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_label("You may email me.").check()
    page.get_by_role("button", name="Send my request").click()


def test_confirmation_status_and_admin_case_page_show_the_clinic_zone(tokyo_page, live_server, seeded_tx):
    page, base = tokyo_page, live_server.url
    submit_without_an_mri(page, base)

    # The confirmation page: the promise, in the clinic's zone, named.
    reference = page.get_by_test_id("reference").inner_text()
    promised = page.get_by_test_id("promised").inner_text()
    assert PATIENT_TIME.fullmatch(promised), promised
    assert "UTC" not in page.content()

    # Routed (as the worker would), the status page states the same promise.
    case = ReviewRequest.objects.get(reference=reference)
    case_route(case_id=case.pk)
    case.refresh_from_db()
    status_url = page.get_by_test_id("status-link").get_attribute("href")
    page.goto(status_url)
    page.get_by_label("Your date of birth").fill("1971-02-03")
    page.get_by_role("button", name="Show my request").click()
    on_status = page.get_by_test_id("promised").inner_text()
    assert PATIENT_TIME.fullmatch(on_status), on_status
    assert on_status == promised  # the page before routing promised what routing set
    assert "UTC" not in page.content()

    # The admin case page: the header names the zone; the SLA due, the
    # submission time and the timeline are clinic times with the zone's name.
    UserFactory(username="super_clock", groups=["Supervisor"])
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "super_clock")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    # The exact address: a pattern ending in /admin/ also matches the login
    # page's own address (?next=/admin/), so it would not wait for the sign-in.
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/intake/reviewrequest/{case.pk}/change/")
    expect(page.locator("#clinic-zone")).to_have_text("Times are Central (America/Chicago)")
    due = page.locator("#case-sla-due").inner_text()
    assert STAFF_TIME.fullmatch(due.removeprefix("due ")), due
    created = page.locator(".fieldBox.field-created_at_local .readonly").inner_text()
    assert STAFF_TIME.fullmatch(created), created
    for stamp in page.locator(".timeline time").all_inner_texts():
        assert STAFF_TIME.fullmatch(stamp), stamp
    assert "UTC" not in page.content()
    assert page.watch.csp_violations == [] and page.watch.foreign_requests == []
