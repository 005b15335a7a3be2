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
