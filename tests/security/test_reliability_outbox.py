"""Issue 22, point 8: the outbox sweeper and retry chains.

- A notification whose retry chain is alive is left to that chain: with the
  mail server refusing (a real SMTP backend on a closed local port) and a real
  Celery worker running the chain, sweeping over and over starts no second
  chain and the tries never pass the limit; once the chain has used every try,
  the sweep marks it failed and tells staff, and sends nothing more.
- One sweep at a time: two sweeps at the same moment on PostgreSQL (threads,
  each with its own connection) enqueue each row once.
"""

import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection

from intake import clock
from intake.models import Notification, Outbox, SystemAlert
from intake.services import dispatch
from tests.conftest import purge_broker
from tests.factories import CaseFactory


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def refused_smtp(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed_port(), "timeout": 5},
        }
    }


def old_pending_notification(case=None) -> Notification:
    """Pending, and older than the sweep's threshold."""
    case = case or CaseFactory(email="pat@example.com")
    note = Notification.objects.create(
        case=case, kind="patient_confirmation", recipient=case.email, dedupe_key=f"t:{case.pk}"
    )
    Notification.objects.filter(pk=note.pk).update(created_at=clock.now() - timedelta(minutes=2))
    return note


def test_the_sweeper_leaves_a_live_retry_chain_alone(refused_smtp, seeded_tx, celery_worker, settings):
    from intake.services.notifications import notification_request

    settings.INTAKE_OUTBOX_SWEEP_AFTER_SECONDS = 0  # every sweep looks at the row at once
    case = CaseFactory(email="pat@example.com")
    # The chain's waits shortened from up to 300 s to 0.2 s; the sweeper still
    # believes a try may come up to CHAIN_SILENT_AFTER after the last one.
    with mock.patch("intake.tasks.backoff", return_value=0.2):
        note = notification_request(case=case, kind="patient_confirmation", recipient=case.email, key="t:1")
        handed_over = Notification.objects.get(pk=note.pk).enqueued_at
        assert handed_over is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            dispatch.outbox_sweep()
            note.refresh_from_db()
            assert note.attempts <= dispatch.MAX_NOTIFICATION_ATTEMPTS
            assert note.enqueued_at == handed_over, "the sweep started a second chain"
            if note.attempts == dispatch.MAX_NOTIFICATION_ATTEMPTS and note.state == "pending":
                break
            time.sleep(0.05)
        assert note.attempts == dispatch.MAX_NOTIFICATION_ATTEMPTS
        for _ in range(10):  # the chain has ended: sweeps within its window still do nothing
            dispatch.outbox_sweep()
            time.sleep(0.05)
    note.refresh_from_db()
    assert (note.state, note.attempts, note.enqueued_at) == ("pending", dispatch.MAX_NOTIFICATION_ATTEMPTS, handed_over)

    # Past the window the chain is known to be over: given up, staff told once.
    later = clock.now() + dispatch.CHAIN_SILENT_AFTER + timedelta(seconds=1)
    dispatch.outbox_sweep(now=later)
    dispatch.outbox_sweep(now=later)
    note.refresh_from_db()
    assert (note.state, note.attempts, note.enqueued_at) == ("failed", dispatch.MAX_NOTIFICATION_ATTEMPTS, handed_over)
    [alert] = SystemAlert.objects.filter(key__startswith="notifications-given-up:")
    assert alert.occurrences == 1 and "could not be sent" in alert.subject


@pytest.mark.django_db
def test_a_notification_that_used_every_try_is_never_sent_again(mailoutbox):
    from intake.services.notifications import notification_send

    note = old_pending_notification()
    Notification.objects.filter(pk=note.pk).update(attempts=dispatch.MAX_NOTIFICATION_ATTEMPTS)
    assert notification_send(notification_id=note.pk) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_dead_chain_is_restarted_by_the_sweep(refused_smtp):
    """The other side of the window: a row whose last try is long past (its
    chain's message was lost) is enqueued again."""
    note = old_pending_notification()
    Notification.objects.filter(pk=note.pk).update(
        attempts=3, last_attempt_at=clock.now() - dispatch.CHAIN_SILENT_AFTER - timedelta(seconds=5)
    )
    try:
        dispatch.outbox_sweep()
    finally:
        purge_broker()
    note.refresh_from_db()
    assert note.enqueued_at is not None and note.state == "pending"


# --- Two beats at once ---------------------------------------------------------
def two_sweeps_at_once() -> Counter:
    """Sweep A takes its rows and stops at its first enqueue until sweep B,
    in another thread with its own connection, has finished. Returns how many
    times each (task, id) was enqueued."""
    real_enqueue = dispatch.enqueue_now
    counts: Counter = Counter()
    lock = threading.Lock()
    a_holds_rows, b_done = threading.Event(), threading.Event()
    errors = []

    def counting_enqueue(task, *args, **kwargs):
        if threading.current_thread().name == "sweep-a" and not a_holds_rows.is_set():
            a_holds_rows.set()
            b_done.wait(30)
        with lock:
            counts[(task.name, *args)] += 1
        return real_enqueue(task, *args, **kwargs)

    def sweep(after=None):
        try:
            if after is not None:
                after.wait(30)
            dispatch.outbox_sweep()
        except Exception as exc:  # noqa: BLE001  (reported by the test below)
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(dispatch, "enqueue_now", counting_enqueue):
        a = threading.Thread(target=sweep, name="sweep-a")
        b = threading.Thread(target=lambda: (sweep(after=a_holds_rows), b_done.set()), name="sweep-b")
        a.start()
        b.start()
        a.join(60)
        b.join(60)
    purge_broker()
    assert not errors, errors
    return counts


