"""The patient's whole path in a real browser (Debian's chromium via
Playwright), at phone width, checked with axe-core at every step."""

import re

import pytest
from playwright.sync_api import expect

from intake.choices import RedFlag
from intake.models import MriFile, ReviewRequest
from tests.intake import corpus

from .conftest import axe_violations, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check_page(page, where):
    assert axe_violations(page) == [], where
    assert page.watch.csp_violations == [], where
    assert page.watch.foreign_requests == [], where
    # usable at 360 px: nothing wider than the viewport
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), where


def choose(page, name, value):
    page.locator(f'input[name="{name}"][value="{value}"]').check()


FLAGS = [f.value for f in RedFlag]


@pytest.fixture
def phone_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def fill_to_mri(page, live_server, check=lambda page, where: None, first_name="Robin", **safety):
    """The patient's steps up to the MRI step, with the safety screen's answers (all "no" by default)."""
    page.goto(live_server.url + "/mri-review/")
    check(page, "safety")
    for flag in FLAGS:
        choose(page, flag, safety.get(flag, "no"))
    page.get_by_role("button", name="Continue").click()
    if safety:
        page.get_by_role("link", name="Continue my MRI review request").click()

    page.get_by_label("First name").fill(first_name)
    page.get_by_label("Last name").fill("Browser")
    page.get_by_label("Date of birth").fill("1968-07-14")
    page.get_by_label("Email address").fill("robin@example.com")
    page.get_by_label("Phone number").fill("(312) 555-0177")
    page.get_by_label("ZIP code").fill("60614")
    page.get_by_label("State").select_option("IL")
    choose(page, "contact_method", "email")
    choose(page, "contact_time", "any")
    check(page, "contact")
    page.get_by_role("button", name="Continue").click()

    page.locator('input[name="regions"][value="neck"]').check()
    choose(page, "side", "right")
    choose(page, "pain_duration", "3m_12m")
    page.get_by_label(re.compile("How bad is it")).fill("7")
    for f in ("radiating_pain", "numbness", "weakness"):
        choose(page, f, "no")
    check(page, "pain")
    page.get_by_role("button", name="Continue").click()

    page.locator('input[name="diagnoses"][value="bulging_disc"]').check()
    page.get_by_label("Physical therapy").select_option("6w_3m")
    choose(page, "prior_surgery", "no")
    check(page, "history")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your MRI", exact=True).wait_for()
    # The heading shows before the deferred scripts run; what they change is
    # only there once the page has loaded.
    page.wait_for_load_state("load")


def fill_mri_details(page):
    page.get_by_label("Month it was taken").select_option("5")
    page.get_by_label("Year it was taken").fill("2026")
    choose(page, "mri_region", "neck")
    page.get_by_label(re.compile("Imaging centre")).fill("North Side Imaging")


def send_consent(page, check=lambda page, where: None):
    page.get_by_label("How did you hear about us?").select_option("article")
    page.get_by_label(re.compile("I have read the privacy notice")).check()
    page.get_by_label("You may email me.").check()
    check(page, "consent")
    page.get_by_role("button", name="Send my request").click()


