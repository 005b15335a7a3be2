"""The result letter and the clinical summary, read back from the PDFs, and
the patient's downloads from the status page."""

import re

import pypdfium2
import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from intake.status_links import status_link, status_token
from intake.transitions import Status
from reviews import documents
from reviews.selectors import review_current
from reviews.services import consult_schedule, review_save

from .conftest import review_data

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()
    return re.sub(r"\s+", " ", text)


def _decided(staff, case, decision):
    review_save(case=case, author=staff.clinician, data=review_data(decision), expected_version=0)
    case.refresh_from_db()
    return review_current(case.pk)


URGENT = "Call 911 or go to the nearest emergency department"
DOCTOR = "Please speak with your doctor"
WORDING = {
    "candidate": ["A treatment our clinic offers may help you", "We will contact you to book a consultation"],
    "not_candidate": [
        "not the best fit for you at this time",
        "Physical therapy twice a week for eight weeks",
    ],
    "needs_more_info": ["we need more information from you", "The date and result of your last nerve test"],
    "new_imaging": ["The doctor recommends new imaging", "A new MRI of the lower back, without contrast"],
}


@pytest.mark.parametrize("decision", list(WORDING))
def test_the_letter_says_what_the_decision_means_in_plain_words(staff, in_review, decision):
    version = _decided(staff, in_review, decision)
    text = pdf_text(documents.letter_pdf(in_review, version))

    assert "What we reviewed" in text and "your MRI images" in text
    for phrase in WORDING[decision]:
        assert phrase in text
    for other, phrases in WORDING.items():
        if other != decision:
            assert phrases[0] not in text
    assert URGENT in text and DOCTOR in text
    assert in_review.reference in text
    # Level-by-level findings are for the doctor's summary, not the letter.
    assert "L4–5" not in text and "L4-5" not in text


def test_the_letter_for_a_request_without_an_mri_does_not_speak_of_one(staff):
    from tests.intake.test_admin_support import make_case

    case = make_case(staff.queue_a, status=Status.IN_REVIEW, mri_status="none")
    version = _decided(staff, case, "needs_more_info")
    text = pdf_text(documents.letter_pdf(case, version))
    assert "MRI images" not in text and "the answers you gave" in text


def test_the_clinical_summary_lists_findings_by_level_on_one_page(staff, in_review):
    version = _decided(staff, in_review, "candidate")
    data = documents.summary_pdf(in_review, version)
    text = pdf_text(data)
    assert len(pypdfium2.PdfDocument(data)) == 1
    assert "Findings by level" in text
    assert re.search(r"L4–5 yes yes, left", text)
    assert re.search(r"L5–S1 — — Moderate Mild, both sides", text)
    assert "Wear and tear of the lowest discs" in text
    # Signed as patients read staff names (clinic.StaffProfile), never by sign-in name.
    assert "Reviewed by: a doctor on our spine team" in text and "clinician_a" not in text


def test_documents_fetch_nothing_from_outside_the_project(settings):
    fetcher = documents._fetcher()
    for url in ("https://example.com/x.png", "file:///etc/passwd", "http://127.0.0.1:8000/static/css/site.css"):
        with pytest.raises(ValueError, match="project's own files"):
            fetcher.fetch(url)
    # A project file is served.
    css = next((documents._project_static() / "css").glob("*.css"))
    assert fetcher.fetch(css.as_uri()) is not None


# --- The status page and its downloads --------------------------------------------
def _verify(client, case):
    return client.post(status_link(case), {"date_of_birth": case.date_of_birth.isoformat()})


def _url(name, case):
    return reverse(f"intake:reviews:{name}", args=[status_token(case)])


