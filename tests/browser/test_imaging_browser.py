"""The image viewer in Chromium: a coordinator opens a case's 20-slice series,
goes to the last slice with the keyboard, changes the window; the drawn
pixels change each time, and the page breaks no CSP rule."""

import io
import re

import pydicom
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


# Every box of the viewer page that must stay inside its column, and the columns inside the window.
LAYOUT = """() => {
  const box = el => el.getBoundingClientRect();
  const side = document.querySelector('.imaging-side'), main = document.querySelector('.imaging-main');
  const problems = [];
  const within = (el, outer, what) => {
    const b = box(el), o = box(outer);
    if (b.left < o.left - 0.5 || b.right > o.right + 0.5) problems.push(`${what} ${b.left}-${b.right} outside ${o.left}-${o.right}`);
  };
  if (box(side).right > box(main).left + 0.5) problems.push('the side column runs under the viewer');
  if (box(main).right > window.innerWidth + 0.5) problems.push('the viewer is clipped');
  // The side column is at most 380 px (viewer.css): the viewer gets the rest of the row.
  const row = box(main.parentElement);
  if (box(main).width < row.width - 380 - 16 - 1) problems.push(`the viewer is squeezed to ${box(main).width}px`);
  for (const el of side.querySelectorAll('section, table, tr, th, td, h2, dd, li, button, span')) {
    if (el.getClientRects().length) within(el, side, el.tagName + '.' + el.className);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'hidden')
      problems.push(`${el.tagName}.${el.className} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push('the page scrolls sideways');
  return problems;
}"""


def test_long_names_and_header_values_stay_in_their_columns_at_1280px(browser, live_server, seeded_tx):
    # 200 characters without a space to break at: what a PACS writes into a
    # description, and a patient name as DICOM writes it (^ between the parts).
    description = ("SAG_T2_TSE_FS_" * 15)[:200]
    name = "^".join(["Hernandez-Villalobos" * 4] * 3)[:200]
    assert len(description) == len(name) == 200
    queue = seeded_tx["mri-thoracolumbar"]
    coordinator = UserFactory(username="img_layout", groups=["Coordinator"])
    QueueMembership.objects.create(queue=queue, user=coordinator)
    case = CaseFactory(
        queue=queue, status="awaiting_mri", first_name="Maria-Guadalupe" * 4, last_name="Fernandez-Castellanos" * 3
    )
    slices = g.series_bytes(3, rows=128, cols=128, name=name)
    long = []
    for raw in slices:
        ds = pydicom.dcmread(io.BytesIO(raw))
        ds.SeriesDescription = description
        ds.StudyDescription = description
        ds.InstitutionName = description
        long.append(g.to_bytes(ds))
    mri_file_add(uploaded=SimpleUploadedFile("study.zip", g.zip_of(long)), case=case)

    context, page = open_page(browser, live_server, width=1280, height=800)
    try:
        sign_in(page, live_server.url, coordinator.username)
        page.goto(f"{live_server.url}/admin/imaging/case/{case.pk}/viewer/")
        _loaded(page, "0|")
        assert description[:40] in page.locator(".imaging-series-list").inner_text().replace("\u200b", "")
        problems = page.evaluate(LAYOUT)
        assert problems == []
        # The full description is there for the mouse when the button shortens it.
        assert page.locator(".imaging-open-series").first.get_attribute("title") == description

        page.goto(f"{live_server.url}/admin/intake/reviewrequest/{case.pk}/change/")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
