"""Security and privacy, each point proved by a test that can fail."""

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinic.models import AuditChainError, AuditEntry, audit_record
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "clinic.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-not-a-real-secret-but-long-enough-for-the-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "clinic.example",
    "INTAKE_FILE_KEYS": "x0ZPc0T9nK3o6Qm8y2pC1g9qkVb7wHf5sXl4rUa8t2E=",
    "INTAKE_AUDIT_KEY": "not-a-real-audit-key-but-long-enough-0123456789",
    # Parsed, never connected to, by these checks.
    "DATABASE_URL": "postgres://clinic@db.clinic.example:5432/clinic",
    "CELERY_BROKER_URL": "redis://redis.clinic.example:6379/0",
    "CACHE_URL": "redis://redis.clinic.example:6379/1",
    "INTAKE_SITE_URL": "https://clinic.example",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.clinic.example:587",
    "INTAKE_AUDIT_S3_BUCKET": "clinic-audit-anchors",
}


def run_manage(*args, env_overrides=None, drop=()):
    # A deployment's environment: nothing the test run itself set (browser tests
    # set DJANGO_ALLOW_ASYNC_UNSAFE, the test settings a run id).
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("DJANGO_", "INTAKE_"))}
    env.update(PROD_ENV)
    env.update(env_overrides or {})
    for k in drop:
        env.pop(k, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "INTAKE_FILE_KEYS", "EMAIL_URL", "DATABASE_URL",
     "CELERY_BROKER_URL", "CACHE_URL", "INTAKE_SITE_URL"],
)  # fmt: skip
def test_production_refuses_to_start_without_secrets(missing):
    result = run_manage("check", drop=(missing,))
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", env_overrides={"DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_security_settings():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_SSL_REDIRECT, s.INTAKE_REQUIRE_OTP, s.DEBUG)"
    )
    result = run_manage("shell", "-c", code)
    assert result.stdout.strip().splitlines()[-1].split() == [
        "31536000",
        "True",
        "True",
        "True",
        "True",
        "True",
        "False",
    ], result.stderr


def test_no_csrf_exempt_anywhere():
    offenders = [
        str(p.relative_to(ROOT))
        for d in ("clinic", "intake", "education")
        for p in (ROOT / d).rglob("*.py")
        if "csrf_exempt" in p.read_text()
    ]
    assert offenders == []


@pytest.mark.django_db
def test_csrf_is_enforced_on_the_patient_form():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("intake:start"), {"fever": "no"})
    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/mri-review/", "/stretching/", "/admin/login/"])
