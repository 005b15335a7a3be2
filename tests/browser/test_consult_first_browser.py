"""Issue 23 point 5 in a real browser at 360 px: once a consult is booked it is
the first thing on the patient's status page (above the steps and the
letter, inside the first screen), and the letter PDF the patient downloads
carries the consult's date, time (the clinic's zone, named) and place, the
signer's name and credentials from their staff profile, and the clinic's
address."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from django.conf import settings

from clinic.models import StaffProfile
from intake.status_links import status_link
from intake.transitions import Status
from reviews.services import consult_schedule, review_save
from tests.factories import UserFactory
from tests.intake.test_admin_support import make_case

from .conftest import axe_violations, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h5-consult-letter")
CONSULT_AT = datetime(2030, 12, 10, 14, 30, tzinfo=ZoneInfo("America/Chicago"))  # a Tuesday
PLAN = "Keep walking every day; at the consultation we talk about the options."


@pytest.fixture
def booked(seeded_tx):
    queue = next(iter(seeded_tx.values()))
    coordinator = UserFactory(username="coord_h5", groups=["Coordinator"])
    clinician = UserFactory(username="clin_h5", groups=["Clinician"])
    StaffProfile.objects.create(user=clinician, display_name="Dr Ana Ruiz", credentials="MD, spine surgeon")
    case = make_case(queue, status=Status.IN_REVIEW)
    data = {
        "impression": "The lowest disc in your back is worn and presses on a nerve.",
        "decision": "candidate",
        "decision_detail": PLAN,
        "next_step": "Come to the consultation.",
        "findings": [],
        "no_images_reason": "No images sent with this request.",
    }
    review_save(case=case, author=clinician, data=data, expected_version=0)
    consult_schedule(case=case, actor=coordinator, starts_at=CONSULT_AT, clinician=clinician, place="2nd floor, Room 4")
    return case


@pytest.fixture
def phone(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def _clean(page, where):
    assert axe_violations(page) == [], where
    assert page.watch.csp_violations == [] and page.watch.foreign_requests == [], where
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), where


def test_the_booked_consult_is_first_on_the_status_page_and_in_the_pdf(booked, phone, live_server, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.goto(live_server.url + status_link(booked))
    phone.get_by_label("Your date of birth").fill(booked.date_of_birth.isoformat())
    phone.get_by_role("button", name="Show my request").click()
    consult = phone.get_by_test_id("consult")
    consult.wait_for()
    phone.screenshot(path=str(SHOTS / "status-360-top.png"))
    phone.screenshot(path=str(SHOTS / "status-360-full.png"), full_page=True)
    _clean(phone, "status page with a consult")

    box = consult.bounding_box()
    letter = phone.get_by_test_id("result-letter").bounding_box()
    steps = phone.locator("#steps-heading").bounding_box()
    heading = phone.get_by_test_id("stage").bounding_box()
    # First after the page's heading, above the steps and the letter, and on the first screen.
    assert heading["y"] + heading["height"] <= box["y"]
    assert box["y"] + box["height"] <= steps["y"] < letter["y"]
    assert box["y"] < 740 / 2, box

    text = " ".join(consult.inner_text().split())
    assert "Tuesday 10 December 2030" in text
    assert "2:30 p.m., the clinic's time (Central)" in text
    assert f"2nd floor, Room 4 {settings.INTAKE_CLINIC_ADDRESS}" in text
    assert "Dr Ana Ruiz, MD, spine surgeon" in text
    assert "What to bring" in text and "a list of the medicines you take" in text
    assert f"To change or cancel it, call us at {settings.INTAKE_CLINIC_PHONE}" in text
    assert booked.reference in text

    # The letter PDF, downloaded as the patient does (rendered on request: the
    # first PDF in a process also loads WeasyPrint and its fonts).
    with phone.expect_download(timeout=30_000) as download:
        phone.get_by_test_id("letter-pdf").click()
    pdf_path = tmp_path / "letter.pdf"
    download.value.save_as(pdf_path)
    pdf = pypdfium2.PdfDocument(str(pdf_path))
    try:
        pdf_text = " ".join(" ".join(p.get_textpage().get_text_range() for p in pdf).split())
    finally:
        pdf.close()
    assert "Tuesday 10 December 2030, at 2:30 p.m., the clinic's time (Central)" in pdf_text
    assert f"2nd floor, Room 4, {settings.INTAKE_CLINIC_ADDRESS}" in pdf_text
    assert "Reviewed by Dr Ana Ruiz, MD, spine surgeon" in pdf_text
    assert "With Dr Ana Ruiz, MD, spine surgeon" in pdf_text
    assert PLAN in pdf_text
    assert "clin_h5" not in pdf_text
