"""A worker killed whole (its machine lost) while it held an unacknowledged
route_case whose transaction had not committed (issue 29).

Two things bring the case back, both stated in docs/operations.md: the
outbox sweeper re-sends the case once its last delivery is CHAIN_SILENT_AFTER
(6 min) old, leaving it alone before that, and Redis hands the
unacknowledged message out again after INTAKE_VISIBILITY_TIMEOUT (420 s;
RabbitMQ as soon as the connection drops). Both paths run here on a private
Redis."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from clinic.celery import app
from intake import clock
from intake.models import CaseEvent, Outbox, ReviewRequest
from intake.services.dispatch import CHAIN_SILENT_AFTER, outbox_sweep
from intake.services.submission import review_request_submit
from tests.conftest import broker_at, drop_other_connections
from tests.factories import MembershipFactory
from tests.support.processes import django_process_env
from tests.support.redis import private_redis

from .helpers import wait_for
from .test_routing_reliability import ANSWERS, _lock_case_row

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(port: int, log: Path, name: str, *, visibility: int) -> subprocess.Popen:
    env = {
        **django_process_env(),
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "INTAKE_VISIBILITY_TIMEOUT": str(visibility),
    }
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
@pytest.mark.parametrize("path", ["redelivered", "swept"])
def test_a_worker_killed_whole_before_routing_committed_still_routes_the_case_once(seeded_tx, tmp_path, path):
    MembershipFactory(queue=seeded_tx["mri-cervical"])
    with private_redis() as (port, cli), broker_at(app, f"redis://127.0.0.1:{port}/0"):
        case = review_request_submit(answers=ANSWERS)  # committed; route_case waits in the private Redis
        holder = _lock_case_row(case.pk)  # the routing transaction will block on the case row
        log_a = tmp_path / "worker-a.log"
        worker_a = _start_worker(port, log_a, "doomed", visibility=5)
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
        # The sweeper leaves a case whose delivery may still be alive to the broker.
        assert outbox_sweep() == 0

        log_b = tmp_path / "worker-b.log"
        # "redelivered": Redis gives the message back after 5 s here (420 s by default).
        # "swept": the broker keeps it (visibility far beyond the test); the sweeper's later run sends the case.
        worker_b = _start_worker(port, log_b, "survivor", visibility=5 if path == "redelivered" else 3600)
        try:
            if path == "swept":
                later = clock.now() + CHAIN_SILENT_AFTER + timedelta(seconds=1)
                assert outbox_sweep(now=later) == 1
            wait_for(lambda: ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists(), timeout=90)
            if path == "redelivered":
                wait_for(lambda: cli("hlen", "unacked") == "0" and cli("llen", "routine") == "0", timeout=60)
            assert outbox_sweep(now=clock.now() + CHAIN_SILENT_AFTER + timedelta(seconds=1)) == 0  # done: nothing left
            time.sleep(1.0)  # give a wrongly duplicated routing the chance to show itself
        finally:
            _stop(worker_b)
    drop_other_connections()
    assert "received" in log_b.read_text()
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
