"""Issue 23 point 3: a case's pages speak the case's language, not the browser's.

The status link carries the case's language, signed; every page under it (the
date-of-birth check, the status page, the patient's actions and their
messages, an expired link's page) is rendered in it whatever the cookie or
Accept-Language say; the switcher still works, for that case, when the
patient uses it on those pages (intake.status_links.case_page_language)."""

import re

import pytest
from django.core import signing
from django.urls import reverse

from intake.status_links import STATUS_SALT, case_for_token, status_link, status_token
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"accept-language": "en-US,en;q=0.9"}
SPANISH_BROWSER = {"accept-language": "es-MX,es;q=0.9"}


def _lang(response) -> str:
    return re.search(r'<html lang="([a-z-]+)"', response.content.decode()).group(1)


def _stage(response) -> str:
    return re.search(r'data-testid="stage">([^<]*)<', response.content.decode()).group(1)


def _open(client, url, case, headers=ENGLISH_BROWSER):
    return client.post(url, {"date_of_birth": case.date_of_birth.isoformat()}, headers=headers)


def _switch(client, language, next_url, headers=ENGLISH_BROWSER):
    response = client.post(reverse("set_language"), {"language": language, "next": next_url}, headers=headers)
    assert response.status_code == 302


def test_the_link_carries_the_cases_language_signed():
    case = CaseFactory(language="es")
    data = signing.loads(status_token(case), salt=STATUS_SALT)
    assert data == {"r": case.reference, "l": "es"}
    assert case_for_token(status_token(case)) == case


def test_a_spanish_case_opens_in_spanish_in_an_english_browser(client):
    case = CaseFactory(language="es")
    url = status_link(case)
    # An English cookie from earlier browsing, and an English Accept-Language.
    _switch(client, "en", reverse("home"))
    check = client.get(url, headers=ENGLISH_BROWSER)
    assert check.status_code == 200 and _lang(check) == "es"
    assert "Vea en qué punto está su solicitud" in check.content.decode()
    page = _open(client, url, case)
    assert page.status_code == 200 and _lang(page) == "es" and page["Content-Language"] == "es"
    assert _stage(page) == "Tenemos su solicitud"
    # The switcher is still there, offering the other language.
    assert 'name="language" value="en"' in page.content.decode()


def test_an_english_case_opens_in_english_in_a_spanish_browser(client):
    case = CaseFactory(language="en")
    _switch(client, "es", reverse("home"), headers=SPANISH_BROWSER)
    page = _open(client, status_link(case), case, headers=SPANISH_BROWSER)
    assert _lang(page) == "en" and _stage(page) == "We have your request"


def test_a_link_made_before_links_carried_a_language_uses_the_cases(client):
    case = CaseFactory(language="es")
    old = reverse("intake:status", args=[signing.dumps({"r": case.reference}, salt=STATUS_SALT, compress=False)])
    page = _open(client, old, case)
    assert page.status_code == 200 and _lang(page) == "es" and _stage(page) == "Tenemos su solicitud"


def test_an_expired_link_says_so_in_its_language(client, settings):
    case = CaseFactory(language="es")
    url = status_link(case)
    settings.INTAKE_STATUS_TOKEN_MAX_AGE_DAYS = -1  # every link is past its age
    response = client.get(url, headers=ENGLISH_BROWSER)
    assert response.status_code == 410 and _lang(response) == "es"
    assert "Este enlace ha caducado" in response.content.decode()


def test_a_forged_link_is_refused_in_the_browsers_language(client):
    case = CaseFactory(language="es")
    forged = signing.dumps({"r": case.reference, "l": "es"}, salt="another-salt")
    response = client.get(reverse("intake:status", args=[forged]), headers=ENGLISH_BROWSER)
    assert response.status_code == 404 and _lang(response) == "en"


def test_the_patients_switch_on_the_case_pages_wins_for_that_case_only(client):
    spanish = CaseFactory(language="es")
    other = CaseFactory(language="es")
    url = status_link(spanish)
    _open(client, url, spanish)
    _switch(client, "en", url)
    page = client.get(url, headers=SPANISH_BROWSER)
    assert _lang(page) == "en" and _stage(page) == "We have your request"
    # A new link to the same case (a later message) keeps the patient's choice.
    assert _lang(client.get(status_link(spanish), headers=SPANISH_BROWSER)) == "en"
    # Another case's link, in the same browser, speaks its own language.
    assert _lang(client.get(status_link(other), headers=ENGLISH_BROWSER)) == "es"
    # Switching back on the page brings Spanish back.
    _switch(client, "es", url)
    assert _lang(client.get(url, headers=ENGLISH_BROWSER)) == "es"


def test_a_switch_made_elsewhere_on_the_site_does_not_decide(client):
    case = CaseFactory(language="es")
    url = status_link(case)
    _open(client, url, case)
    _switch(client, "en", reverse("education:library"))
    assert _lang(client.get(url, headers=ENGLISH_BROWSER)) == "es"


def test_the_patients_actions_answer_in_the_cases_language(client):
    case = CaseFactory(language="es")
    url = status_link(case)
    _open(client, url, case)
    response = client.post(
        reverse("intake:patientloop:contact", args=[status_token(case)]), {}, headers=ENGLISH_BROWSER, follow=True
    )
    html = response.content.decode()
    assert _lang(response) == "es"
    assert "Elija la forma en que prefiere que le contactemos." in html
    assert "Please choose the way you prefer us to contact you." not in html
