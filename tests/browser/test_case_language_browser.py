"""Issue 23 point 3, "Done when": a Spanish patient opens the result link in a
fresh browser whose language is English (locale en-US, so Accept-Language
en-US) at 360 px, and gets the status page and the letter in Spanish, the
letter PDF in Spanish and the clinical summary PDF (for the patient's US
doctor) in English; the switcher still works for a patient who prefers
English, and the link in the result email is the one opened."""

import re
from datetime import timedelta

import pypdfium2
import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from intake.models import Notification, QueueMembership
from intake.services.notifications import notification_send
from intake.transitions import Status
from reviews.services import review_save
from tests.factories import CaseFactory, UserFactory
from tests.support.spanish import catalogue_english

from .conftest import PageWatch, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REVIEW = {
    "impression": "Desgaste de los discos más bajos, que presiona el nervio izquierdo.",
    "decision": "not_candidate",
    "decision_detail": "Fisioterapia dos veces por semana durante ocho semanas, y caminar cada día.",
    "next_step": "Hable con su médico sobre la fisioterapia.",
    "findings": [{"level": "L4-5", "disc_bulge": True, "herniation": True, "herniation_side": "left"}],
    # Where the review form has them (issue 23, point 4 and the patient-language
    # field): the decision without opened images, and the same text for the patient.
    "no_images_reason": "Solo el informe, sin imágenes.",
}
REVIEW |= {f"{field}_patient": REVIEW[field] for field in ("impression", "decision_detail", "next_step")}


@pytest.fixture
def spanish_result(seeded_tx):
    """A Spanish patient's case with its result."""
    queue = next(iter(seeded_tx.values()))
    clinician = UserFactory(username="dra_luna", groups=["Clinician"], first_name="Ana", last_name="Luna")
    QueueMembership.objects.create(queue=queue, user=clinician)
    now = timezone.now()
    case = CaseFactory(
        language="es",
        status=Status.IN_REVIEW,
        queue=queue,
        routed_at=now,
        sla_due_at=now + timedelta(hours=20),
        first_name="Rosa",
    )
    review_save(case=case, author=clinician, data=REVIEW, expected_version=0)
    case.refresh_from_db()
    return case


@pytest.fixture
def english_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    page.watch = PageWatch(page, live_server.url)
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _pdf_text(path) -> str:
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return " ".join(" ".join(p.get_textpage().get_text_range() for p in pdf).split())
    finally:
        pdf.close()


def _download(page, testid, tmp_path) -> str:
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return _pdf_text(target)


def _clean(page, where):
    page.wait_for_load_state("load")
    assert axe_violations(page) == [], where
    assert page.watch.csp_violations == [] and page.watch.foreign_requests == [], where
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), where


def test_a_spanish_patient_opens_the_result_link_in_an_english_browser(
    spanish_result, english_phone, live_server, tmp_path, settings
):
    page, case = english_phone, spanish_result
    settings.INTAKE_SITE_URL = live_server.url  # the links in the emails point at this server
    # The result email, sent as the worker sends it: its link is the one the patient opens.
    n = Notification.objects.create(case=case, kind="patient_result", recipient=case.email, dedupe_key="r")
    assert notification_send(notification_id=n.pk)
    [email] = mail.outbox
    assert "Su resultado está listo" in email.subject
    link = re.search(r"https?://\S+/mri-review/status/\S+/", email.body).group(0)

    assert page.evaluate("() => navigator.language") == "en-US"  # the browser's own language
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("Su fecha de nacimiento").fill(case.date_of_birth.isoformat())
    _clean(page, "status check")
    page.get_by_role("button", name="Ver mi solicitud").click()
    letter = page.get_by_test_id("result-letter")
    expect(letter).to_contain_text("Su resultado")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    _clean(page, "status page")
    body = " ".join(page.inner_text("body").split())
    assert not catalogue_english(body), catalogue_english(body)[:5]
    assert "Lo que revisamos" in body and "What we reviewed" not in body

    letter_pdf = _download(page, "letter-pdf", tmp_path)
    assert "Lo que revisamos" in letter_pdf and "What we reviewed" not in letter_pdf
    summary_pdf = _download(page, "summary-pdf", tmp_path)
    assert "Clinical summary of an MRI review" in summary_pdf and "Resumen clínico" not in summary_pdf

    # The switcher is there; a patient who prefers English gets English, letter PDF too.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("result-letter")).to_contain_text("Your result")
    assert "What we reviewed" in _download(page, "letter-pdf", tmp_path)
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_test_id("result-letter")).to_contain_text("Su resultado")