def test_content_security_policy_header(client, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    # Django adds the nonce only to responses that used it; inline script never runs without one.
    assert re.fullmatch(r"'self'( 'nonce-[A-Za-z0-9+/=_-]+')?", directives["script-src"])
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_staff_session_ends_after_idle_time(client, settings):
    settings.INTAKE_STAFF_IDLE_SECONDS = 900
    user = UserFactory(is_superuser=True)
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
    session = client.session
    session["_staff_last_seen"] = int(time.time()) - 901
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_admin_requires_a_second_factor_when_configured(client, settings):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.INTAKE_REQUIRE_OTP = True
    user = UserFactory(is_superuser=True, username="otp-user")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    # password alone: not enough
    response = client.post("/admin/login/", {"username": "otp-user", "password": "pw-for-tests-123"})
    assert response.status_code == 200 and client.get("/admin/").status_code == 302
    client.force_login(user)  # signed in but not verified
    assert client.get("/admin/").status_code == 302
    client.logout()

    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post(
        "/admin/login/",
        {
            "username": "otp-user",
            "password": "pw-for-tests-123",
            "otp_device": device.persistent_id,
            "otp_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_tests_and_make_run_need_no_phone(client):
    UserFactory(is_superuser=True, username="plain")
    response = client.post("/admin/login/", {"username": "plain", "password": "pw-for-tests-123"})
    assert response.status_code == 302 and client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(is_superuser=True, username="target")
    for _ in range(3):
        client.post("/admin/login/", {"username": "target", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "target", "password": "pw-for-tests-123"})
    assert response.status_code == 429
    assert "Signing in is paused" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    assert AuditEntry.objects.filter(action="login_failed").count() >= 3


@pytest.mark.django_db
def test_audit_chain_verifies_and_detects_tampering(capsys):
    actor = UserFactory()
    for i in range(5):
        audit_record(action="view_case", summary=f"Viewed MR-TEST{i}", actor=actor, object_ref=f"MR-TEST{i}")
    call_command("verify_audit_chain")
    assert "intact: 5 entries" in capsys.readouterr().out

    entry = AuditEntry.objects.order_by("id")[2]
    with pytest.raises(AuditChainError):
        entry.summary = "nothing to see"
        entry.save()
    with pytest.raises(AuditChainError):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="x")
    with pytest.raises(AuditChainError):
        entry.delete()

    _tamper(entry.pk, "UPDATE clinic_auditentry SET summary = 'Viewed nothing' WHERE id = %s")
    with pytest.raises(Exception, match="altered"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_audit_chain_detects_a_removed_entry():
    for i in range(4):
        audit_record(action="export", summary=f"Export {i}")
    entry = AuditEntry.objects.order_by("id")[1]
    _tamper(entry.pk, "DELETE FROM clinic_auditentry WHERE id = %s")
    with pytest.raises(Exception, match="removed or altered"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_database_refuses_audit_updates_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only; SQLite relies on the model guards and the chain")
    from django.db import DatabaseError, transaction

    entry = audit_record(action="export", summary="Export")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE clinic_auditentry SET summary = 'x' WHERE id = %s", [entry.pk])


def _tamper(pk, sql):
    """What an intruder with database access would do, bypassing the app (and the trigger)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        cur.execute(sql, [pk])
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")


@pytest.mark.django_db
def test_changes_are_audited_with_who_and_where(client, seeded):
    from intake.services.lifecycle import case_transition
    from tests.factories import CaseFactory

    user = UserFactory(is_superuser=True)
    case = CaseFactory(queue=seeded["general"], status="triage")
    case_transition(case_id=case.pk, to_status="awaiting_mri", actor=user)
    entry = AuditEntry.objects.get(action="change", object_ref=case.reference)
    assert entry.actor == user and "triage -> awaiting_mri" in entry.summary


@pytest.mark.django_db
def test_retention_purges_old_closed_cases_and_keeps_a_stub(seeded, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from intake import storage
    from intake.models import ReviewRequest
    from intake.services.files import mri_file_add
    from tests.factories import CaseFactory
    from tests.intake.corpus import PDF

    settings.INTAKE_RETENTION_DAYS = 365
    old = timezone.now() - timedelta(days=366)
    stale = CaseFactory(queue=seeded["general"], status="closed", diagnosis_other="secret words")
    f = mri_file_add(uploaded=SimpleUploadedFile("a.pdf", PDF), case=stale)
    open_case = CaseFactory(queue=seeded["general"], status="triage")
    recent_closed = CaseFactory(queue=seeded["general"], status="no_response")
    ReviewRequest.objects.filter(pk__in=[stale.pk, open_case.pk]).update(updated_at=old)

    out = _call("purge_expired_cases", "--dry-run")
    assert stale.reference in out and open_case.reference not in out and recent_closed.reference not in out
    assert ReviewRequest.objects.get(pk=stale.pk).purged_at is None  # a dry run changes nothing

    _call("purge_expired_cases")
    stale.refresh_from_db()
    assert stale.purged_at is not None and stale.first_name == "" and stale.email == "" and stale.date_of_birth is None
    assert stale.diagnosis_other == "" and stale.regions == []
    assert stale.status == "closed" and stale.queue_id == seeded["general"].pk  # the funnel still counts it
    assert stale.files.count() == 0 and not storage.path_for(f.stored_name).exists()
    open_case.refresh_from_db()
    assert open_case.purged_at is None and open_case.first_name
    assert AuditEntry.objects.filter(action="purge", object_ref=stale.reference).exists()


def _call(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("model_path", ["education.models.Condition", "intake.models.RoutingRule"])
def test_admin_edits_of_content_and_rules_are_audited(rf, seeded, model_path):
    from types import SimpleNamespace

    from django.contrib import admin
    from django.utils.module_loading import import_string

    from education.seed import seed_content

    seed_content()
    model = import_string(model_path)
    obj = model.objects.first()
    model_admin = admin.site._registry[model]
    request = rf.post("/admin/")
    request.user = UserFactory(is_superuser=True)
    model_admin.save_model(request, obj, SimpleNamespace(changed_data=["name"]), change=True)
    entry = AuditEntry.objects.get(action="admin_change")
    assert entry.actor == request.user and entry.object_ref == str(obj.pk) and "(name)" in entry.summary
