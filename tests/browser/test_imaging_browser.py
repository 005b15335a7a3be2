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


def _slice_requests(page):
    requests = []
    page.on(
        "request",
        lambda r: requests.append(r.url) if re.search(r"/imaging/case/\d+/series/\d+/\d+\.png", r.url) else None,
    )
    return requests


def _prefetched(page, count):
    page.wait_for_function(
        "n => document.getElementById('imaging-viewport').dataset.prefetched === String(n)", arg=count
    )


def test_scrolling_draws_prefetched_slices_and_a_window_change_fetches_new_pixels(browser, live_server, viewer_case):
    """Once the series is open the page fetches the rest of it into its own memory:
    the next slice is drawn with no request, and prefetching writes no audit entry.
    A new window drops that set and draws new pixels from the server."""
    from clinic.models import AuditEntry
    from imaging.models import ImagingSeries

    case, coordinator = viewer_case
    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        sign_in(page, live_server.url, coordinator.username)
        slice_requests = _slice_requests(page)
        page.goto(f"{live_server.url}/admin/imaging/case/{case.pk}/viewer/")
        _loaded(page, "0|600|1200")
        _prefetched(page, 20)  # the whole 20-slice series, in the page's memory
        first = page.evaluate(CANVAS_DIGEST)
        asked = len(slice_requests)
        assert asked == 20 and len(set(slice_requests)) == 20, "each slice asked for once"

        page.focus("#imaging-viewport")
        page.keyboard.press("ArrowDown")
        _loaded(page, "1|600|1200")
        assert page.evaluate("() => document.getElementById('imaging-viewport').dataset.source") == "memory"
        assert page.evaluate(CANVAS_DIGEST) != first
        for _ in range(5):
            page.keyboard.press("ArrowDown")
        _loaded(page, "6|600|1200")
        page.keyboard.press("End")
        _loaded(page, "19|600|1200")
        last = page.evaluate(CANVAS_DIGEST)
        assert len(slice_requests) == asked, "no request while scrolling through prefetched slices"

        series = ImagingSeries.objects.get(study__case=case)
        assert AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk} ").count() == 1

        page.select_option("#imaging-preset", "bone")
        _loaded(page, "19|1000|2500")
        assert page.evaluate(CANVAS_DIGEST) != last, "the new window drew new pixels"
        assert any(u.endswith("/19.png?wc=1000&ww=2500") for u in slice_requests[asked:])
        _prefetched(page, 20)  # the new window's set, fetched again
        page.keyboard.press("ArrowUp")
        _loaded(page, "18|1000|2500")
        assert page.evaluate("() => document.getElementById('imaging-viewport').dataset.source") == "memory"
        assert len([u for u in slice_requests if "ww=2500" in u]) == 20
        assert AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk} ").count() == 1
        assert page.watch.csp_violations == []
    finally:
        context.close()
