"""English and Spanish: the switcher, the remembered choice, the language-keyed form cache."""

import re

import pytest
from django.urls import reverse

from intake import views as intake_views
from tests.intake.helpers import fill_until, step_url

pytestmark = pytest.mark.django_db

SWITCH = reverse("set_language")


def _switch(client, language, next_path):
    return client.post(SWITCH, {"language": language, "next": next_path})


def test_every_public_page_has_a_switcher_back_to_itself(client):
    for path in ("/", reverse("education:library"), reverse("intake:start"), reverse("privacy")):
        html = client.get(path).content.decode()
        assert f'action="{SWITCH}"' in html, path
        assert f'name="next" value="{path}"' in html, path
        assert re.search(r'name="language" value="es" lang="es"[^>]*>Español</button>', html), path
        assert '<html lang="en">' in html, path


def test_switching_is_remembered_and_marks_the_page_spanish(client):
    response = _switch(client, "es", "/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.cookies["django_language"].value == "es"
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html
    # The switcher now offers English, named in English (not "Inglés").
    assert re.search(r'name="language" value="en" lang="en"[^>]*>English</button>', html)
    assert 'name="language" value="es"' not in html


def test_a_page_in_either_language_varies_on_the_cookie(client):
    # The same address serves both languages: a cached English page must not
    # come back after the patient switched.
    response = client.get("/")
    assert "Cookie" in response.headers["Vary"]
    assert "Accept-Language" in response.headers["Vary"]


def test_hreflang_alternates_show_each_language_without_changing_the_choice(client):
    html = client.get("/").content.decode()
    assert re.search(r'hreflang="es" href="http://testserver/\?lang=es"', html)
    assert re.search(r'hreflang="x-default" href="http://testserver/"', html)
    assert '<html lang="es">' in client.get("/?lang=es").content.decode()
    assert "django_language" not in client.cookies
    assert '<html lang="en">' in client.get("/").content.decode()


def test_switching_on_a_step_keeps_the_step_and_the_draft(client, seeded):
    fill_until(client, last="contact")
    path = step_url("contact")
    response = _switch(client, "es", path)
    assert response.headers["Location"] == path
    html = client.get(path).content.decode()
    assert '<html lang="es">' in html
    # The answers given in English are still there after the switch.
    assert 'value="Pat"' in html
    assert 'value="pat@example.com"' in html


def test_blank_form_cache_is_kept_per_language(client):
    intake_views._BLANK_FORM_HTML.clear()
    english_label, spanish_label = "New loss of control of your bladder", "Pérdida reciente del control de la vejiga"
    english = client.get(step_url("safety")).content.decode()
    spanish = client.get(step_url("safety") + "?lang=es").content.decode()
    again = client.get(step_url("safety")).content.decode()
    assert english_label in english and spanish_label not in english
    # A cached English form is never served to a Spanish reader, nor the reverse.
    assert spanish_label in spanish and english_label not in spanish
    assert english_label in again and spanish_label not in again
    assert {("safety", "en"), ("safety", "es")} <= set(intake_views._BLANK_FORM_HTML)


def test_switcher_adds_no_script_and_the_policy_still_forbids_inline_script(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    form = re.search(
        r'<form[^>]*set_language.*?</form>|<form[^>]*action="/i18n/setlang/".*?</form>', response.content.decode(), re.S
    )
    assert form is not None
    assert "<script" not in form.group(0) and "onclick" not in form.group(0)


def test_a_browser_set_to_spanish_gets_spanish_until_the_patient_chooses(client):
    assert '<html lang="es">' in client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    # The switcher's choice wins over the browser's.
    _switch(client, "en", "/")
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()


def _state_names(html):
    select = re.search(r'<select name="state".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', select)


def test_the_states_are_named_and_ordered_in_the_patients_language(client, seeded):
    fill_until(client, last="safety")
    path = step_url("contact")
    english = _state_names(client.get(path).content.decode())
    assert len(english) == 51
    assert english.index("New York") < english.index("North Carolina") < english.index("Ohio")
    _switch(client, "es", path)
    spanish = _state_names(client.get(path).content.decode())
    assert len(spanish) == 51
    assert "Nueva York" in spanish and "New York" not in spanish
    # Alphabetical as a Spanish reader scans it: the Carolinas among the C's,
    # Míchigan among the M's whatever its accent.
    assert spanish.index("California") < spanish.index("Carolina del Norte") < spanish.index("Colorado")
    assert spanish.index("Maryland") < spanish.index("Míchigan") < spanish.index("Minnesota")
    # The state is stored by its code, whatever the language it was chosen in.
    assert re.search(r'<option value="NY"[^>]*>Nueva York</option>', client.get(path).content.decode())
