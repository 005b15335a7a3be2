"""Red-team finding 12: a failed sign-in wrote the typed user name (people
type passwords there) to the audit trail; the second-factor form told whether
the password was right; status tokens in 429 log lines; no Permissions-Policy;
patient pages cacheable."""

import logging
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEntry
from intake.status_links import status_link
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"  # tests.factories.UserFactory's


def _all_logs(caplog):
    return "\n".join(r.getMessage() for r in caplog.records)


def test_a_password_typed_as_user_name_is_not_recorded(client, caplog):
    caplog.set_level(logging.DEBUG)
    typed = "Hunter2-Secret!Typed"
    client.post("/admin/login/", {"username": typed, "password": "whatever"})
    entry = AuditEntry.objects.get(action="login_failed")
    assert typed.lower() not in entry.summary.lower()
    assert "unknown user" in entry.summary and "name hash" in entry.summary
    assert typed not in _all_logs(caplog)
    # The same string tried again gets the same fingerprint; another string, another.
    client.post("/admin/login/", {"username": typed, "password": "whatever"})
    client.post("/admin/login/", {"username": "something-else", "password": "whatever"})
    first, again, other = AuditEntry.objects.filter(action="login_failed").order_by("id")
    assert first.summary == again.summary != other.summary


def test_a_failed_sign_in_of_a_real_account_names_the_account_not_the_text(client):
    user = UserFactory(is_staff=True, username="coordinator-x")
    client.post("/admin/login/", {"username": "coordinator-x", "password": "wrong"})
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.object_type, entry.object_ref) == ("user", str(user.pk))


@pytest.fixture
def otp_user(settings):
    settings.INTAKE_REQUIRE_OTP = True
    user = UserFactory(is_superuser=True, is_staff=True, username="otp-user")
    device = TOTPDevice.objects.create(user=user, name="phone of otp-user", confirmed=True)
    return user, device


def _otp_post(client, password, token="123456"):
    return client.post("/admin/login/", {"username": "otp-user", "password": password, "otp_token": token})


def _visible(response) -> str:
    html = response.content.decode()
    # The CSRF token and the CSP nonce differ per request; nothing else may.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'nonce="[^"]+"', "", html)


def test_second_factor_form_answers_the_same_for_right_and_wrong_passwords(otp_user):
    wrong_password = _otp_post(Client(), "not-the-password")
    right_password = _otp_post(Client(), PASSWORD)
    assert wrong_password.status_code == right_password.status_code == 200
    assert _visible(wrong_password) == _visible(right_password)
    assert "phone of otp-user" not in right_password.content.decode()  # no device list
    assert PASSWORD not in right_password.content.decode()  # the password not kept in its box


def test_a_wrong_code_counts_as_a_failed_sign_in(otp_user):
    _otp_post(Client(), PASSWORD)
    assert AuditEntry.objects.filter(action="login_failed").count() == 1


def test_the_right_password_and_code_sign_in_without_choosing_a_device(otp_user):
    _, device = otp_user
    client = Client()
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert _otp_post(client, PASSWORD, token).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_status_tokens_stay_out_of_the_429_log_lines(client, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 1
    url = status_link(CaseFactory())
    token = url.rstrip("/").rsplit("/", 1)[-1]
    client.get(url)
    assert client.get(url).status_code == 429
    assert client.get(url.replace(token, token[:-3] + "xyz")).status_code in (404, 429)
    records = [r for r in caplog.records if "mri-review" in r.getMessage()]
    assert records, "the 429 is logged (by django.request)"
    assert token not in _all_logs(caplog)
    assert token[:20] not in _all_logs(caplog)


def test_permissions_policy_on_every_page(client):
    for url in ("/", "/mri-review/", "/admin/login/"):
        policy = client.get(url).headers.get("Permissions-Policy", "")
        assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_patient_pages_are_not_stored_by_the_browser(client):
    url = status_link(CaseFactory())
    for response in (client.get("/mri-review/"), client.get(url), client.post(url, {"date_of_birth": "1970-03-21"})):
        assert "no-store" in response.headers.get("Cache-Control", "")
    # Content pages without personal data stay cacheable.
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_status_tokens_stay_out_of_csrf_refusal_log_records(caplog):
    """django.security.csrf names the path of a refused POST; every record
    (not only the console's formatted line) must be without the token."""
    caplog.set_level(logging.DEBUG)
    url = status_link(CaseFactory())
    token = url.rstrip("/").rsplit("/", 1)[-1]
    response = Client(enforce_csrf_checks=True).post(url, {"date_of_birth": "1970-01-01"})
    assert response.status_code == 403
    assert any(r.name == "django.security.csrf" for r in caplog.records)
    assert token not in _all_logs(caplog)
