"""Issue 23 point 1 in a real browser (Debian's chromium, 360 px): a patient
with a mobile and no email asks for a review through the six steps, a real
Celery worker sends the confirmation by text through the SMS backend (the file
backend, never a provider), and the browser opens the status page from the
link in that text."""

import re

import pytest
from playwright.sync_api import expect

from intake.choices import RedFlag
from intake.models import Notification, ReviewRequest
from tests.support.processes import wait_for

from .conftest import axe_violations, open_page

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MOBILE = "(312) 555-0177"
BIRTH_DATE = "1958-02-11"


@pytest.fixture
def phone_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def check_page(page, where):
    assert axe_violations(page) == [], where
    assert page.watch.csp_violations == [], where
    assert page.watch.foreign_requests == [], where
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), where


def choose(page, name, value):
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def sms_texts(settings):
    folder = settings.INTAKE_SMS_DIR
    return [f.read_text() for f in sorted(folder.glob("*.txt"))] if folder.exists() else []


def test_a_phone_only_patient_asks_gets_the_text_and_opens_the_status_page_from_it(
    phone_page, live_server, seeded_tx, celery_worker, settings
):
    settings.INTAKE_SITE_URL = live_server.url  # the link in the text points at this server
    page = phone_page

    # 1. Safety
    page.goto(live_server.url + "/mri-review/")
    for flag in RedFlag:
        choose(page, flag.value, "no")
    page.get_by_role("button", name="Continue").click()

    # 2. How to reach you: neither an email nor a phone is refused in plain words...
    page.get_by_label("First name").fill("Dolores")
    page.get_by_label("Last name").fill("Textonly")
    page.get_by_label("Date of birth").fill(BIRTH_DATE)
    page.get_by_label("ZIP code").fill("60614")
    page.get_by_label("State").select_option("IL")
    choose(page, "contact_method", "text")
    choose(page, "contact_time", "afternoon")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Any one is enough for us to reach you.")
    expect(summary).to_contain_text("You chose text messages. Please give your mobile number")
    check_page(page, "contact, nothing to reach the patient by")
    # ...and a mobile alone is enough.
    page.get_by_label("Phone number").fill(MOBILE)
    assert page.get_by_label("Email address").input_value() == ""
    check_page(page, "contact")
    page.get_by_role("button", name="Continue").click()

    # 3. Pain
    page.locator('input[name="regions"][value="lower_back"]').check()
    choose(page, "side", "both")
    choose(page, "pain_duration", "gt_12m")
    page.get_by_label(re.compile("How bad is it")).fill("6")
    for f in ("radiating_pain", "numbness", "weakness"):
        choose(page, f, "no")
    page.get_by_role("button", name="Continue").click()

    # 4. History
    page.locator('input[name="diagnoses"][value="unsure"]').check()
    choose(page, "prior_surgery", "no")
    page.get_by_role("button", name="Continue").click()

    # 5. MRI: none
    page.get_by_role("heading", name="Your MRI", exact=True).wait_for()
    choose(page, "mri_status", "none")
    page.get_by_role("button", name="Continue").click()

    # 6. Consent: texts only
    page.get_by_label("How did you hear about us?").select_option("article")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_label("You may send me text messages.").check()
    check_page(page, "consent")
    page.get_by_role("button", name="Send my request").click()

    # The confirmation shows the reference and says it went by text, to this number, and nothing of email.
    reference = page.get_by_test_id("reference").inner_text()
    told = page.get_by_test_id("told-by").inner_text()
    assert "by text message to (312) 555-0177" in told and "email" not in told.lower()
    check_page(page, "confirmation")
    case = ReviewRequest.objects.get(reference=reference)
    assert (case.email, case.phone, case.consent_text, case.consent_email) == ("", "+13125550177", True, False)

    # The worker sends the text, once, through the SMS backend; no email is made.
    [text] = wait_for(lambda: sms_texts(settings), timeout=30)
    assert text.startswith("To: +13125550177")
    assert reference in text and "We sent this by text message only." in text
    assert "Dolores" not in text and "back" not in text.lower()  # no name, no health data
    sent = wait_for(lambda: Notification.objects.filter(case=case, channel="text", state="sent").first(), timeout=10)
    assert sent.kind == "patient_confirmation"
    assert not Notification.objects.filter(case=case, kind="patient_confirmation", channel="email").exists()

    # The browser opens the status page from the text's link.
    [link] = re.findall(r"https?://\S+/mri-review/status/\S+/", text)
    assert link.startswith(live_server.url)
    page.goto(link)
    page.get_by_label("Your date of birth").fill(BIRTH_DATE)
    page.get_by_role("button", name="Show my request").click()
    expect(page.get_by_test_id("stage")).to_be_visible()
    assert reference in page.content()
    check_page(page, "status page from the text")
    sms = sms_texts(settings)
    assert len(sms) == 1  # still one text: the confirmation was sent exactly once