def test_after_the_dob_check_the_letter_is_on_the_status_page_and_downloads(client, staff, in_review):
    _decided(staff, in_review, "not_candidate")
    response = _verify(client, in_review)
    page = response.content.decode()
    assert 'data-testid="result-letter"' in page and "not the best fit for you" in page
    # The page's own links (its token), which the patient follows.
    links = {testid: href for href, testid in re.findall(r'href="([^"]+)" download data-testid="([a-z-]+)"', page)}
    assert set(links) == {"letter-pdf", "summary-pdf"}

    before = AuditEntry.objects.filter(object_ref=in_review.reference).count()
    for name in ("letter-pdf", "summary-pdf"):
        download = client.get(links[name])
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert "no-store" in download["Cache-Control"].split(", ")
        assert "attachment" in download["Content-Disposition"]
    entries = AuditEntry.objects.filter(object_ref=in_review.reference).order_by("-id")[:2]
    assert AuditEntry.objects.filter(object_ref=in_review.reference).count() == before + 2
    assert {e.summary for e in entries} == {
        "Patient downloaded the result letter from the status page",
        "Patient downloaded the clinical summary from the status page",
    }


def test_downloads_need_the_dob_check_of_this_very_case(client, staff, in_review):
    from tests.intake.test_admin_support import make_case

    _decided(staff, in_review, "candidate")
    assert client.get(_url("letter_pdf", in_review)).status_code == 404
    other = make_case(staff.queue_a, status=Status.IN_REVIEW)
    _verify(client, other)
    assert client.get(_url("letter_pdf", in_review)).status_code == 404
    assert client.get(reverse("intake:reviews:letter_pdf", args=["not-a-token"])).status_code == 404


def test_the_download_urls_carry_no_health_data(staff, in_review):
    _decided(staff, in_review, "candidate")
    for name in ("letter_pdf", "summary_pdf", "consult_ics"):
        url = _url(name, in_review)
        for private in (in_review.last_name, in_review.first_name, in_review.reference, "1970", "candidate"):
            assert private not in url


def test_no_letter_while_a_newer_review_is_under_way(client, staff, in_review):
    from intake.services.lifecycle import case_transition

    _decided(staff, in_review, "needs_more_info")
    case_transition(case_id=in_review.pk, to_status=Status.IN_REVIEW, actor=staff.coord_a)
    page = _verify(client, in_review).content.decode()
    assert 'data-testid="result-letter"' not in page
    assert client.get(_url("letter_pdf", in_review)).status_code == 404


def test_the_consult_is_on_the_status_page_with_its_ics(client, staff, in_review):
    from datetime import timedelta

    from django.utils import timezone

    _decided(staff, in_review, "candidate")
    consult_schedule(
        case=in_review,
        actor=staff.coord_a,
        starts_at=timezone.now() + timedelta(days=3),
        clinician=staff.clinician,
        video_url="https://video.example/r/xyz",
    )
    page = _verify(client, in_review).content.decode()
    assert 'data-testid="consult"' in page and "https://video.example/r/xyz" in page
    assert "Your consultation is booked:" in page and "We will contact you to book" not in page
    ics = client.get(_url("consult_ics", in_review))
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    assert "no-store" in ics["Cache-Control"].split(", ")
    assert b"BEGIN:VEVENT" in ics.content


def test_the_clinical_summary_stays_on_one_page_with_every_level_filled(staff, in_review):
    from reviews.choices import LEVELS

    every_level = [
        {
            "level": level,
            "disc_bulge": True,
            "herniation": True,
            "herniation_side": "both",
            "central_stenosis": "severe",
            "foraminal_side": "both",
            "foraminal_grade": "moderate",
            "spondylolisthesis": "1",
            "other": "Modic 2",
        }
        for level in LEVELS
    ]
    data = review_data("not_candidate", findings=every_level, impression="Worn discs at many levels. " * 12)
    version = review_save(case=in_review, author=staff.clinician, data=data, expected_version=0)
    pdf = pypdfium2.PdfDocument(documents.summary_pdf(in_review, version))
    assert len(pdf) == 1
    text = " ".join(pdf[0].get_textpage().get_text_range().split())
    assert "C2–3" in text and "L5–S1" in text
