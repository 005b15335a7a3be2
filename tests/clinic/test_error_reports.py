"""Error mails to ADMINS and error logs carry no patient data: a marker planted
in a patient's answer (and in the error's own message, as a database error
quoting a value would) appears in no mail and no log line."""

import logging

import pytest
from django.core import mail
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from clinic.error_reports import PHISafeFormatter, redact_path, safe_traceback
from intake import views
from tests.factories import UserFactory
from tests.intake.helpers import CONTACT, SAFETY_NO, step_url

MARKER = "Zqxmarker7731"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(settings):
    settings.ADMINS = ["ops@clinic.example"]
    settings.DEBUG = False


def _boom(*args, **kwargs):
    raise IntegrityError(f'duplicate key value violates unique constraint "email" DETAIL: ({MARKER}@example.com)')


def _everything_mailed() -> str:
    parts = []
    for message in mail.outbox:
        parts += [message.subject, message.body]
        parts += [content for content, _ in getattr(message, "alternatives", [])]
        parts += [str(a) for a in message.attachments]
        parts.append(message.message().as_string())
    return "\n".join(parts)


def _everything_logged(records) -> str:
    """Each record as the site's console handler would write it, and its bare message."""
    formatter = PHISafeFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return "\n".join(f"{formatter.format(r)}\n{r.getMessage()}" for r in records)


def test_a_patients_answer_is_in_no_error_mail_and_no_log(admins, monkeypatch, caplog, capfd):
    client = Client(raise_request_exception=False)
    assert client.post(step_url("safety"), SAFETY_NO).status_code == 302
    # The failing request carries the marker in its POST data, the session
    # holds the earlier answers, and the error's message quotes the marker.
    monkeypatch.setattr(views, "redirect", _boom)
    with caplog.at_level(logging.INFO):
        response = client.post(
            step_url("contact") + f"?utm_term={MARKER}",
            {**CONTACT, "first_name": MARKER, "last_name": MARKER},
            HTTP_REFERER=f"https://clinic.example/?q={MARKER}",
            HTTP_COOKIE=f"marker={MARKER}",
        )
    assert response.status_code == 500
    assert MARKER not in response.content.decode()

    assert len(mail.outbox) == 1  # the report was sent: the test is not vacuous
    mailed = _everything_mailed()
    assert "django.db.utils.IntegrityError" in mailed and "Traceback" in mailed
    assert "POST /mri-review/step/contact/" in mailed and "intake:step" in mailed
    assert MARKER not in mailed
    assert "Pat" not in mailed and "pat@example.com" not in mailed  # the other answers neither

    logged = _everything_logged(caplog.records)
    assert "IntegrityError" in logged and "Internal Server Error" in logged
    assert MARKER not in logged
    captured = capfd.readouterr()
    assert MARKER not in captured.out + captured.err


def test_a_status_link_token_and_a_superusers_request_are_not_reported(admins, monkeypatch, caplog):
    """Staff requests carry patient data too; the status token opens a case."""
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_superuser=True, username="boss"))
    monkeypatch.setattr(views, "case_for_token", _boom)
    token = "Tok3n-" + MARKER
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("intake:status", args=[token]), {"date_of_birth": MARKER})
    assert response.status_code == 500
    mailed = _everything_mailed()
    assert len(mail.outbox) == 1 and "/mri-review/status/<token>/" in mail.outbox[0].subject
    assert "staff user boss" in mailed
    for secret in (MARKER, token):
        assert secret not in mailed
        assert secret not in _everything_logged(caplog.records)


def test_debug_keeps_djangos_full_report_for_developers(settings):
    """On a laptop (DEBUG) the technical page stays useful; it is never on in production."""
    settings.DEBUG = True
    try:
        raise ValueError(MARKER)
    except ValueError as exc:
        text = PHISafeFormatter().formatException((ValueError, exc, exc.__traceback__))
    assert MARKER in text


def test_safe_traceback_keeps_frames_and_types_of_chained_errors():
    def inner():
        raise KeyError(MARKER)

    try:
        try:
            inner()
        except KeyError as exc:
            raise RuntimeError(f"wrapping {MARKER}") from exc
    except RuntimeError as exc:
        text = safe_traceback(exc)
    assert "in inner" in text and "builtins.KeyError" in text and "builtins.RuntimeError" in text
    assert "direct cause" in text
    assert MARKER not in text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mri-review/status/abc:def-123/", "/mri-review/status/<token>/"),
        ("/es/mri-review/status/abc/?x=1", "/es/mri-review/status/<token>/?x=1"),
        ("/mri-review/step/contact/", "/mri-review/step/contact/"),
    ],
)
def test_redact_path(path, expected):
    assert redact_path(path) == expected


def test_a_failed_tasks_log_line_names_the_error_type_not_its_message(caplog):
    """Celery logs "Task <name>[<id>] raised unexpected: <repr of the exception>"."""
    from celery.app import trace

    try:
        raise IntegrityError(f"duplicate key ({MARKER}@example.com)")
    except IntegrityError as exc:
        context = {"name": "intake.tasks.route_case", "id": "abc", "description": "raised unexpected",
                   "exc": repr(exc), "traceback": f"... {MARKER}", "args": "(42,)", "kwargs": "{}",
                   "hostname": "w1", "internal": False}  # fmt: skip
        with caplog.at_level(logging.INFO, logger="celery.app.trace"):
            trace.logger.error(trace.LOG_FAILURE.strip(), context, exc_info=True, extra={"data": context})
    logged = _everything_logged(caplog.records)
    assert "Task intake.tasks.route_case[abc] raised unexpected: IntegrityError" in logged
    assert MARKER not in logged