@pytest.fixture
def on_postgresql(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite's IMMEDIATE transactions serialise sweeps); CI runs this")


def test_two_sweeps_at_once_enqueue_each_routing_once(on_postgresql):
    old = clock.now() - timedelta(minutes=2)
    cases = [CaseFactory() for _ in range(12)]
    for case in cases:
        Outbox.objects.create(case=case, created_at=old)
    counts = two_sweeps_at_once()
    assert {case_id for (_, case_id) in counts} == {c.pk for c in cases}
    assert set(counts.values()) == {1}, counts
    assert set(Outbox.objects.values_list("enqueue_count", flat=True)) == {1}


def test_two_sweeps_at_once_enqueue_each_notification_once(on_postgresql):
    notes = [old_pending_notification(CaseFactory()) for _ in range(12)]
    counts = two_sweeps_at_once()
    assert {note_id for (_, note_id) in counts} == {n.pk for n in notes}
    assert set(counts.values()) == {1}, counts


@pytest.mark.django_db
def test_a_message_the_broker_lost_is_sent_again_but_a_tried_one_is_left_to_its_chain(monkeypatch):
    """A broker restarted without persistence drops the message of a
    notification handed to it: never tried since, it is sent again after
    MESSAGE_LOST_AFTER (not after the six minutes a live chain gets); one tried
    after its hand-over has a chain, and is left to it."""
    sent = []
    monkeypatch.setattr(dispatch, "enqueue_now", lambda task, *args, **kw: sent.append(args[0]) or True)
    now = clock.now()
    lost, tried = old_pending_notification(), old_pending_notification()
    handed_over = now - dispatch.MESSAGE_LOST_AFTER - timedelta(seconds=5)
    Notification.objects.filter(pk=lost.pk).update(enqueued_at=handed_over)
    Notification.objects.filter(pk=tried.pk).update(
        enqueued_at=handed_over, last_attempt_at=now - timedelta(seconds=10), attempts=1
    )
    dispatch.outbox_sweep(now=now)
    assert sent == [lost.pk]


@pytest.mark.django_db
def test_a_retry_the_broker_lost_is_sent_again_once_it_is_overdue(monkeypatch):
    """A try that failed schedules its retry a few seconds on (the first
    retry within 4 s); a broker restart loses that countdown. The sweep takes
    the row once the retry is overdue by a worker's longest try, not after
    the six minutes a chain at its longest waits get; a row with many tries
    behind it (waits up to 300 s) is still left to its chain."""
    sent = []
    monkeypatch.setattr(dispatch, "enqueue_now", lambda task, *args, **kw: sent.append(args[0]) or True)
    now = clock.now()
    handed_over = now - timedelta(minutes=2)
    first_try_lost, first_try_waiting, late_try_waiting = (old_pending_notification() for _ in range(3))
    for note, attempts, tried_ago in (
        (first_try_lost, 1, 70),  # retry due within 4 s: overdue
        (first_try_waiting, 1, 20),  # within its window
        (late_try_waiting, 9, 200),  # retry may wait up to 300 s
    ):
        Notification.objects.filter(pk=note.pk).update(
            enqueued_at=handed_over, last_attempt_at=now - timedelta(seconds=tried_ago), attempts=attempts
        )
    dispatch.outbox_sweep(now=now)
    assert sent == [first_try_lost.pk]


@pytest.mark.django_db
def test_a_routing_retry_the_broker_lost_is_sent_again_once_it_is_overdue(monkeypatch):
    """The same for routing: a case whose first delivery failed (the database
    restarting) and whose retry message was lost is routed about a minute
    later (the fault run's drain had waited six minutes on one), while one
    delivered many times is left to its chain's longer waits."""
    sent = []
    monkeypatch.setattr(dispatch, "enqueue_now", lambda task, *args, **kw: sent.append(args[0]) or True)
    now = clock.now()
    created = now - timedelta(minutes=2)
    rows = {}
    for name, deliveries, delivered_ago in (("lost", 1, 70), ("waiting", 1, 20), ("late", 8, 200)):
        case = CaseFactory()
        rows[name] = Outbox.objects.create(
            case=case,
            created_at=created,
            enqueued_at=created,
            deliveries=deliveries,
            last_delivery_at=now - timedelta(seconds=delivered_ago),
        )
    dispatch.outbox_sweep(now=now)
    assert sent == [rows["lost"].case_id]
    assert Outbox.objects.get(pk=rows["lost"].pk).enqueue_count == 1
