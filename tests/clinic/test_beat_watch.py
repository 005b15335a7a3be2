"""A watched beat (issue 29): beat's ticks and the work it schedules leave
heartbeats in the shared database, and /healthz/beat says when they stop."""

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from clinic.beat import BEAT, PERIODIC, heartbeat_record
from clinic.models import Heartbeat
from tests.intake.helpers import wait_for

from .test_operations import _process_env

ROOT = Path(__file__).resolve().parents[2]


def _beat_check(client):
    response = client.get("/healthz/beat")
    return response.status_code, json.loads(response.content)["checks"]


@pytest.mark.django_db
def test_beat_check_says_never_then_ok_then_stale(client, settings):
    settings.INTAKE_BEAT_STALE_SECONDS = 120
    assert _beat_check(client) == (503, {"beat": "never", "periodic": "never"})
    heartbeat_record(BEAT)
    heartbeat_record(PERIODIC)
    assert _beat_check(client) == (200, {"beat": "ok", "periodic": "ok"})
    Heartbeat.objects.filter(name=BEAT).update(at=timezone.now() - timedelta(minutes=5))
    assert _beat_check(client) == (503, {"beat": "stale", "periodic": "ok"})


def test_beat_check_answers_before_the_host_check_and_says_unknown_without_a_database(client, settings):
    """Like /readyz it answers before every other middleware (a monitor probes
    by address); pytest-django's database block stands in for a database that
    does not answer."""
    settings.ALLOWED_HOSTS = ["clinic.example"]
    with pytest.raises(Exception):  # noqa: B017,PT011  (no database in this test: the check still answers)
        Heartbeat.objects.count()
    status, checks = _beat_check(client)
    assert status == 503 and checks == {"beat": "unknown", "periodic": "unknown"}


@pytest.mark.worker
def test_a_real_beat_keeps_the_check_green_and_stopping_it_turns_it_red(celery_worker, client, settings, tmp_path):
    settings.INTAKE_BEAT_STALE_SECONDS = 4
    log = tmp_path / "beat.log"
    env = _process_env(INTAKE_BEAT_HEARTBEAT_SECONDS="1")
    with open(log, "w") as fh:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "beat", "-l", "INFO", "-s", str(tmp_path / "schedule")],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # The scheduler's own heartbeat, and the scheduled task run by the worker.
        wait_for(lambda: _beat_check(client)[0] == 200, timeout=60)
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(timeout=20)
    wait_for(lambda: _beat_check(client)[1]["beat"] == "stale", timeout=30)
    assert _beat_check(client)[0] == 503
