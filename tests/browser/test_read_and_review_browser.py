"""Issue 23 point 4 in Chromium at 1280 px: the clinician reads the patient's
PDF report in the viewer (the page image inside the viewport, not a black
box), the arrow keys move through the slices as soon as the page opens, and
the structured review sits beside the viewer, takes more rows without a
reload and refuses a decision when the images were never opened."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from intake.models import QueueMembership
from intake.services.files import mri_file_add
from intake.transitions import Status
from reviews.models import ReviewVersion
from tests.browser.conftest import axe_violations, open_page
from tests.factories import CaseFactory, UserFactory
from tests.imaging import dicomgen as g

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"  # tests.factories.UserFactory's


def _sign_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _loaded(page, prefix):
    page.wait_for_function(
        "p => (document.getElementById('imaging-viewport').dataset.loaded || '').startsWith(p)", arg=prefix
    )


def _report_pdf() -> bytes:
    """A two-page US-letter report as a centre's system writes it: a title in
    Helvetica and a black bar on white pages (objects and offsets by hand)."""
    content = b"BT /F1 28 Tf 72 720 Td (LUMBAR SPINE MRI REPORT) Tj ET 0 0 0 rg 72 560 468 60 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 6 0 R /Contents 5 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 6 0 R /Contents 5 0 R >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@pytest.fixture
def reading_case(seeded_tx):
    queue = seeded_tx["mri-thoracolumbar"]
    clinician = UserFactory(username="reader", groups=["Clinician"])
    QueueMembership.objects.create(queue=queue, user=clinician)
    case = CaseFactory(
        queue=queue, status=Status.MRI_RECEIVED, first_name="Pat", last_name="Example", mri_region="lower_back"
    )
    mri_file_add(uploaded=SimpleUploadedFile("study.zip", g.zip_of(g.series_bytes(20, rows=128, cols=128))), case=case)
    mri_file_add(uploaded=SimpleUploadedFile("report.pdf", _report_pdf(), content_type="application/pdf"), case=case)
    return case, clinician


def _viewport_pixels(page):
    """The viewport as the screen shows it (a screenshot, not the canvas's memory)."""
    box = page.locator("#imaging-viewport").bounding_box()
    shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("L")
    return box, shot


def test_the_pdf_report_is_drawn_inside_the_viewport_not_a_black_box(browser, live_server, reading_case):
    case, clinician = reading_case
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        _sign_in(page, live_server.url, clinician.username)
        page.goto(f"{live_server.url}/admin/imaging/case/{case.pk}/viewer/")
        _loaded(page, "0|")
        page.click(".imaging-open-file")
        page.wait_for_function(
            "() => { const i = document.getElementById('imaging-page');"
            " return !i.hidden && i.complete && i.naturalWidth > 0; }"
        )
        viewport = page.locator("#imaging-viewport").bounding_box()
        image = page.locator("#imaging-page").bounding_box()
        # The page starts at the viewport's top and spans its width: inside it, not under it.
        assert abs(image["y"] - viewport["y"]) < 2 and abs(image["x"] - viewport["x"]) < 2
        assert image["width"] == pytest.approx(viewport["width"], abs=2)
        assert viewport["y"] + viewport["height"] <= 800, "the viewer is above the fold"
        assert page.locator("#imaging-canvas").is_hidden()
        _box, shot = _viewport_pixels(page)
        pixels = shot.tobytes()  # one byte a pixel (grey)
        white = sum(p > 200 for p in pixels) / len(pixels)
        dark = sum(p < 60 for p in pixels) / len(pixels)
        # The page (white) with its title and bar (dark) on the screen, not a black box.
        assert white > 0.5 and 0.01 < dark < 0.4, (white, dark)
        w, h = shot.size
        bar = shot.getpixel((w // 2, round((792 - 590) * w / 612)))  # the bar's middle, at the page's scale
        assert bar < 60 and shot.getpixel((w // 2, round((792 - 500) * w / 612))) > 200
        assert "Page 1 / 2" in page.inner_text("#imaging-status")
        _shots(page, "viewer-pdf-1280")

        # The keys turn the report's pages too.
        page.keyboard.press("PageDown")
        page.wait_for_function("() => document.getElementById('imaging-page').src.endsWith('/2.png')")
        assert "Page 2 / 2" in page.inner_text("#imaging-status")
        assert page.watch.csp_violations == [] and page.watch.foreign_requests == []
    finally:
        context.close()


def test_arrow_keys_move_through_slices_right_after_load_but_not_while_typing(browser, live_server, reading_case):
    case, clinician = reading_case
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        _sign_in(page, live_server.url, clinician.username)
        page.goto(f"{live_server.url}/admin/imaging/case/{case.pk}/viewer/")
        _loaded(page, "0|")
        # No click on the image first: the keys go to the viewer from the start.
        page.keyboard.press("ArrowDown")
        _loaded(page, "1|")
        page.keyboard.press("ArrowDown")
        _loaded(page, "2|")
        page.keyboard.press("ArrowUp")
        _loaded(page, "1|")
        status = page.locator("#imaging-status")
        assert "Slice 2 / 20" in status.inner_text()
        # The readout is on the image, in view, not below the fold.
        readout, viewport = status.bounding_box(), page.locator("#imaging-viewport").bounding_box()
        assert viewport["y"] <= readout["y"] and readout["y"] + readout["height"] <= viewport["y"] + viewport["height"]
        assert readout["x"] < viewport["x"] + viewport["width"] and readout["y"] + readout["height"] <= 800

        # Typing in a form field keeps its keys: the slice does not move.
        page.focus("#id_reason")
        page.keyboard.press("ArrowDown")
        page.keyboard.type("x")
        page.wait_for_timeout(300)
        assert page.locator("#imaging-viewport").get_attribute("data-index") == "1"
    finally:
        context.close()


def _shots(page, name, full_page=False):
    """Screenshots for a person to look at (not asserted): /tmp/h4-read-and-review/."""
    import os

    os.makedirs("/tmp/h4-read-and-review", exist_ok=True)
    page.screenshot(path=f"/tmp/h4-read-and-review/{name}.png", full_page=full_page)


def test_the_review_sits_beside_the_viewer_and_takes_more_rows_without_a_reload(browser, live_server, reading_case):
    case, clinician = reading_case
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        _sign_in(page, live_server.url, clinician.username)
        page.goto(f"{live_server.url}/admin/reviews/case/{case.pk}/review/")
        _loaded(page, "0|")
        _shots(page, "review-1280")
        viewer = page.locator("#imaging-viewport").bounding_box()
        form = page.locator("#review-form").bounding_box()
        # Side by side: the form starts right of the image, both in the first screen.
        assert form["x"] >= viewer["x"] + viewer["width"], (viewer, form)
        assert form["y"] < 800 and viewer["y"] + viewer["height"] <= 800
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

        # The keys move the slices at once; typing in the form does not.
        page.keyboard.press("ArrowDown")
        _loaded(page, "1|")

        loads = []
        page.on("framenavigated", lambda frame: loads.append(frame.url))
        for n in range(4):
            page.click("#add-finding")
        assert page.locator("[data-finding-row]").count() == 5
        assert page.input_value("#id_f-TOTAL_FORMS") == "5"
        assert loads == [], "rows were added without a reload"
        page.select_option("#id_f-0-level", "L4-5")
        page.check("#id_f-0-herniation")
        page.select_option("#id_f-0-herniation_side", "left")
        page.select_option("#id_f-4-level", "L5-S1")
        page.select_option("#id_f-4-central_stenosis", "moderate")
        page.keyboard.press("ArrowDown")  # in a select: the select's own key
        page.fill("#id_impression", "Wear of the two lowest discs; one presses on the left nerve.")
        page.check("input[name=decision][value=candidate]")
        page.fill("#id_next_step", "A consultation with our spine surgeon.")
        assert page.locator("#imaging-viewport").get_attribute("data-index") == "1"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        _shots(page, "review-1280-rows")
        with page.expect_navigation():
            page.click("#save-review")
        assert "Review version 1 saved" in page.inner_text(".messagelist")
        version = ReviewVersion.objects.get(review__case=case)
        assert [f.level for f in version.findings.all()] == ["L4-5", "L5-S1"]
        assert version.images_opened and version.no_images_reason == ""
        assert axe_violations(page) == []
        assert page.watch.csp_violations == [] and page.watch.foreign_requests == []
    finally:
        context.close()


def test_deciding_is_refused_without_the_images_opened_and_no_reason(browser, live_server, seeded_tx):
    """A case with only the imaging centre's PDF report: reading it is not
    opening images, so the decision needs its reason, said on the page."""
    queue = seeded_tx["mri-thoracolumbar"]
    clinician = UserFactory(username="reader2", groups=["Clinician"])
    QueueMembership.objects.create(queue=queue, user=clinician)
    case = CaseFactory(queue=queue, status=Status.MRI_RECEIVED, first_name="Lee", last_name="Report")
    mri_file_add(uploaded=SimpleUploadedFile("report.pdf", _report_pdf(), content_type="application/pdf"), case=case)
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        _sign_in(page, live_server.url, clinician.username)
        page.goto(f"{live_server.url}/admin/reviews/case/{case.pk}/review/")
        assert "You have not opened this case's images" in page.inner_text("#images-opened")
        page.click(".imaging-open-file")  # the report, read beside the form
        page.wait_for_function("() => !document.getElementById('imaging-page').hidden")
        page.fill("#id_impression", "The report describes worn discs low in the back.")
        page.check("input[name=decision][value=candidate]")
        page.fill("#id_next_step", "A consultation with our spine surgeon.")
        with page.expect_navigation():
            page.click("#save-review")
        error = page.inner_text(".messagelist")
        assert "you have not opened this case's images" in error and "report only, no images sent" in error
        assert not ReviewVersion.objects.filter(review__case=case).exists()
        # What was typed is still there; the reason lets the decision through.
        assert page.input_value("#id_impression").startswith("The report describes")
        page.fill("#id_no_images_reason", "Report only, no images sent.")
        with page.expect_navigation():
            page.click("#save-review")
        assert "Review version 1 saved" in page.inner_text(".messagelist")
        version = ReviewVersion.objects.get(review__case=case)
        assert version.no_images_reason == "Report only, no images sent." and not version.images_opened
    finally:
        context.close()


@pytest.mark.parametrize("width", [800, 1440])
def test_the_review_page_at_other_widths_stacked_below_1280_and_never_wider_than_the_screen(
    browser, live_server, reading_case, width
):
    case, clinician = reading_case
    case.language = "es"
    case.save(update_fields=["language"])
    context, page = open_page(browser, live_server, width=width, height=900)
    try:
        _sign_in(page, live_server.url, clinician.username)
        page.goto(f"{live_server.url}/admin/reviews/case/{case.pk}/review/")
        _loaded(page, "0|")
        _shots(page, f"review-{width}-es")
        assert "Spanish (Español)" in page.inner_text("#patient-language")
        assert page.locator("#id_impression_patient").is_visible()
        viewer = page.locator("#imaging-viewport").bounding_box()
        form = page.locator("#review-form").bounding_box()
        if width < 1280:
            assert form["y"] >= viewer["y"] + viewer["height"], "stacked: the form under the images"
        else:
            assert form["x"] >= viewer["x"] + viewer["width"], "side by side"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.click("#add-finding")
        assert page.locator("[data-finding-row]").count() == 2
        page.locator("#review-form").scroll_into_view_if_needed()
        _shots(page, f"review-{width}-es-form")
        _shots(page, f"review-{width}-es-full", full_page=True)
    finally:
        context.close()
