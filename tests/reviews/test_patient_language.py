"""Issue 23 point 3, the review form's side: the form shows the patient's
language; when it differs from the clinic's the clinician writes the
patient-facing text in it (or ticks that the English goes, after a clear
warning); the letter shows that text, the clinical summary keeps the English."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from intake.transitions import Status
from patientloop.models import PatientRequest
from reviews.documents import document_context
from reviews.forms import ReviewForm
from reviews.services import review_save
from tests.intake.test_admin_support import make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db

SPANISH = {
    "impression_patient": "Desgaste de los discos más bajos de la espalda.",
    "decision_detail_patient": "",
    "next_step_patient": "Una consulta con nuestro cirujano de columna.",
}


def _form(language, **extra):
    data = {
        "version": 0,
        "impression": "Wear of the lowest discs.",
        "decision": "candidate",
        "next_step": "A consultation with our spine surgeon.",
        **extra,
    }
    return ReviewForm(data, patient_language=language)


def test_a_spanish_patients_review_needs_the_spanish_text_or_the_english_ticked():
    form = _form("es")
    assert not form.is_valid()
    assert "The patient reads Spanish (Español)" in form.errors["impression_patient"][0]
    assert "next_step_patient" in form.errors and "decision_detail_patient" not in form.errors
    assert _form("es", **SPANISH).is_valid()
    assert _form("es", english_for_patient="on").is_valid()


def test_an_english_patients_review_has_no_second_fields():
    form = _form("en")
    assert form.is_valid()
    assert "impression_patient" not in form.fields and "english_for_patient" not in form.fields


def test_the_letter_shows_the_patients_language_text_and_the_summary_keeps_the_english(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language="es")
    version = review_save(
        case=case, author=staff.clinician, data=review_data("candidate", **SPANISH), expected_version=0
    )
    assert version.patient_language == "es"
    context = document_context(case, version)
    with translation.override("es"):
        letter = render_to_string("reviews/_letter_body.html", context)
        summary = render_to_string("reviews/pdf/summary.html", context)
    assert "Desgaste de los discos" in letter and "Una consulta con nuestro cirujano" in letter
    assert "Wear and tear of the lowest discs" not in letter
    assert "Wear and tear of the lowest discs" in summary and "Desgaste" not in summary
    # The same letter read in English (the switcher) shows the clinician's English.
    with translation.override("en"):
        english = render_to_string("reviews/_letter_body.html", context)
    assert "Wear and tear of the lowest discs" in english and "Desgaste" not in english


def test_the_questions_a_spanish_patient_is_asked_are_the_spanish_ones(staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language="es")
    review_save(
        case=case,
        author=staff.clinician,
        data=review_data("needs_more_info", decision_detail_patient="La fecha de su última prueba de nervios."),
        expected_version=0,
    )
    request = PatientRequest.objects.get(case=case)
    assert request.questions == "La fecha de su última prueba de nervios."


def test_the_review_page_says_which_language_the_patient_reads(client, staff):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language="es")
    client.force_login(staff.clinician)
    html = client.get(reverse("admin:reviews_case_review", args=[case.pk])).content.decode()
    assert 'id="patient-language"' in html and "Spanish (Español)" in html
    assert 'name="impression_patient"' in html and 'lang="es"' in html
    # Each field once: the English for the summary, the Spanish for the letter.
    assert html.count('name="impression"') == 1 and html.count('name="impression_patient"') == 1