def test_patient_requests_a_review_with_an_upload(phone_page, live_server, seeded_tx, tmp_path):
    page = phone_page
    page.goto(live_server.url + "/mri-review/")
    # a missing answer is explained, tied to its field
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check_page(page, "safety with errors")
    fill_to_mri(page, live_server, check=check_page)

    # The upload box belongs to the "upload" answer: hidden until it is chosen.
    box = page.locator("#files")
    expect(box).to_be_hidden()
    choose(page, "mri_status", "upload")
    expect(box).to_be_visible()
    assert "(optional)" not in box.inner_text()
    # under the question it depends on
    assert page.locator("#id_mri_status_2").bounding_box()["y"] < box.bounding_box()["y"]

    # The upload, with the progress-bar script: a bad file first, then a good one.
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"this is not a scan" * 50)
    good = tmp_path / "neck-mri.pdf"
    good.write_bytes(corpus.PDF)
    page.locator("#id_file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload file").click()
    stale = page.get_by_text("whatever its name says")
    stale.wait_for()
    page.locator("#id_file").set_input_files(str(good))
    page.get_by_role("button", name="Upload file").click()
    page.get_by_role("button", name="Remove neck-mri.pdf").wait_for()
    assert MriFile.objects.count() == 1
    expect(stale).to_have_count(0)  # the earlier file's error is gone after a good upload

    fill_mri_details(page)
    check_page(page, "mri")
    page.get_by_role("button", name="Continue").click()

    send_consent(page, check=check_page)

    reference = page.get_by_test_id("reference").inner_text()
    assert re.fullmatch(r"MR-[2-9A-Z]{6}", reference)
    check_page(page, "confirmation")
    case = ReviewRequest.objects.get(reference=reference)
    assert case.files.count() == 1 and case.regions == ["neck"]

    # The private status page, with the date of birth
    page.get_by_test_id("status-link").click()
    page.get_by_label("Your date of birth").wait_for()  # checked on the new page, not the confirmation
    check_page(page, "status check")
    page.get_by_label("Your date of birth").fill("1968-07-14")
    page.get_by_role("button", name="Show my request").click()
    assert page.get_by_test_id("stage").inner_text()
    check_page(page, "status")
    # the steps, the first one current
    current = page.locator('.status-steps [aria-current="step"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(re.compile(r"^\s*Request received"))
    expect(page.locator(".status-steps li")).to_have_count(5)  # received, with the clinic, images, review, result


def _one_line(page, selector):
    """The element's text is laid out on a single line (one box per line)."""
    return (
        page.eval_on_selector(
            selector,
            "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }",
        )
        == 1
    )


def test_continue_uploads_a_chosen_file_first(phone_page, live_server, seeded_tx, tmp_path):
    page = phone_page
    fill_to_mri(page, live_server)
    choose(page, "mri_status", "upload")
    good = tmp_path / "neck-mri.pdf"
    good.write_bytes(corpus.PDF)
    page.locator("#id_file").set_input_files(str(good))
    fill_mri_details(page)
    # Continue without pressing "Upload file": the file is sent, then the step.
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("How did you hear about us?").wait_for()
    assert MriFile.objects.get().original_name == "neck-mri.pdf"
    send_consent(page)
    page.get_by_test_id("reference").wait_for()
    assert ReviewRequest.objects.get().files.count() == 1


def test_continue_with_a_file_that_fails_stays_and_says_so(phone_page, live_server, seeded_tx, tmp_path):
    page = phone_page
    fill_to_mri(page, live_server)
    choose(page, "mri_status", "upload")
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"this is not a scan" * 50)
    page.locator("#id_file").set_input_files(str(bad))
    fill_mri_details(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("so we have not continued").wait_for()
    assert "/mri-review/step/mri/" in page.url and MriFile.objects.count() == 0
    check_page(page, "mri, upload failed")


def test_a_retried_upload_lets_the_patient_continue(phone_page, live_server, seeded_tx, tmp_path):
    """The connection drops on the first try; the patient presses "Try again",
    then Continue while the retry is still on its way: once it arrives, the
    step goes on (the failure that was retried no longer holds it back)."""
    page = phone_page
    fill_to_mri(page, live_server)
    choose(page, "mri_status", "upload")
    fill_mri_details(page)
    tries, held = [], []

    def drop_then_hold(route):
        tries.append(route.request.url)
        if len(tries) == 1:
            route.abort("connectionreset")
        else:
            held.append(route)  # answered below, once Continue has been pressed

    page.route("**/mri-review/upload/", drop_then_hold)
    good = tmp_path / "neck-mri.pdf"
    good.write_bytes(corpus.PDF)
    page.locator("#id_file").set_input_files(str(good))
    page.get_by_role("button", name="Upload file").click()
    retry = page.get_by_role("button", name="Try again")
    retry.click()
    expect(page.locator("progress.upload-progress")).to_have_count(1)
    for _ in range(200):  # Playwright hands the retry to the handler while the test waits
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Uploading your file before we continue").wait_for()
    held[0].continue_()
    page.get_by_label("How did you hear about us?").wait_for()
    assert MriFile.objects.get().original_name == "neck-mri.pdf"


def test_a_good_upload_clears_the_no_file_error(phone_page, live_server, seeded_tx, tmp_path):
    page = phone_page
    fill_to_mri(page, live_server)
    choose(page, "mri_status", "upload")
    fill_mri_details(page)
    page.get_by_role("button", name="Continue").click()
    no_file = page.get_by_text("no file is uploaded yet")
    no_file.first.wait_for()
    page.wait_for_load_state("load")
    expect(page.locator("#files")).to_be_visible()  # the answer is kept, so is its box
    good = tmp_path / "neck-mri.pdf"
    good.write_bytes(corpus.PDF)
    page.locator("#id_file").set_input_files(str(good))
    page.get_by_role("button", name="Upload file").click()
    page.get_by_role("button", name="Remove neck-mri.pdf").wait_for()
    expect(no_file).to_have_count(0)
    expect(page.locator("#error-summary")).to_have_count(0)
    check_page(page, "mri after a good upload")


def test_history_of_cancer_alone_can_continue_the_request(phone_page, live_server, seeded_tx):
    page = phone_page
    page.goto(live_server.url + "/mri-review/")
    for flag in FLAGS:
        choose(page, flag, "yes" if flag == "cancer" else "no")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Please get medical care today")).to_be_visible()
    expect(page.get_by_role("button", name="Call me back urgently")).to_be_visible()
    check_page(page, "same-day advice")
    fill_to_mri(page, live_server, cancer="yes")
    choose(page, "mri_status", "centre_sends")
    fill_mri_details(page)
    page.get_by_role("button", name="Continue").click()
    send_consent(page)
    page.get_by_test_id("reference").wait_for()
    case = ReviewRequest.objects.get()
    assert case.kind == "review" and case.red_flags == ["cancer"] and case.is_urgent


def test_header_has_room_at_the_screen_edge(phone_page, live_server):
    page = phone_page
    page.goto(live_server.url + "/")
    brand = page.locator(".navbar-brand").bounding_box()
    last_link = page.locator(".navbar .nav-link").last.bounding_box()
    assert brand["x"] >= 8
    assert last_link["x"] + last_link["width"] <= 360 - 8


def test_the_path_works_by_keyboard(phone_page, live_server):
    page = phone_page
    page.goto(live_server.url + "/mri-review/")
    # Focus the first answer and answer "No" to each question using only the keyboard.
    page.locator('input[name="bladder_bowel"][value="yes"]').focus()
    for _ in range(8):
        page.keyboard.press("ArrowRight")  # yes -> no within the radio group
        page.keyboard.press("Tab")  # on to the next question
    page.keyboard.press("Enter")  # the Continue button
    page.get_by_label("First name").wait_for()
    assert "/mri-review/step/contact/" in page.url


def test_red_flag_in_the_browser(phone_page, live_server, seeded_tx):
    page = phone_page
    page.goto(live_server.url + "/mri-review/")
    for flag in FLAGS:
        choose(page, flag, "yes" if flag == "saddle_numbness" else "no")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Please go to an emergency department now")).to_be_visible()
    check_page(page, "urgent advice")
    page.get_by_label("First name").fill("Ali")
    page.get_by_label("Last name").fill("Urgent")
    page.get_by_label("Phone number").fill("(312) 555-0100")
    page.get_by_label(re.compile("Please call me back")).check()
    page.get_by_role("button", name="Call me back urgently").click()
    expect(page.get_by_test_id("reference")).to_be_visible()
    assert _one_line(page, '[data-testid="reference"]'), "the reference wraps"
    assert ReviewRequest.objects.get().red_flags == ["saddle_numbness"]


# sitemap.xml is for crawlers: Chromium's own XML viewer styles it inline, which is not our page.
PUBLIC_PAGES = ["/", "/privacy/", "/urgent-symptoms/", "/mri-review/", "/stretching/"]


def test_public_pages_have_no_csp_violation_or_foreign_request(page, live_server):
    from education.seed import seed_content

    seed_content()
    urls = list(PUBLIC_PAGES)
    page.goto(live_server.url + "/stretching/")
    urls += sorted(
        {
            a
            for a in page.eval_on_selector_all(
                "main a[href^='/stretching/']", "els => els.map(e => e.getAttribute('href'))"
            )
        }
    )[:12]
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert page.watch.csp_violations == [], url
    assert page.watch.foreign_requests == []


def test_the_upload_box_works_without_javascript(browser, live_server, seeded_tx, tmp_path):
    # The box sits inside the step's form; its file field and buttons post the
    # upload and file-actions forms through form="...", which needs no script.
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        fill_to_mri(page, live_server)
        assert page.locator("#files").is_visible()  # nothing to hide it without JavaScript
        good = tmp_path / "neck-mri.pdf"
        good.write_bytes(corpus.PDF)
        page.locator("#id_file").set_input_files(str(good))
        page.get_by_role("button", name="Upload file").click()
        page.get_by_text("neck-mri.pdf was uploaded.").wait_for()
        assert MriFile.objects.get().original_name == "neck-mri.pdf"
        # the answer that shows the files is kept after the reload
        expect(page.locator('input[name="mri_status"][value="upload"]')).to_be_checked()
        page.get_by_role("button", name="Remove neck-mri.pdf").click()
        page.get_by_text("The file was removed.").wait_for()
        assert MriFile.objects.count() == 0
    finally:
        context.close()
