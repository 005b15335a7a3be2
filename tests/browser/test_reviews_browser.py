"""Issue 15: the patient reads the result letter on the status page in
Chromium at 360 px, downloads it as a PDF and the consult as an .ics file;
axe-core finds no serious or critical violation."""

from datetime import timedelta

import pypdfium2
import pytest
from django.utils import timezone

from intake.status_links import status_link
from intake.transitions import Status
from reviews.services import consult_schedule, review_save
from tests.intake.test_admin_support import make_case, make_staff
from tests.reviews.conftest import review_data

from .conftest import open_page
from .test_patient_browser import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def test_the_patient_reads_the_letter_and_downloads_the_pdf_and_the_ics(seeded_tx, phone_page, live_server, tmp_path):
    staff = make_staff()
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    consult_schedule(
        case=case,
        actor=staff.coord_a,
        starts_at=timezone.now() + timedelta(days=4),
        clinician=staff.clinician,
        place="Riverside Spine Clinic, 2nd floor, Room 4",
    )
    page = phone_page

    page.goto(live_server.url + status_link(case))
    page.get_by_label("Your date of birth").fill("1970-03-21")
    page.get_by_role("button", name="Show my request").click()
    letter = page.get_by_test_id("result-letter")
    assert "A treatment our clinic offers may help you" in letter.inner_text()
    assert "Call 911" in letter.inner_text()
    assert "Room 4" in page.get_by_test_id("consult").inner_text()
    check_page(page, "letter")

    # Rendered on request; the first PDF in the test process also imports
    # WeasyPrint and loads its fonts (see test_closing_the_loop.py).
    with page.expect_download(timeout=30_000) as pdf_download:
        page.get_by_test_id("letter-pdf").click()
    pdf_path = tmp_path / "letter.pdf"
    pdf_download.value.save_as(pdf_path)
    pdf = pypdfium2.PdfDocument(pdf_path)
    text = " ".join(p.get_textpage().get_text_range() for p in pdf).replace("\r\n", " ")
    pdf.close()
    assert "A treatment our clinic offers may help you" in " ".join(text.split())

    with page.expect_download() as ics_download:
        page.get_by_test_id("consult-ics").click()
    ics_path = tmp_path / "consult.ics"
    ics_download.value.save_as(ics_path)
    ics = ics_path.read_text()
    assert "BEGIN:VEVENT" in ics and "Room 4" in ics.replace("\r\n ", "")
    check_page(page, "after the downloads")
