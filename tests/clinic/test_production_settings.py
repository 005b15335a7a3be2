"""Safe defaults (issue 12): what a process started with no settings module does."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .test_security import PROD_ENV, run_manage

ROOT = Path(__file__).resolve().parents[2]
BARE_ENV = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
NAMED = ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "INTAKE_SITE_URL"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_no_settings_module_and_no_environment_refuses_to_start():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "clinic.wsgi", "--bind", f"127.0.0.1:{free_port()}", "--workers", "1"],
        cwd=ROOT, env=BARE_ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "clinic.settings.production" in out and "cannot start" in out
    for name in NAMED:
        assert f"{name} is not set" in out, out[-3000:]


def test_the_celery_app_defaults_to_production_too():
    code = "from clinic.celery import app; print(app.conf.broker_url)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=BARE_ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "CELERY_BROKER_URL is not set" in result.stderr


def test_manage_py_stays_local():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env={**BARE_ENV, "INTAKE_VAR_DIR": "/tmp/intake-manage-local"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"INTAKE_SITE_URL": "http://clinic.example"}, "INTAKE_SITE_URL must start with https://"),
        ({"CELERY_BROKER_URL": "filesystem://"}, "names an embedded broker"),
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "names SQLite"),
    ],
)
def test_production_refuses_development_stand_ins(override, message):
    result = run_manage("check", env_overrides=override)
    assert result.returncode != 0 and message in result.stderr


def test_a_complete_environment_starts():
    result = run_manage("check")
    assert result.returncode == 0, result.stderr
    assert PROD_ENV["INTAKE_SITE_URL"].startswith("https://")


def test_the_production_redis_cache_cannot_hang_a_request():
    code = "from django.conf import settings as s; print(s.CACHES['default']['OPTIONS'])"
    result = run_manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert "'socket_timeout': 1" in result.stdout and "'socket_connect_timeout': 1" in result.stdout
