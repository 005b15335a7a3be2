"""The image viewer in Chromium: a coordinator opens a case's 20-slice series,
goes to the last slice with the keyboard, changes the window; the drawn
pixels change each time, and the page breaks no CSP rule."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import QueueMembership
from intake.services.files import mri_file_add
from tests.browser.conftest import axe_violations, open_page
from tests.browser.test_admin_browser import sign_in
from tests.factories import CaseFactory, UserFactory
from tests.imaging import dicomgen as g

pytestmark = pytest.mark.browser

CANVAS_DIGEST = """() => {
  const c = document.getElementById('imaging-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0, lit = 0;
  for (let i = 0; i < d.length; i += 4) { h = (h * 31 + d[i]) | 0; if (d[i] > 0) lit++; }
  return [h, lit];
}"""


@pytest.fixture
def viewer_case(seeded_tx):
    queue = seeded_tx["mri-thoracolumbar"]
    coordinator = UserFactory(username="img_browser", groups=["Coordinator"])
    QueueMembership.objects.create(queue=queue, user=coordinator)
    case = CaseFactory(queue=queue, status="awaiting_mri", first_name="Pat", last_name="Example")
    mri_file_add(uploaded=SimpleUploadedFile("study.zip", g.zip_of(g.series_bytes(20, rows=128, cols=128))), case=case)
    return case, coordinator


def _loaded(page, prefix):
    page.wait_for_function(
        "p => (document.getElementById('imaging-viewport').dataset.loaded || '').startsWith(p)", arg=prefix
    )


def test_open_series_scroll_to_last_slice_and_change_window(browser, live_server, viewer_case):
    case, coordinator = viewer_case
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        sign_in(page, live_server.url, coordinator.username)
        page.goto(f"{live_server.url}/admin/intake/reviewrequest/{case.pk}/change/")
        page.click("#open-imaging-viewer")
        page.wait_for_url(re.compile(rf"/admin/imaging/case/{case.pk}/viewer/$"))
        _loaded(page, "0|600|1200")
        first = page.evaluate(CANVAS_DIGEST)
        assert first[1] > 0, "the first slice was drawn"
        assert "Slice 1 / 20" in page.locator("#imaging-status").inner_text()

        page.focus("#imaging-viewport")
        page.keyboard.press("End")
        _loaded(page, "19|")
        last = page.evaluate(CANVAS_DIGEST)
        assert last != first
        status = page.locator("#imaging-status").inner_text()
        assert "Slice 20 / 20" in status and "mm" in status
        page.keyboard.press("ArrowUp")
        _loaded(page, "18|")
        page.keyboard.press("ArrowDown")
        _loaded(page, "19|")

        page.select_option("#imaging-preset", "bone")
        _loaded(page, "19|1000|2500")
        windowed = page.evaluate(CANVAS_DIGEST)
        assert windowed != last
        assert "W 2500 L 1000" in page.locator("#imaging-status").inner_text()

        # The image fits beside the case summary at 1280 px: no horizontal scrolling.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert axe_violations(page) == []
        assert page.evaluate("() => window.__csp") == []
        assert page.watch.csp_violations == []
        assert page.watch.foreign_requests == []
    finally:
        context.close()
