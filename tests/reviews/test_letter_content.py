"""Issue 23 point 5: the result letter (status page and PDF) carries the booked
consult's date, time (the clinic's zone, named) and place, the signer's name
and credentials from their staff profile (never the sign-in name), the
clinic's address, a candidate's plan, and one date format per language."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import translation

from clinic.models import StaffProfile
from intake.status_links import status_link
from intake.transitions import Status
from reviews import documents
from reviews.selectors import review_current
from reviews.services import consult_schedule, review_save
from tests.intake.test_admin_support import make_case

from .conftest import review_data
from .test_documents import pdf_text

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# A Tuesday, far enough ahead to be bookable whenever the tests run.
CONSULT_AT = datetime(2030, 12, 10, 14, 30, tzinfo=CHICAGO)
PLAN = "Keep walking every day; we will look at a decompression at L4-5 together."
ROOM = "2nd floor, Room 4"
EN_MONTHS = "January February March April May June July August September October November December".split()
ES_MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
# Anything that looks like a date written another way: "Dec. 7, 2026",
# "December 7, 2026", "12/07/2026", "2026-12-07", "07/12/2026".
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\\.?"
OTHER_DATE_FORMATS = re.compile(
    rf"\b(?:{_MONTH} \d{{1,2}}, \d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}})"
)


def _day(moment, language):
    local = moment.astimezone(CHICAGO)
    if language == "es":
        return f"{local.day} de {ES_MONTHS[local.month - 1]} de {local.year}"
    return f"{local.day} {EN_MONTHS[local.month - 1]} {local.year}"


@pytest.fixture
def profile(staff):
    return StaffProfile.objects.create(
        user=staff.clinician,
        display_name_en="Dr Ana Ruiz",
        display_name_es="Dra. Ana Ruiz",
        credentials_en="MD, spine surgeon",
        credentials_es="MD, cirujana de columna",
    )


def _candidate_booked(staff, language="en", **consult):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language=language)
    review_save(
        case=case, author=staff.clinician, data=review_data("candidate", decision_detail=PLAN), expected_version=0
    )
    booking = {"place": ROOM, **consult}
    consult_schedule(case=case, actor=staff.coord_a, starts_at=CONSULT_AT, clinician=staff.clinician, **booking)
    case.refresh_from_db()
    return case, review_current(case.pk)


def _letter_pdf(case, version, language):
    with translation.override(language):
        return pdf_text(documents.letter_pdf(case, version))


def _status_page(client, case, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(status_link(case), {"date_of_birth": case.date_of_birth.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('data-testid="result-letter"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:]).split())


def test_the_english_letter_names_the_consult_signer_address_and_plan(staff, profile):
    case, version = _candidate_booked(staff)
    text = _letter_pdf(case, version, "en")

    assert "Your consultation is booked:" in text
    assert "Tuesday 10 December 2030, at 2:30 p.m., the clinic's time (Central)" in text
    assert f"{ROOM}, {settings.INTAKE_CLINIC_ADDRESS}" in text
    assert "With Dr Ana Ruiz, MD, spine surgeon" in text
    assert "Reviewed by Dr Ana Ruiz, MD, spine surgeon" in text
    assert settings.INTAKE_CLINIC_ADDRESS in text
    assert "The plan the doctor suggests for you:" in text and PLAN in text
    assert f"Written on {_day(version.created_at, 'en')}" in text
    assert not OTHER_DATE_FORMATS.search(text), OTHER_DATE_FORMATS.search(text)
    assert "clinician_a" not in text  # the sign-in name


def test_the_spanish_letter_says_the_same_in_spanish_with_spanish_dates(staff, profile):
    case, version = _candidate_booked(staff, language="es")
    text = _letter_pdf(case, version, "es")

    assert "Su consulta está reservada:" in text
    assert "martes 10 de diciembre de 2030, a las 2:30 p.m., hora de la clínica (hora del Centro)" in text
    assert "Con Dra. Ana Ruiz, MD, cirujana de columna" in text
    assert "Revisado por Dra. Ana Ruiz, MD, cirujana de columna" in text
    assert settings.INTAKE_CLINIC_ADDRESS in text and PLAN in text
    assert f"Escrita el {_day(version.created_at, 'es')}" in text
    assert not OTHER_DATE_FORMATS.search(text), OTHER_DATE_FORMATS.search(text)
    for english in ("Your consultation", "Reviewed by", "Written on", "December", "Tuesday"):
        assert english not in text


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_letter_on_the_status_page_carries_the_same(client, staff, profile, language):
    case, version = _candidate_booked(staff, language=language)
    letter = _status_page(client, case, language)

    when = {"en": "Tuesday 10 December 2030", "es": "martes 10 de diciembre de 2030"}[language]
    signer = {"en": "Dr Ana Ruiz , MD, spine surgeon", "es": "Dra. Ana Ruiz , MD, cirujana de columna"}[language]
    assert when in letter and ROOM in letter and settings.INTAKE_CLINIC_ADDRESS in letter
    assert signer in letter and PLAN in letter
    assert _day(version.created_at, language) in letter
    assert not OTHER_DATE_FORMATS.search(letter)
    assert "clinician_a" not in letter


def test_a_video_consult_gives_its_link_and_no_address_line(staff, profile):
    case, version = _candidate_booked(staff, place="", video_url="https://video.example/r/xyz")
    text = _letter_pdf(case, version, "en")
    assert "By video: https://video.example/r/xyz" in text
    assert ROOM not in text


def test_a_place_with_the_address_in_it_is_not_given_the_address_twice(staff, profile):
    place = f"Annex, {settings.INTAKE_CLINIC_ADDRESS}"
    case, version = _candidate_booked(staff, place=place)
    lines = documents.consult_place_lines(case.consults.get())
    assert lines == [place]


def test_without_a_profile_the_letter_never_prints_the_sign_in_name(staff):
    case, version = _candidate_booked(staff)
    text = _letter_pdf(case, version, "en")
    summary = pdf_text(documents.summary_pdf(case, version))
    assert "Reviewed by a doctor on our spine team" in text
    assert "With a doctor on our spine team" in text
    assert "Reviewed by: a doctor on our spine team" in summary
    for document in (text, summary):
        assert "clinician_a" not in document


def test_a_full_name_is_used_when_there_is_no_profile(staff):
    staff.clinician.first_name, staff.clinician.last_name = "Dana", "Okafor"
    staff.clinician.save()
    case, version = _candidate_booked(staff)
    assert "Reviewed by Dana Okafor" in _letter_pdf(case, version, "en")


def test_the_summary_for_the_doctor_is_signed_with_name_and_credentials(staff, profile):
    case, version = _candidate_booked(staff)
    with translation.override("en"):
        summary = pdf_text(documents.summary_pdf(case, version))
    assert f"Reviewed by: Dr Ana Ruiz, MD, spine surgeon · {_day(version.created_at, 'en')}" in summary
    assert settings.INTAKE_CLINIC_ADDRESS in summary


def test_a_candidate_without_a_booking_is_told_it_will_be_booked(staff, profile):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    case.refresh_from_db()
    text = _letter_pdf(case, review_current(case.pk), "en")
    assert "We will contact you to book a consultation" in text
    assert "Your consultation is booked" not in text and "The plan the doctor suggests" not in text
