"""The case remembers the patient's language: on the case, in the admin, on the dashboard, in every message."""

import pytest
from django.core import mail
from django.urls import reverse

from intake.admin.selectors import dashboard_for
from intake.models import ReviewRequest
from tests.intake.helpers import step_url, submit_complete

pytestmark = pytest.mark.django_db


def _submit_in(client, language):
    client.post(reverse("set_language"), {"language": language, "next": step_url("safety")})
    response = submit_complete(client)
    assert response.status_code == 302, response.status_code
    return ReviewRequest.objects.get()


def test_a_request_made_in_spanish_is_a_spanish_case(client, seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _submit_in(client, "es")
    assert case.language == "es"
    # The consent records the text's version and the language it was shown in.
    assert case.consent_version.endswith("/es")


def test_a_request_made_in_english_stays_english(client, seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = _submit_in(client, "en")
    assert case.language == "en"
    assert case.consent_version.endswith("/en")


def test_the_confirmation_email_goes_in_the_case_language_whatever_the_sender(
    client, seeded, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from intake.services.notifications import notification_send

    with django_capture_on_commit_callbacks(execute=False):
        case = _submit_in(client, "es")
    # Sent by a worker whose own language is English: the case's language wins.
    with translation.override("en"):
        notification_send(notification_id=case.notifications.get().pk)
    [message] = mail.outbox
    assert case.reference in message.subject
    assert "Recibimos su solicitud" in message.subject
    assert "We received" not in message.subject + message.body
    assert "Gracias" in message.body


def test_staff_filter_the_list_by_language(admin_client, seeded, django_capture_on_commit_callbacks):
    from tests.factories import CaseFactory

    CaseFactory(language="es", last_name="Spanishcase")
    CaseFactory(language="en", last_name="Englishcase")
    url = reverse("admin:intake_reviewrequest_changelist")
    html = admin_client.get(url, {"language__exact": "es"}).content.decode()
    assert "Spanishcase" in html and "Englishcase" not in html


def test_the_dashboard_counts_requests_by_language(admin_user, seeded):
    from tests.factories import CaseFactory

    CaseFactory.create_batch(2, language="es")
    CaseFactory(language="en")
    board = dashboard_for(admin_user)
    assert dict(board.languages) == {"English": 1, "Español": 2}


# --- The whole request in Spanish -------------------------------------------------
def _english_phrases():
    """Every translated English message of some length, as a patient would read it."""
    import re
    from pathlib import Path

    import polib
    from django.conf import settings

    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale/es/LC_MESSAGES/django.po"))
    phrases = set()
    for entry in po.translated_entries():
        text = entry.msgid
        if entry.msgid_plural or re.search(r"%\(|\{|<|&", text) or len(text) < 16 or entry.msgstr == text:
            continue
        phrases.add(text)
    return phrases


def _visible_text(html: str) -> str:
    import html as html_lib
    import re

    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(html_lib.unescape(html).split())


def test_the_whole_request_in_spanish_shows_no_english_message(client, seeded, django_capture_on_commit_callbacks):
    from intake.status_links import status_link
    from tests.intake.helpers import CONSENT, STEPS

    english = _english_phrases()
    assert len(english) > 200  # the check would be empty if the catalogue could not be read

    def check(response):
        assert response.status_code == 200, response.status_code
        text = _visible_text(response.content.decode())
        found = sorted(p for p in english if p in text)
        assert not found, found[:5]
        return text

    # The patient chooses Español on the first step itself.
    client.get(step_url("safety"))
    client.post(reverse("set_language"), {"language": "es", "next": step_url("safety")})
    assert "Primero, su seguridad" in check(client.get(step_url("safety")))
    for name, data in STEPS:
        text = check(client.get(step_url(name)))
        if name == "mri":
            assert "enero" in text and "January" not in text  # month names too
        assert client.post(step_url(name), data).status_code == 302, name
    check(client.get(step_url("consent")))
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(step_url("consent"), CONSENT)
    assert response.status_code == 302
    confirmation = check(client.get(response.headers["Location"]))
    assert "Gracias, tenemos su solicitud" in confirmation

    case = ReviewRequest.objects.get()
    assert case.language == "es" and case.consent_version.endswith("/es")
    # The date promised on the confirmation, in Spanish words and order.
    assert " de 20" in confirmation and "hora del Centro" in confirmation

    status = status_link(case)
    check(client.get(status))
    page = check(client.post(status, {"date_of_birth": "1970-03-21"}, follow=True))
    assert case.reference in page and "Su solicitud" in page


def test_a_form_error_reads_in_spanish(client):
    client.post(reverse("set_language"), {"language": "es", "next": step_url("safety")})
    html = client.post(step_url("safety"), {}).content.decode()
    assert "Responda sí o no." in html
    assert "Please answer yes or no." not in html


# --- Routing by language ------------------------------------------------------------
def test_a_rule_can_send_spanish_requests_to_their_own_queue():
    from intake.models import RoutingRule, StaffQueue
    from intake.rules import CaseFacts, decide

    spanish_queue, general = StaffQueue(name="Spanish-speaking intake"), StaffQueue(name="General intake")
    rules = [
        RoutingRule(priority=5, name="Spanish", target_queue=spanish_queue, if_language="es"),
        RoutingRule(priority=90, name="Anything else", target_queue=general),
    ]
    spanish = decide(CaseFacts(language="es", regions=("neck",)), rules)
    assert spanish.queue is spanish_queue
    assert "language: es" in spanish.reason
    assert decide(CaseFacts(language="en", regions=("neck",)), rules).queue is general


def test_a_case_routed_from_a_spanish_request_keeps_english_reasons_for_staff():
    from django.utils import translation

    from intake.models import RoutingRule, StaffQueue
    from intake.rules import CaseFacts, decide

    rule = RoutingRule(priority=40, name="Neck", target_queue=StaffQueue(name="Neck"), if_regions=["neck"])
    with translation.override("es"):
        decision = decide(CaseFacts(language="es", regions=("neck",)), [rule])
    assert "region: neck" in decision.reason
    assert "cuello" not in decision.reason.lower()


@pytest.mark.parametrize(
    "kind, spanish, english",
    [
        ("patient_status", "Novedades sobre su solicitud", "An update on your request"),
        ("patient_result", "Su resultado está listo", "Your result is ready"),
    ],
)
def test_later_patient_emails_go_in_the_case_language(kind, spanish, english):
    from django.utils import translation

    from intake.models import Notification
    from intake.services.notifications import notification_send
    from tests.factories import CaseFactory

    case = CaseFactory(language="es")
    n = Notification.objects.create(case=case, kind=kind, recipient=case.email, dedupe_key=f"{kind}:{case.pk}")
    with translation.override("en"):
        assert notification_send(notification_id=n.pk)
    [message] = mail.outbox
    assert spanish in message.subject and english not in message.subject
    assert "Hola:" in message.body and "Hello," not in message.body


@pytest.mark.parametrize(
    "name, data, spanish",
    [
        ("empty.pdf", b"", "Este archivo está vacío."),
        ("notes.txt", b"just some words, not a scan " * 20, "Aceptamos PDF, JPEG, PNG, DICOM o un ZIP"),
    ],
)
def test_upload_refusals_read_in_spanish(client, settings, tmp_path, name, data, spanish):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.intake.helpers import fill_until

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client.post(reverse("set_language"), {"language": "es", "next": step_url("safety")})
    fill_until(client, last="safety")
    response = client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile(name, data)}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert spanish in str(response.json())
