"""Issue 22, point 8: a 503 ("nothing you sent was lost") is logged once, at
WARNING, without a traceback, and never mailed to the admins.

The database failure is raised where the view meets the database, as the
resilience tests do (tests/intake/test_resilience.py); the private-cluster
freeze test (test_reliability_db_freeze.py) checks the same lines from a real
gunicorn against a frozen PostgreSQL.
"""

import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from tests.intake.helpers import step_url


@pytest.fixture
def admins(settings):
    settings.ADMINS = ["oncall@example.com"]
    settings.DEBUG = False


def request_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.django_db
def test_a_503_is_one_warning_without_traceback_and_no_mail(seeded, admins, caplog, mailoutbox):
    client = Client(raise_request_exception=False)
    with (
        caplog.at_level(logging.INFO),
        mock.patch("intake.views._skipped_to", side_effect=OperationalError("the connection is closed")),
    ):
        response = client.post(step_url("safety"), {})
    assert response.status_code == 503
    assert b"Nothing you sent was lost" in response.content
    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and "Traceback" not in caplog.text
    assert record.getMessage() == "Service Unavailable: /mri-review/ (OperationalError)"
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_real_bug_is_still_an_error_mailed_to_the_admins(seeded, admins, caplog, mailoutbox):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.INFO), mock.patch("intake.views._skipped_to", side_effect=KeyError("bug")):
        response = client.post(step_url("safety"), {})
    assert response.status_code == 500
    [record] = request_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["oncall@example.com"]
