"""Several machines without guessing (issue 29): the audit anchors in one
place, the file-mail path, what production refuses."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from clinic.models import audit_record
from tests.factories import UserFactory
from tests.support.processes import django_process_env
from tests.support.s3 import CREDENTIALS, s3_server

from .test_security import run_manage

ROOT = Path(__file__).resolve().parents[2]


def _process_env(**extra) -> dict:
    """A separate Django process on this test's database (as another machine
    would be, sharing only the database and what the environment names)."""
    env = {k: v for k, v in django_process_env().items() if not k.startswith("INTAKE_AUDIT")}
    return {**env, **extra}


def _manage(env, *args) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


EXPORT = ["shell", "-c", "from clinic.tasks import export_audit_head; print('exported', export_audit_head())"]


def test_production_refuses_a_local_anchor_folder_unless_it_runs_on_one_machine():
    refused = run_manage("check", drop=("INTAKE_AUDIT_S3_BUCKET",))
    assert refused.returncode != 0
    assert "INTAKE_AUDIT_S3_BUCKET is not set" in refused.stderr and "INTAKE_ONE_MACHINE" in refused.stderr
    one_machine = run_manage("check", drop=("INTAKE_AUDIT_S3_BUCKET",), env_overrides={"INTAKE_ONE_MACHINE": "true"})
    assert one_machine.returncode == 0, one_machine.stderr


@pytest.mark.django_db(transaction=True)
def test_anchors_exported_on_one_machine_are_verified_on_another_through_the_bucket(tmp_path):
    import boto3

    audit_record(action="download_file", summary="Opened MRI file #1 (pdf)", actor=UserFactory(), object_ref="MR-A1")
    with s3_server() as endpoint:
        bucket = f"audit-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ).create_bucket(Bucket=bucket)  # fmt: skip
        shared = {**CREDENTIALS, "AWS_S3_ENDPOINT_URL": endpoint, "AWS_S3_REGION_NAME": "us-east-1"}
        machine_a = _process_env(INTAKE_AUDIT_ANCHOR_ROOT=str(tmp_path / "a"), INTAKE_AUDIT_S3_BUCKET=bucket, **shared)
        machine_b = _process_env(INTAKE_AUDIT_ANCHOR_ROOT=str(tmp_path / "b"), INTAKE_AUDIT_S3_BUCKET=bucket, **shared)

        assert "exported" in _manage(machine_a, *EXPORT).stdout
        verified = _manage(machine_b, "verify_audit_chain").stdout
        assert "Exported head hashes agree: 1 checked" in verified, verified
        assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()

    # What production now refuses: local folders, one per machine, never see each other's anchors.
    local_a = _process_env(INTAKE_AUDIT_ANCHOR_ROOT=str(tmp_path / "a"))
    local_b = _process_env(INTAKE_AUDIT_ANCHOR_ROOT=str(tmp_path / "b"))
    _manage(local_a, *EXPORT)
    assert any(p.is_file() for p in (tmp_path / "a").rglob("*"))
    assert "No head hash exported yet" in _manage(local_b, "verify_audit_chain").stdout


@pytest.mark.parametrize(
    "url, expected",
    [
        ("filemail://{tmp}/mail", "{tmp}/mail"),
        ("filemail:///{tmp}/mail", "{tmp}/mail"),
        ("filemail://var/mail-relative", "var/mail-relative"),
    ],
)
def test_a_filemail_url_names_the_folder_as_written(tmp_path, url, expected):
    url, expected = url.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    code = "from django.conf import settings; print(settings.MAILERS['default']['OPTIONS']['file_path'])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings.local", EMAIL_URL=url, INTAKE_VAR_DIR=str(tmp_path / "var"))
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_mail_sent_with_an_absolute_filemail_url_lands_in_that_folder(tmp_path):
    folder = tmp_path / "mail"
    code = "from django.core.mail import send_mail; send_mail('s', 'b', 'a@clinic.example', ['p@example.org'])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings.local", EMAIL_URL=f"filemail://{folder}",
               INTAKE_VAR_DIR=str(tmp_path / "var"))  # fmt: skip
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(list(folder.iterdir())) == 1
    assert not (ROOT / str(folder).lstrip("/")).exists()
