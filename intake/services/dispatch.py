"""Enqueueing Celery tasks, and the delivery policy around them.

Enqueue after commit, by id, never failing the caller: if the broker is down
the work stays recorded in the database (the outbox row or the pending
notification) and a periodic sweep enqueues it later. How many times a
routing message may be delivered before the case is parked for a person is
decided here too, so the tasks stay adapters.

Words: a *Celery queue* is a lane of messages in the broker ("urgent" is
consumed apart from "routine"); a *staff queue* (``StaffQueue``) is a team's
list of cases. Only Celery queues appear in this module.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now

from clinic.celery import BACKOFF_MAX_SECONDS, backoff_ceiling

from .. import clock

log = logging.getLogger(__name__)

# The Celery queues (clinic/celery.py declares them; workers consume both).
CELERY_URGENT = "urgent"
CELERY_ROUTINE = "routine"


def celery_queue_for(urgent_case: bool) -> str:
    """The Celery queue for work about an urgent case (or an urgent message)."""
    return CELERY_URGENT if urgent_case else CELERY_ROUTINE


def enqueue_on_commit(task, *args, celery_queue: str = CELERY_ROUTINE):
    transaction.on_commit(lambda: enqueue_now(task, *args, celery_queue=celery_queue))


def enqueue_now(task, *args, celery_queue: str = CELERY_ROUTINE) -> bool:
    try:
        task.apply_async(args=args, queue=celery_queue, retry=False)
        return True
    except Exception as exc:  # broker down or misconfigured: the sweeper will retry
        log.warning("enqueue of %s%r deferred to the sweeper: %s: %s", task.name, args, type(exc).__name__, exc)
        return False


def notification_enqueue_on_commit(*, notification_id: int, urgent: bool) -> None:
    """Send a notification after commit. Its row was written with
    ``enqueued_at`` set; if the broker refuses, that mark is cleared so the
    outbox sweep sends it within INTAKE_OUTBOX_SWEEP_AFTER_SECONDS, while a
    message that did reach the broker is left to its retry chain."""
    from ..models import Notification
    from ..tasks import send_notification

    def enqueue():
        if not enqueue_now(send_notification, notification_id, celery_queue=celery_queue_for(urgent)):
            Notification.objects.filter(pk=notification_id, state=Notification.State.PENDING).update(enqueued_at=None)

    transaction.on_commit(enqueue)


def case_route_delivery(*, case_id: int) -> bool:
    """One delivery of a case's routing message (the ``route_case`` task).

    The delivery is counted before routing and outside its transaction, so a
    worker killed mid-task still leaves a mark; past
    INTAKE_MAX_ROUTE_DELIVERIES the case is parked (outbox ``failed``) for a
    person instead of crashing workers forever. One UPDATE on the usual path.
    Returns what ``case_route`` returns, or False when given up. A routing
    error is noted on the outbox row (its type only) and raised for the task
    to retry.
    """
    from ..models import Outbox
    from .routing import case_route

    pending = Outbox.objects.filter(case_id=case_id, state=Outbox.State.PENDING)
    counted = pending.filter(deliveries__lt=settings.INTAKE_MAX_ROUTE_DELIVERIES).update(
        deliveries=F("deliveries") + 1, last_delivery_at=Now()
    )
    if not counted and pending.update(state=Outbox.State.FAILED, last_error="delivery limit reached"):
        log.error("case %s: routing given up after %s deliveries", case_id, settings.INTAKE_MAX_ROUTE_DELIVERIES)
        return False
    try:
        return case_route(case_id=case_id)
    except Exception as exc:
        Outbox.objects.filter(case_id=case_id).update(last_error=type(exc).__name__)
        raise


# A notification claimed this long ago and never marked sent: its sender died
# between the claim and the hand-over to the mail server (or right after it).
STUCK_SENDING_AFTER = timedelta(minutes=10)

# A task's retries wait at most 300 s (clinic.celery.backoff). A row whose
# latest try started longer ago than that, plus a minute for a busy worker,
# has no retry chain left; a younger one has, and re-enqueueing it would start
# a second chain: more tries than allowed, and a mail server in an outage hit
# twice as often (issue 22).
CHAIN_SILENT_AFTER = timedelta(seconds=BACKOFF_MAX_SECONDS + 60)

# A worker's longest try (clinic settings: CELERY_TASK_TIME_LIMIT is 60 s)
# beside the wait before its retry: past both, a retry that never started
# lost its message.
TRY_MARGIN = timedelta(seconds=60)


def retry_silent_before(now, deliveries_field: str, time_field: str) -> Q:
    """Rows whose latest try (``time_field``) is old enough that the retry it
    may have scheduled is overdue: the retry message was lost (a broker
    restarted without persistence drops the countdowns it held, and a worker
    that lost its connection drops those it was holding).

    After the n-th try the task's retry waits at most min(300, 2**n) s
    (clinic.celery.backoff with request.retries <= n - 1); the wait allowed
    here is the next one up, min(300, 2**(n+1)), in case a try that failed
    before it could count itself (the database down) came between, plus
    TRY_MARGIN. A first try that failed is retried within 4 s, so its lost
    retry is swept after 64 s, not after CHAIN_SILENT_AFTER (the fault run's
    drain once waited six minutes on one case for this, issue 22's CI).
    """
    q = Q(**{f"{time_field}__lt": now - CHAIN_SILENT_AFTER})
    n = 0
    while backoff_ceiling(n) < BACKOFF_MAX_SECONDS:  # past that, CHAIN_SILENT_AFTER above
        wait = timedelta(seconds=backoff_ceiling(n)) + TRY_MARGIN
        q |= Q(**{deliveries_field: n, f"{time_field}__lt": now - wait})
        n += 1
    return q


# A notification handed to the broker this long ago whose task never started
# since (no try after the hand-over) lost its message: a broker restarted
# without persistence drops what it held. Its chain never began, so sending it
# again starts none beside it. Longer than a busy queue's usual wait.
MESSAGE_LOST_AFTER = timedelta(seconds=60)

# Tries of one notification: send_notification's first try and its retries
# (intake.tasks sets max_retries from this). The waits grow to 300 s and are
# drawn at random below that (clinic.celery.backoff), so 49 tries span about
# 1 h 45 min of a mail server refusing: a patient's confirmation outlives an
# ordinary outage. Only after the last is it marked failed and staff told.
MAX_NOTIFICATION_ATTEMPTS = 49


def outbox_sweep(now=None) -> int:
    """Re-enqueue routing still pending after INTAKE_OUTBOX_SWEEP_AFTER_SECONDS,
    notifications and alerts that never went out (broker down at commit time),
    and report notifications whose send is unconfirmed. Returns the number of
    cases re-enqueued.

    A row whose retry chain may still be alive (its latest try less than
    CHAIN_SILENT_AFTER ago) is left to that chain. One sweep at a time per
    row: the rows a sweep takes are locked (``FOR UPDATE SKIP LOCKED``) until
    their enqueue is recorded, so a second beat sweeping at the same moment
    skips them, and once committed they are no longer stale. (On SQLite,
    which has no row locks, the IMMEDIATE transaction serialises sweeps.)
    """
    from ..models import Outbox, SystemAlert
    from ..tasks import route_case, send_system_alert

    now = now or clock.now()
    cutoff = now - timedelta(seconds=settings.INTAKE_OUTBOX_SWEEP_AFTER_SECONDS)
    stale = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff)
    chain_over = now - CHAIN_SILENT_AFTER
    sent = 0
    # The enqueue happens inside the transaction, holding the rows: the rows
    # are committed already (a worker reads nothing this transaction writes),
    # and a message published before a failed commit only means a row swept
    # again later, which the delivery count and the claim absorb.
    with transaction.atomic():
        rows = list(
            Outbox.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                stale,
                Q(last_delivery_at__isnull=True) | retry_silent_before(now, "deliveries", "last_delivery_at"),
                state=Outbox.State.PENDING,
                created_at__lt=cutoff,
            )
            .select_related("case")
            .only("pk", "case_id", "case__is_urgent")[:500]
        )
        for box in rows:
            if enqueue_now(route_case, box.case_id, celery_queue=celery_queue_for(box.case.is_urgent)):
                Outbox.objects.filter(pk=box.pk).update(enqueued_at=now, enqueue_count=F("enqueue_count") + 1)
                sent += 1
    _sweep_notifications(now, cutoff, chain_over)
    for alert_id in SystemAlert.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:50]:
        enqueue_now(send_system_alert, alert_id, celery_queue=CELERY_URGENT)
    _report_unconfirmed_notifications(now)
    if rows:
        log.info("outbox sweep: %s of %s pending cases re-enqueued", sent, len(rows))
    return sent


def _sweep_notifications(now, cutoff, chain_over) -> None:
    """Enqueue pending notifications without a live retry chain; give up on
    those that used every try (marked failed, staff told once a day).

    Alive means handed to the broker (``enqueued_at``) less than
    CHAIN_SILENT_AFTER ago, or tried (``last_attempt_at``) recently enough that
    its retry may still be counting down (retry_silent_before). A
    notification whose enqueue failed (no ``enqueued_at``) is taken after
    ``cutoff``; one handed over MESSAGE_LOST_AFTER ago and never tried since
    lost its message (a broker restarted without persistence), and so did one
    tried since whose retry is overdue: both are taken too."""
    from ..models import Notification
    from ..tasks import send_notification
    from .alerts import system_alert_raise

    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                Q(enqueued_at__isnull=True)
                | Q(enqueued_at__lt=chain_over)
                | (
                    Q(enqueued_at__lt=now - MESSAGE_LOST_AFTER)
                    & (Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=F("enqueued_at")))
                )
                | Q(last_attempt_at__gte=F("enqueued_at")),  # tried since: the next clause asks if its retry is late
                Q(last_attempt_at__isnull=True) | retry_silent_before(now, "attempts", "last_attempt_at"),
                state=Notification.State.PENDING,
                created_at__lt=cutoff,
            )
            .only("pk", "kind", "attempts")[:500]
        )
        spent = [n.pk for n in pending if n.attempts >= MAX_NOTIFICATION_ATTEMPTS]
        for n in pending:
            if n.attempts >= MAX_NOTIFICATION_ATTEMPTS:
                continue
            urgent = n.kind == Notification.Kind.STAFF_URGENT
            if enqueue_now(send_notification, n.pk, celery_queue=celery_queue_for(urgent)):
                Notification.objects.filter(pk=n.pk).update(enqueued_at=now)
        if spent:
            Notification.objects.filter(pk__in=spent, state=Notification.State.PENDING).update(
                state=Notification.State.FAILED
            )
    if spent:
        system_alert_raise(
            key=f"notifications-given-up:{now:%Y%m%d}",
            subject="Some emails or texts could not be sent",
            body=(
                f"{len(spent)} notification(s) were refused by the mail server or SMS provider (or could not "
                f"reach it) on each of {MAX_NOTIFICATION_ATTEMPTS} tries and are no longer retried. In the admin, "
                "filter notifications by state 'Failed' and contact those patients or staff another way if needed."
            ),
        )
        log.error("%s notification(s) given up after %s tries", len(spent), MAX_NOTIFICATION_ATTEMPTS)


def _report_unconfirmed_notifications(now) -> int:
    """Never resend a notification whose send is unconfirmed (it may have gone
    out: at most once); mark it failed and tell staff once a day instead."""
    from ..models import Notification
    from .alerts import system_alert_raise

    stuck = Notification.objects.filter(state=Notification.State.SENDING, claimed_at__lt=now - STUCK_SENDING_AFTER)
    ids = list(stuck.values_list("pk", flat=True)[:500])
    if not ids:
        return 0
    Notification.objects.filter(pk__in=ids, state=Notification.State.SENDING).update(state=Notification.State.FAILED)
    system_alert_raise(
        key=f"notifications-unconfirmed:{now:%Y%m%d}",
        subject="Some emails or texts may not have been sent",
        body=(
            f"{len(ids)} notification(s) were handed to a sender that stopped before confirming the send "
            "(a worker killed or the database lost at that moment). They may or may not have reached the "
            "recipient, so they are not sent again automatically. In the admin, filter notifications by "
            "state 'Failed' and contact those patients or staff another way if needed."
        ),
    )
    log.error("%s notification(s) with an unconfirmed send marked failed", len(ids))
    return len(ids)
