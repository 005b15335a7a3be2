"""Routing a submitted case to a staff queue and assigning it: exactly once."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from .. import clock, sla
from ..transitions import OPEN, Status
from ..models import CaseEvent, Outbox, QueueMembership, ReviewRequest, RoutingRule
from ..rules import CaseFacts, decide
from .notifications import Notification, notify_queue_members, notify_supervisors

log = logging.getLogger(__name__)


def sla_due(queue, start):
    return sla.add_business_time(start, timedelta(hours=queue.sla_hours), around_the_clock=queue.is_urgent)


def pick_assignee(queue):
    """The active member with the fewest open cases; ties go to whoever has
    waited longest since their last assignment (never assigned counts first)."""
    return (
        QueueMembership.objects.filter(queue=queue, is_active=True, user__is_active=True)
        .annotate(
            open_cases=Count(
                "user__assigned_cases",
                filter=Q(user__assigned_cases__status__in=OPEN, user__assigned_cases__purged_at__isnull=True),
            )
        )
        .order_by("open_cases", F("last_assigned_at").asc(nulls_first=True), "user_id")
        .select_related("user")
    )


def case_auto_assign(*, case: ReviewRequest, now=None, events: list | None = None):
    """Assign within the case's queue, or record that no one can take it.

    The timeline event is appended to ``events`` for the caller to write with
    its own (one INSERT for all); without a list it is written here. Returns
    the queue's active memberships (with users), ranked, so the caller can
    notify them without asking the database again.
    """
    now = now or clock.now()
    pending = [] if events is None else events
    # Lock the queue's memberships before counting: two routings into one
    # queue at once must not both see the same "fewest open cases". Lock
    # order is always case row, then memberships, so this cannot deadlock.
    locked = list(QueueMembership.objects.select_for_update().filter(queue=case.queue).values_list("pk", flat=True))
    ranked = list(pick_assignee(case.queue)) if locked else []
    if not ranked:
        pending.append(
            CaseEvent(
                case=case, kind=CaseEvent.Kind.UNASSIGNED, summary=f"No active member in {case.queue.name}; waiting."
            )
        )
        notify_supervisors(case, Notification.Kind.SUPERVISOR_UNASSIGNED, f"unassigned:{case.queue_id}")
    else:
        membership = ranked[0]
        QueueMembership.objects.filter(pk=membership.pk).update(last_assigned_at=now)
        case.assigned_to = membership.user
        case.assigned_at = now
        pending.append(
            CaseEvent(case=case, kind=CaseEvent.Kind.ASSIGNED, summary=f"Assigned to {membership.user.get_username()}")
        )
    if events is None:
        CaseEvent.objects.bulk_create(pending)
    return ranked


# What routing reads and writes of a case: the row lock fetches only these,
# and the save writes only what routing changes.
ROUTING_READS = (
    "pk", "status", "version", "created_at", "routed_at", "is_urgent", "red_flags", "is_duplicate", "mri_status",
    "mri_taken_on", "mri_region", "regions", "pain_duration", "severity", "queue", "assigned_to",
    "assigned_at", "matched_rule", "routing_reason", "sla_due_at",
)  # fmt: skip
ROUTING_WRITES = [
    "queue", "matched_rule", "routing_reason", "routed_at", "sla_due_at", "status", "assigned_to", "assigned_at",
    "version", "updated_at",
]  # fmt: skip


def case_route(*, case_id: int, now=None) -> bool:
    """Route one case. Safe to run twice or concurrently: returns False when
    the case was already routed (or no longer exists)."""
    now = now or clock.now()
    with transaction.atomic():
        # Lock the case first, always: every writer takes the case row before
        # anything else, so two routings of one case serialise here.
        case = ReviewRequest.objects.select_for_update().only(*ROUTING_READS).filter(pk=case_id).first()
        if case is None or case.routed_at is not None:
            Outbox.objects.filter(case_id=case_id, state=Outbox.State.PENDING).update(
                state=Outbox.State.DONE, done_at=now
            )
            return False
        rules = list(
            RoutingRule.objects.filter(is_active=True, target_queue__is_active=True).select_related("target_queue")
        )
        decision = decide(CaseFacts.of(case, today=timezone.localdate(now)), rules)
        queue = decision.queue
        if queue is None:
            # No rule matched and no catch-all: leave it pending for a
            # supervisor to fix the rules; the sweeper tries again later.
            raise RuntimeError("no routing rule matched; add a catch-all rule")
        case.queue = queue
        case.matched_rule = decision.rule
        case.routing_reason = decision.reason[:300]
        case.routed_at = now
        case.sla_due_at = sla_due(queue, case.created_at)
        from_status = case.status
        if case.status == Status.SUBMITTED:
            case.status = Status.TRIAGE
        events = [
            CaseEvent(
                case=case,
                kind=CaseEvent.Kind.ROUTED,
                from_status=from_status,
                to_status=case.status,
                summary=f"Routed to {queue.name}. {decision.reason}"[:300],
                created_at=now,
            )
        ]
        members = case_auto_assign(case=case, now=now, events=events)
        CaseEvent.objects.bulk_create(events)  # the routing and the assignment, one INSERT
        case.version += 1
        case.save(update_fields=ROUTING_WRITES)
        Outbox.objects.filter(case=case).update(state=Outbox.State.DONE, done_at=now)
        # First routing, under the row lock: no staff notice for this case exists yet.
        notify_queue_members(case, members, fresh=True)
    log.info("case %s routed", case.pk)
    return True
