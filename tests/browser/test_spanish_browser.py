"""The patient's path in Spanish in a real browser at 360 px: chosen on the home
page, every step, confirmation and status page, checked with axe-core, for CSP
violations and for any English message of the catalogue left on the page."""

import re

import pytest
from playwright.sync_api import expect

from intake.choices import RedFlag
from intake.models import ReviewRequest
from tests.intake.test_language import _english_phrases

from .conftest import axe_violations, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_page(browser, live_server):
    context, pg = open_page(browser, live_server, width=360, height=740)
    yield pg
    context.close()


def test_a_patient_who_chooses_espanol_never_reads_english(phone_page, live_server, seeded_tx):
    page = phone_page
    english = _english_phrases()

    def check(where):
        page.wait_for_load_state("load")
        assert page.evaluate("() => document.documentElement.lang") == "es", where
        assert axe_violations(page) == [], where
        assert page.watch.csp_violations == [], where
        assert page.watch.foreign_requests == [], where
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), where
        text = " ".join(page.inner_text("body").split())
        found = sorted(p for p in english if p in text)
        assert not found, (where, found[:5])

    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Español").click()
    # The page comes back in Spanish (checked on it, not on the English page it replaces).
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check("home")
    page.get_by_role("link", name="Pedir una revisión gratuita de resonancia").click()
    page.wait_for_url(re.compile(r"/mri-review/(\?|$)"))
    check("safety")
    for flag in RedFlag:
        page.locator(f'input[name="{flag.value}"][value="no"]').check()
    page.get_by_role("button", name="Continuar").click()

    page.locator('input[name="first_name"]').fill("Rosa")
    page.get_by_label("Apellidos").fill("Navegador")
    page.get_by_label("Fecha de nacimiento").fill("1968-07-14")
    page.get_by_label("Dirección de correo electrónico").fill("rosa@example.com")
    page.get_by_label("Número de teléfono").fill("(312) 555-0177")
    page.get_by_label("Código postal (ZIP)").fill("60614")
    page.locator('select[name="state"]').select_option("IL")
    page.locator('input[name="contact_method"][value="email"]').check()
    page.locator('input[name="contact_time"][value="any"]').check()
    check("contact")
    page.get_by_role("button", name="Continuar").click()

    page.locator('input[name="regions"][value="neck"]').check()
    page.locator('input[name="side"][value="right"]').check()
    page.locator('input[name="pain_duration"][value="3m_12m"]').check()
    page.locator('input[name="severity"]').fill("7")
    for name in ("radiating_pain", "numbness", "weakness"):
        page.locator(f'input[name="{name}"][value="no"]').check()
    check("pain")
    page.get_by_role("button", name="Continuar").click()

    page.locator('input[name="diagnoses"][value="bulging_disc"]').check()
    page.locator('input[name="prior_surgery"][value="no"]').check()
    check("history")
    page.get_by_role("button", name="Continuar").click()

    page.locator('input[name="mri_status"][value="centre_sends"]').check()
    page.get_by_label("Mes en que se hizo").select_option("5")
    page.get_by_label("Año en que se hizo").fill("2026")
    page.locator('input[name="mri_region"][value="neck"]').check()
    page.get_by_label("Centro de imágenes (nombre y ciudad)").fill("North Side Imaging")
    check("mri")
    page.get_by_role("button", name="Continuar").click()

    page.get_by_label("¿Cómo supo de nosotros?").select_option("article")
    page.locator('input[name="consent_privacy"]').check()
    page.locator('input[name="consent_email"]').check()
    check("consent")
    page.get_by_role("button", name="Enviar mi solicitud").click()

    page.get_by_text("Gracias, tenemos su solicitud").wait_for()
    check("confirmation")
    case = ReviewRequest.objects.get()
    assert case.language == "es"
    page.get_by_test_id("status-link").click()
    page.get_by_label("Su fecha de nacimiento").wait_for()
    check("status check")
    page.get_by_label("Su fecha de nacimiento").fill("1968-07-14")
    page.get_by_role("button", name="Ver mi solicitud").click()
    page.get_by_text(case.reference).first.wait_for()
    check("status")


def test_switching_language_mid_form_loses_nothing(phone_page, live_server, seeded_tx):
    page = phone_page
    page.goto(live_server.url + "/mri-review/")
    for flag in RedFlag:
        page.locator(f'input[name="{flag.value}"][value="no"]').check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Switch")
    page.get_by_label("Date of birth").fill("1968-07-14")
    page.get_by_label("Email address").fill("rosa@example.com")
    page.get_by_label("Phone number").fill("(312) 555-0177")
    page.get_by_label("ZIP code").fill("60614")
    page.get_by_label("State").select_option("IL")
    page.locator('input[name="contact_method"][value="email"]').check()
    page.locator('input[name="contact_time"][value="any"]').check()
    page.get_by_role("button", name="Continue").click()
    # the contact step has a Back link too: the pain step's is the one wanted
    page.wait_for_url(re.compile(r"/mri-review/step/pain/$"))
    page.get_by_role("link", name="Back").click()
    page.wait_for_url(re.compile(r"/mri-review/step/contact/$"))

    contact_url = page.url
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url == contact_url  # the same step
    assert page.locator('input[name="first_name"]').input_value() == "Rosa"
    assert page.get_by_label("Dirección de correo electrónico").input_value() == "rosa@example.com"
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == contact_url
    assert page.get_by_label("Last name").input_value() == "Switch"
