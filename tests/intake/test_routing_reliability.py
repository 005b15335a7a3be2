"""Never lost, never twice: commit boundaries, duplicate and concurrent runs,
a broker outage at submit time, a worker killed mid-task, the delivery bound,
routing through the lifecycle's writers, fairness. (The SLA clock: test_sla.py.)"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection, transaction

from intake.models import CaseEvent, Notification, Outbox, ReviewRequest
from intake.services.routing import case_route
from intake.services.submission import review_request_submit
from tests.conftest import broker_down, drop_other_connections, purge_broker
from tests.factories import CaseFactory, MembershipFactory, UserFactory
from tests.support.processes import django_process_env

from .helpers import wait_for

ANSWERS = dict(
    first_name="Pat", last_name="Example", email="pat@example.com", phone="+13125550142",
    date_of_birth=datetime(1970, 3, 21).date(), contact_method="email", regions=["neck"], pain_duration="gt_12m",
    severity=5, mri_status="centre_sends", mri_taken_on=datetime(2026, 6, 1).date(), mri_region="neck",
    imaging_centre="Somewhere", consent_privacy=True, consent_email=True,
)  # fmt: skip


def broker_depth():
    from clinic.celery import app

    total = 0
    with app.connection_for_write() as conn:
        for q in ("urgent", "routine"):
            try:
                total += conn.default_channel.queue_declare(q, passive=True).message_count
            except Exception:  # noqa: S112  (a queue never declared holds nothing)
                continue
    return total


@pytest.mark.django_db(transaction=True)
def test_nothing_enqueued_before_commit_and_nothing_after_rollback(seeded_tx):
    purge_broker()
    with transaction.atomic():
        case = review_request_submit(answers=ANSWERS)
        assert broker_depth() == 0  # still inside the transaction
    assert broker_depth() == 2  # routing + the patient's confirmation
    assert Outbox.objects.get(case=case).state == "pending"

    purge_broker()
    with pytest.raises(RuntimeError), transaction.atomic():
        review_request_submit(answers={**ANSWERS, "email": "x@example.com"})
        raise RuntimeError("something after the submit failed")
    assert broker_depth() == 0
    assert ReviewRequest.objects.count() == 1 and Outbox.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_routing_twice_gives_one_assignment_and_one_notification(seeded_tx, mailoutbox):
    from intake.tasks import route_case, send_notification

    member = MembershipFactory(queue=seeded_tx["mri-cervical"]).user
    case = review_request_submit(answers=ANSWERS)
    assert route_case.apply(args=[case.pk]).get() is True
    assert route_case.apply(args=[case.pk]).get() is False
    case.refresh_from_db()
    assert case.assigned_to == member
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="assigned").count() == 1
    staff = Notification.objects.get(case=case, kind="staff_new_case")
    # the notification task twice: recorded once, delivered once
    assert send_notification.apply(args=[staff.pk]).get() is True
    assert send_notification.apply(args=[staff.pk]).get() is False
    assert [m.to for m in mailoutbox] == [[member.email]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_routing_of_one_case_routes_it_once(seeded_tx):
    MembershipFactory(queue=seeded_tx["mri-cervical"])
    case = review_request_submit(answers=ANSWERS)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            results.append(case_route(case_id=case.pk))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="assigned").count() == 1
    assert Notification.objects.filter(case=case, kind="staff_new_case").count() == 1


@pytest.mark.worker
def test_broker_down_at_submit_then_the_sweeper_routes_exactly_once(client, seeded_tx, settings):
    from clinic.celery import app
    from intake.tasks import sweep_outbox

    from .helpers import submit_complete

    with broker_down(app):
        response = submit_complete(client)
        assert response.status_code == 302
        assert "Thank you, we have your request" in client.get(response["Location"]).content.decode()
    case = ReviewRequest.objects.get()
    assert Outbox.objects.get(case=case).state == "pending"
    assert case.routed_at is None

    from celery.contrib.testing.worker import start_worker

    purge_broker()
    settings.INTAKE_OUTBOX_SWEEP_AFTER_SECONDS = 0
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        assert sweep_outbox() == 1
        sweep_outbox()  # a second sweep while the first is in flight must not route twice
        wait_for(lambda: Outbox.objects.filter(case=case, state="done").exists())

        def all_sent():
            sweep_outbox()  # the confirmation's enqueue failed in the outage too: the sweep sends it
            return not Notification.objects.exclude(state="sent").exists()

        wait_for(all_sent)
    drop_other_connections()
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
    confirmation = Notification.objects.get(case=case, kind="patient_confirmation")
    assert (confirmation.state, confirmation.attempts) == ("sent", 1)


def _children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.worker
def test_worker_killed_while_routing_still_routes_exactly_once(seeded_tx, tmp_path):
    MembershipFactory(queue=seeded_tx["mri-cervical"])
    purge_broker()
    case = review_request_submit(answers=ANSWERS)  # committed: the message waits in the broker
    log = tmp_path / "worker.log"

    # Hold the case row so the worker blocks inside the routing transaction.
    holder = _lock_case_row(case.pk)
    root = Path(__file__).resolve().parents[2]
    with open(log, "w") as fh:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "1",
             "-l", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"kill-test-{os.getpid()}@%h"],
            cwd=root, env=django_process_env(), stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: "route_case" in log.read_text() and "received" in log.read_text(), timeout=60)
        if connection.vendor == "postgresql":
            # The child has counted the delivery and now waits on the row lock, mid-task.
            wait_for(lambda: Outbox.objects.get(case=case).deliveries >= 1, timeout=30)
        time.sleep(1.0)
        [child] = wait_for(lambda: _children(worker.pid))
        os.kill(child, signal.SIGKILL)
        time.sleep(0.5)
        holder.release()
        wait_for(lambda: ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists(), timeout=60)
        time.sleep(1.0)  # give a wrongly duplicated delivery the chance to show itself
    finally:
        holder.release()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    text = log.read_text()
    assert "WorkerLostError" in text or "SIGKILL" in text or "exited" in text, text[-2000:]
    assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
    # Both deliveries are counted on PostgreSQL: the killed one counted before it
    # waited on the row lock. On SQLite the holder's write lock blocks the whole
    # file, so the killed delivery never committed its count: only the second.
    assert Outbox.objects.get(case=case).deliveries == (2 if connection.vendor == "postgresql" else 1)


class _lock_case_row:
    """Hold a lock on one case from another connection until released."""

    def __init__(self, case_id):
        import django.db

        self.conn = django.db.connections.create_connection("default")
        self.conn.ensure_connection()
        self.conn.set_autocommit(False)
        with self.conn.cursor() as cur:
            if self.conn.vendor == "postgresql":
                cur.execute("SELECT id FROM intake_reviewrequest WHERE id = %s FOR UPDATE", [case_id])
            else:
                cur.execute("UPDATE intake_reviewrequest SET version = version WHERE id = %s", [case_id])
        self.open = True

    def release(self):
        if self.open:
            self.conn.rollback()
            self.conn.close()
            self.open = False


@pytest.mark.django_db(transaction=True)
def test_assignment_is_fair_over_100_cases(seeded_tx):
    queue = seeded_tx["mri-thoracolumbar"]
    members = [MembershipFactory(queue=queue).user for _ in range(3)]
    busy = members[0]
    CaseFactory.create_batch(5, queue=queue, assigned_to=busy, status="triage")  # already has 5 open
    for _ in range(100):
        case = CaseFactory(mri_region="lower_back")
        case_route(case_id=case.pk)
    counts = {m.username: ReviewRequest.objects.filter(assigned_to=m, status="triage").count() for m in members}
    assert sorted(counts.values()) == [35, 35, 35]  # 105 open in total, evenly spread


@pytest.mark.django_db(transaction=True)
def test_no_active_member_waits_unassigned_and_supervisors_are_told(seeded_tx):
    supervisor = UserFactory(groups=["Supervisor"])
    MembershipFactory(queue=seeded_tx["mri-cervical"], is_active=False)
    case = review_request_submit(answers=ANSWERS)
    case_route(case_id=case.pk)
    case.refresh_from_db()
    assert case.assigned_to is None
    assert CaseEvent.objects.filter(case=case, kind="unassigned").exists()
    assert Notification.objects.filter(case=case, kind="supervisor_unassigned", recipient=supervisor.email).count() == 1


# --- The delivery bound (services.dispatch.case_route_delivery) ----------------------------
def test_a_routing_delivered_too_often_is_parked_for_a_person(seeded, settings):
    from intake.tasks import route_case

    settings.INTAKE_MAX_ROUTE_DELIVERIES = 3
    case = review_request_submit(answers=ANSWERS)
    Outbox.objects.filter(case=case).update(deliveries=3)
    assert route_case.apply(args=[case.pk]).get() is False
    box = Outbox.objects.get(case=case)
    assert (box.state, box.deliveries, box.last_error) == ("failed", 3, "delivery limit reached")
    assert ReviewRequest.objects.get(pk=case.pk).routed_at is None
    assert not CaseEvent.objects.filter(case=case, kind="routed").exists()


def test_each_delivery_is_counted_and_a_routing_error_noted_by_type(seeded):
    from intake.models import RoutingRule
    from intake.services.dispatch import case_route_delivery

    case = review_request_submit(answers=ANSWERS)
    RoutingRule.objects.update(is_active=False)  # no rule matches: routing raises for the task to retry
    with pytest.raises(RuntimeError):
        case_route_delivery(case_id=case.pk)
    box = Outbox.objects.get(case=case)
    assert (box.state, box.deliveries, box.last_error) == ("pending", 1, "RuntimeError")
    RoutingRule.objects.update(is_active=True)
    assert case_route_delivery(case_id=case.pk) is True
    box.refresh_from_db()
    assert (box.state, box.deliveries) == ("done", 2)


# --- Routing writes through the lifecycle's writers ----------------------------------------
def _case_audit(case):
    from clinic.models import AuditEntry

    return list(
        AuditEntry.objects.filter(object_type="case", object_ref=case.reference)
        .order_by("id")
        .values_list("summary", flat=True)
    )


def test_routing_moves_the_status_through_the_table_and_audits_it_once(seeded):
    member = MembershipFactory(queue=seeded["mri-cervical"]).user
    case = review_request_submit(answers=ANSWERS)
    assert case_route(case_id=case.pk) is True
    case.refresh_from_db()
    routed = CaseEvent.objects.get(case=case, kind="routed")
    assert (routed.from_status, routed.to_status, case.status) == ("submitted", "triage", "triage")
    assert CaseEvent.objects.get(case=case, kind="assigned").summary == f"Assigned to {member.username}"
    [summary] = _case_audit(case)  # one entry for the whole routing
    queue = seeded["mri-cervical"]
    assert summary.startswith(f"Routed to queue {queue.pk} by rule ")
    assert "Status submitted -> triage" in summary and f"Assigned to {member.username}" in summary


# Routing's hot path (bench/README.md): the clock, the row, the rules, the closure
# days, the memberships (lock, rank, stamp), the case, one INSERT of events, the
# audit entry (savepoint, chain head, INSERT, release; PostgreSQL also takes
# its advisory lock), the outbox, one notice per member, and the savepoints.
ROUTING_QUERIES = {"sqlite": 17, "postgresql": 18}


def test_routing_costs_a_fixed_number_of_queries(seeded, django_assert_num_queries):
    MembershipFactory(queue=seeded["mri-cervical"])
    case = review_request_submit(answers=ANSWERS)
    with django_assert_num_queries(ROUTING_QUERIES[connection.vendor]):
        assert case_route(case_id=case.pk) is True


def test_routing_cannot_skip_the_transitions_table(seeded, monkeypatch):
    from intake import transitions
    from intake.services.errors import IllegalTransition

    monkeypatch.setitem(transitions.TRANSITIONS, transitions.Status.SUBMITTED, {transitions.Status.WITHDRAWN})
    case = review_request_submit(answers=ANSWERS)
    with pytest.raises(IllegalTransition):
        case_route(case_id=case.pk)
    case.refresh_from_db()
    assert (case.status, case.routed_at, case.queue_id) == ("submitted", None, None)
    assert _case_audit(case) == []


def test_manual_and_automatic_assignment_both_write_the_event_and_the_audit_entry(seeded):
    from intake.services.lifecycle import case_assign, case_move_queue

    coordinator = MembershipFactory(queue=seeded["general"]).user
    other = MembershipFactory(queue=seeded["general"]).user
    case = CaseFactory(queue=seeded["imaging"], status="triage")
    case_move_queue(case_id=case.pk, queue=seeded["general"])  # assigned automatically
    case.refresh_from_db()
    first = case.assigned_to
    assert first in (coordinator, other)
    case_assign(case_id=case.pk, user=other if first == coordinator else coordinator)  # by hand
    case.refresh_from_db()
    events = list(CaseEvent.objects.filter(case=case, kind="assigned").values_list("summary", flat=True))
    assert events == [f"Assigned to {first.username}", f"Assigned to {case.assigned_to.username}"]
    audit = _case_audit(case)
    assert len(audit) == 2
    assert f"Assigned to {first.username}" in audit[0] and audit[0].startswith("Moved from queue")
    assert audit[1] == f"Assigned to {case.assigned_to.username}"


def test_each_status_change_tells_the_patient_under_its_own_event(seeded):
    # The events are written in one bulk INSERT: each still has its id for the
    # patient's notice, so a case that waits twice is told twice.
    from unittest import mock

    from intake.services import lifecycle

    case = CaseFactory(queue=seeded["general"], status="triage")
    with mock.patch.object(lifecycle, "notify_patient") as notify:
        for status in ("awaiting_mri", "mri_received", "awaiting_mri"):
            lifecycle.case_transition(case_id=case.pk, to_status=status, note="Films seen at the centre.")
    events = CaseEvent.objects.filter(case=case, kind="status").order_by("id")
    assert [c.args[2] for c in notify.call_args_list] == [f"{e.to_status}:{e.pk}" for e in events]
    assert len({c.args[2] for c in notify.call_args_list}) == 3
