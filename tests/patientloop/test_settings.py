"""Production settings and the text provider's address."""

from tests.clinic.test_security import run_manage


def test_production_refuses_a_text_provider_without_https():
    result = run_manage("check", env_overrides={"INTAKE_SMS_URL": "http://user:key@sms.example/send"})
    assert result.returncode != 0 and "INTAKE_SMS_URL must start with https://" in result.stderr


def test_production_starts_with_an_https_text_provider_and_no_file_backend():
    code = "from django.conf import settings; print(settings.INTAKE_SMS_FILE_BACKEND_ALLOWED)"
    result = run_manage("shell", "-c", code, env_overrides={"INTAKE_SMS_URL": "https://user:key@sms.example/send"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("False")
