"""Issue 23 point 3: the letter and both PDFs in the right language.

The patient's letter (on the status page and as a PDF) speaks the case's
language whatever the browser; the clinical summary for the patient's own
doctor speaks the clinic's (INTAKE_CLINICAL_SUMMARY_LANGUAGE), whatever the
patient reads; the FHIR export's letter is the case's language too."""

import re

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import translation

from intake.status_links import status_link, status_token
from reviews import documents
from reviews.selectors import review_current
from reviews.services import review_save

from .conftest import review_data

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"accept-language": "en-US,en;q=0.9"}
SPANISH_BROWSER = {"accept-language": "es-ES,es;q=0.9"}
# The same sentences of the letter and the summary in each language.
LETTER = {"en": "What we reviewed", "es": "Lo que revisamos"}
SUMMARY = {"en": "Clinical summary of an MRI review", "es": "Resumen clínico de una revisión de resonancia magnética"}


def _pdf_text(data: bytes) -> str:
    pdf = pypdfium2.PdfDocument(data)
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range() for p in pdf).split())
    finally:
        pdf.close()


def _decided(staff, case):
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    case.refresh_from_db()
    return review_current(case.pk)


def _download(client, name, case, headers):
    response = client.get(reverse(f"intake:reviews:{name}", args=[status_token(case)]), headers=headers)
    assert response.status_code == 200, response.status_code
    return _pdf_text(response.content)


@pytest.fixture
def spanish_case(staff, in_review):
    in_review.language = "es"
    in_review.save(update_fields=["language"])
    _decided(staff, in_review)
    return in_review


def test_a_spanish_patient_in_an_english_browser_reads_spanish_and_the_doctor_english(client, spanish_case):
    client.post(reverse("set_language"), {"language": "en", "next": "/"}, headers=ENGLISH_BROWSER)
    page = client.post(
        status_link(spanish_case), {"date_of_birth": spanish_case.date_of_birth.isoformat()}, headers=ENGLISH_BROWSER
    ).content.decode()
    assert re.search(r'<h2 class="h5" id="result-heading">Su resultado</h2>', page)
    assert LETTER["es"] in page and LETTER["en"] not in page

    letter = _download(client, "letter_pdf", spanish_case, ENGLISH_BROWSER)
    assert LETTER["es"] in letter and LETTER["en"] not in letter
    summary = _download(client, "summary_pdf", spanish_case, ENGLISH_BROWSER)
    assert SUMMARY["en"] in summary and SUMMARY["es"] not in summary


def test_after_the_patient_switches_the_letter_pdf_follows_and_the_summary_does_not(client, spanish_case):
    url = status_link(spanish_case)
    client.post(url, {"date_of_birth": spanish_case.date_of_birth.isoformat()}, headers=SPANISH_BROWSER)
    client.post(reverse("set_language"), {"language": "en", "next": url}, headers=SPANISH_BROWSER)
    letter = _download(client, "letter_pdf", spanish_case, SPANISH_BROWSER)
    assert LETTER["en"] in letter and LETTER["es"] not in letter
    summary = _download(client, "summary_pdf", spanish_case, SPANISH_BROWSER)
    assert SUMMARY["en"] in summary


def test_the_summary_language_is_the_clinics_setting(client, spanish_case, settings):
    settings.INTAKE_CLINICAL_SUMMARY_LANGUAGE = "es"
    version = review_current(spanish_case.pk)
    with translation.override("en"):
        assert SUMMARY["es"] in _pdf_text(documents.summary_pdf(spanish_case, version))


def test_the_letter_made_outside_the_status_page_is_in_the_cases_language(spanish_case):
    # The FHIR export renders the letter under the API's (English) language.
    version = review_current(spanish_case.pk)
    with translation.override("en"):
        text = _pdf_text(documents.letter_pdf(spanish_case, version))
    assert LETTER["es"] in text and LETTER["en"] not in text
