"""Routing a submitted case to a staff queue and assigning it: exactly once.

The rules decide (``intake.rules``, pure); this records the decision through
the lifecycle's one status writer and one assignment writer, with the due time
from ``intake.sla``.
"""

import logging

from django.db import transaction
from django.utils import timezone

from .. import clock, sla
from ..models import CaseEvent, Outbox, ReviewRequest, RoutingRule
from ..rules import CaseFacts, decide
from ..transitions import Status

# The lifecycle's private writers: routing is the one other service that
# changes a case's status and assignee, and it must do so the same way.
from .lifecycle import _Record, _transition, case_auto_assign
from .notifications import notify_queue_members

log = logging.getLogger(__name__)


# What routing reads and writes of a case: the row lock fetches only these,
# and the save writes only what routing changes.
ROUTING_READS = (
    "pk", "status", "version", "created_at", "routed_at", "is_urgent", "red_flags", "is_duplicate", "mri_status",
    "mri_taken_on", "mri_region", "regions", "pain_duration", "severity", "language", "queue", "assigned_to",
    "assigned_at", "matched_rule", "routing_reason", "sla_due_at",
    # read by the lifecycle's status writer and the audit entry
    "reference", "sla_paused_at", "sla_stopped", "first_contact_at",
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
        case.sla_due_at = sla.due_at(queue, case.created_at)
        record = _Record(case)
        record.lines.append(f"Routed to queue {queue.pk} by rule {decision.rule.pk if decision.rule else '-'}")
        summary = f"Routed to {queue.name}. {decision.reason}"[:300]
        if case.status == Status.SUBMITTED:
            # Through the transitions table like every status change; the
            # routing event is the status event (one row, from and to).
            _transition(case, Status.TRIAGE, record=record, now=now, kind=CaseEvent.Kind.ROUTED, summary=summary)
        else:  # withdrawn or advised before routing: placed, status kept
            record.add(
                CaseEvent(
                    case=case,
                    kind=CaseEvent.Kind.ROUTED,
                    from_status=case.status,
                    to_status=case.status,
                    summary=summary,
                    created_at=now,
                )
            )
        members = case_auto_assign(case=case, now=now, record=record)
        case.version += 1
        case.save(update_fields=ROUTING_WRITES)
        Outbox.objects.filter(case=case).update(state=Outbox.State.DONE, done_at=now)
        # First routing, under the row lock: no staff notice for this case exists yet.
        notify_queue_members(case, members, known_new=True)
        # Last: the audit entry takes the chain's lock until this transaction
        # commits, so every other routing waits for it from here on; written
        # earlier, the writes above ran inside that wait too.
        record.write()  # the routing and the assignment: one INSERT, one audit entry
    log.info("case %s routed", case.pk)
    return True
