"""A worker killed whole (its machine lost) while it held an unacknowledged
route_case whose transaction had not committed (issue 29).

Two things bring the case back, both stated in README ("What survives what"):
the outbox sweeper re-sends any case still pending after
INTAKE_OUTBOX_SWEEP_AFTER_SECONDS (30 s, swept every 10 s), and Redis hands
the unacknowledged message out again after INTAKE_VISIBILITY_TIMEOUT
(300 s), when it is a no-op. The test runs on a private Redis with a 5 s
visibility timeout so the second path is seen too."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from clinic.celery import app
from intake.models import CaseEvent, Outbox, ReviewRequest
from intake.services.dispatch import outbox_sweep
from intake.services.submission import review_request_submit
from tests.conftest import broker_at, drop_other_connections
from tests.factories import MembershipFactory
from tests.support.redis import private_redis

from .helpers import wait_for
from .test_routing_reliability import ANSWERS, _lock_case_row, _worker_env

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(port: int, log: Path, name: str) -> subprocess.Popen:
    env = {**_worker_env(), "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0", "INTAKE_VISIBILITY_TIMEOUT": "5"}
    with open(log, "w") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "1",
             "-l", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"{name}-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _stop(worker: subprocess.Popen, sig=signal.SIGTERM):
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.mark.worker
def test_a_worker_killed_whole_before_routing_committed_is_swept_then_redelivered_once(seeded_tx, settings, tmp_path):
    MembershipFactory(queue=seeded_tx["mri-cervical"])
    with private_redis() as (port, cli), broker_at(app, f"redis://127.0.0.1:{port}/0"):
        case = review_request_submit(answers=ANSWERS)  # committed; route_case waits in the private Redis
        holder = _lock_case_row(case.pk)  # the routing transaction will block on the case row
        log_a = tmp_path / "worker-a.log"
        worker_a = _start_worker(port, log_a, "doomed")
        try:
            wait_for(lambda: "route_case" in log_a.read_text() and "received" in log_a.read_text(), timeout=60)
            if connection.vendor == "postgresql":
                wait_for(lambda: Outbox.objects.get(case=case).deliveries >= 1, timeout=30)
            time.sleep(0.5)
            assert cli("hlen", "unacked") == "1"  # held by worker A, not acknowledged
            _stop(worker_a, signal.SIGKILL)  # the whole worker, its pool process with it: nothing reports back
        finally:
            holder.release()
            _stop(worker_a, signal.SIGKILL)
        assert ReviewRequest.objects.get(pk=case.pk).routed_at is None
        assert cli("hlen", "unacked") == "1"  # the message is still the broker's, unacknowledged

        log_b = tmp_path / "worker-b.log"
        worker_b = _start_worker(port, log_b, "survivor")
        try:
            # The sweeper (beat, every 10 s) re-sends the still-pending case.
            settings.INTAKE_OUTBOX_SWEEP_AFTER_SECONDS = 0
            assert outbox_sweep() == 1
            wait_for(lambda: ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists(), timeout=60)
            # Then Redis hands the killed worker's message out again (visibility
            # timeout), worker B takes it and acknowledges it: a no-op.
            wait_for(lambda: cli("hlen", "unacked") == "0" and cli("llen", "routine") == "0", timeout=90)
            wait_for(lambda: log_b.read_text().count("route_case") >= 4, timeout=30)  # 2 received + 2 succeeded
        finally:
            _stop(worker_b)
    drop_other_connections()
    assert log_b.read_text().count("received") >= 2
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
