"""Status changes, assignment, queue moves, notes and SLA escalation.

Every function locks the case row first, checks the version the caller saw
(so two staff acting at once cannot both succeed) and writes an event.
"""

from django.db import transaction
from django.utils import timezone

from clinic.models import AuditEntry, audit_record

from .. import clock, sla
from ..transitions import DECISIONS, PATIENT_NOTIFIED, SETTLED, WAITING, Status, can_transition
from ..models import CaseEvent, ReviewRequest
from .errors import CaseConflict, IllegalTransition, ServiceError
from .notifications import Notification, notify_patient, notify_supervisors


def _lock(case_id: int, expected_version: int | None) -> ReviewRequest:
    case = ReviewRequest.objects.select_for_update(of=("self",)).select_related("queue").get(pk=case_id)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.reference} was changed by someone else a moment ago. Reload the page to see the change."
        )
    if case.purged_at is not None:
        raise ServiceError(f"{case.reference} was purged under the retention policy.")
    return case


def _save(case: ReviewRequest):
    case.version += 1
    case.save()


def _audit(case: ReviewRequest, actor, summary: str):
    """Every change to a case also goes to the tamper-evident audit trail
    (who, when, what, and from where via the current request)."""
    audit_record(
        action=AuditEntry.Action.CHANGE, summary=summary, actor=actor, object_type="case", object_ref=case.reference
    )


def _sla_on_status(case: ReviewRequest, old: str, new: str, now):
    """Pause the clock while waiting on others; stop it once settled."""
    around = bool(case.queue and case.queue.is_urgent)
    if new in SETTLED:
        case.sla_stopped = True
        case.sla_paused_at = None
        return
    if new in WAITING and old not in WAITING:
        case.sla_paused_at = now
    elif new not in WAITING and case.sla_paused_at is not None:
        paused = sla.business_time_between(case.sla_paused_at, now, around_the_clock=around)
        if case.sla_due_at is not None:
            case.sla_due_at = sla.add_business_time(case.sla_due_at, paused, around_the_clock=around)
        case.sla_paused_at = None
        case.escalated_at = None
    if case.sla_stopped and new not in SETTLED and case.queue is not None:
        # Reopened: a fresh clock from now.
        case.sla_stopped = False
        case.escalated_at = None
        case.sla_due_at = sla.add_business_time(
            now, timezone.timedelta(hours=case.queue.sla_hours), around_the_clock=around
        )


def case_transition(
    *,
    case_id: int,
    to_status: str,
    actor=None,
    expected_version: int | None = None,
    reason_category: str = "",
    note: str = "",
) -> ReviewRequest:
    """Move a case to ``to_status`` if the transitions table allows it."""
    now = clock.now()
    with transaction.atomic():
        case = _lock(case_id, expected_version)
        old = case.status
        if not can_transition(old, to_status):
            raise IllegalTransition(
                f"{case.reference} cannot move from {Status(old).label} to {Status(to_status).label}."
            )
        if to_status in DECISIONS:
            if actor is not None and not (actor.is_superuser or actor.has_perm("intake.record_decision")):
                raise ServiceError("Only clinicians record decisions.")
            if not reason_category or not note.strip():
                raise ServiceError("A decision needs a reason category and a note.")
            case.decision_reason = reason_category
            case.decided_at = now
        if old in (Status.SUBMITTED, Status.TRIAGE) and actor is not None and case.first_contact_at is None:
            case.first_contact_at = now
        if to_status == Status.MRI_RECEIVED and case.mri_received_at is None:
            case.mri_received_at = now
        _sla_on_status(case, old, to_status, now)
        case.status = to_status
        _save(case)
        event = CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.STATUS,
            actor=actor,
            from_status=old,
            to_status=to_status,
            summary=f"{Status(old).label} → {Status(to_status).label}",
            reason_category=reason_category,
            body=note.strip(),
        )
        _audit(case, actor, f"Status {old} -> {to_status}")
        if to_status in PATIENT_NOTIFIED:
            notify_patient(case, Notification.Kind.PATIENT_STATUS, f"{to_status}:{event.pk}")
    return case


def case_assign(*, case_id: int, user, actor=None, expected_version: int | None = None) -> ReviewRequest:
    """Give a case to ``user``, who must be a member of its queue."""
    with transaction.atomic():
        case = _lock(case_id, expected_version)
        if user is not None and not (
            case.queue_id
            and case.queue.memberships.filter(user=user).exists()
            or user.has_perm("intake.view_all_cases")
        ):
            raise ServiceError(f"{user.get_username()} is not a member of {case.queue}.")
        if case.assigned_to_id == (user.pk if user else None):
            return case
        case.assigned_to = user
        case.assigned_at = clock.now() if user else None
        _save(case)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ASSIGNED,
            actor=actor,
            summary=f"Assigned to {user.get_username()}" if user else "Unassigned",
        )
        _audit(case, actor, f"Assigned to {user.get_username()}" if user else "Unassigned")
    return case


def case_move_queue(*, case_id: int, queue, actor=None, expected_version: int | None = None) -> ReviewRequest:
    """Move a case to another staff queue: a fresh SLA, unassigned, members told."""
    from .notifications import notify_queue_members
    from .routing import case_auto_assign, sla_due

    with transaction.atomic():
        case = _lock(case_id, expected_version)
        if case.queue_id == queue.pk:
            return case
        if not queue.is_active:
            raise ServiceError(f"{queue} is not active; choose an active queue.")
        old = case.queue
        case.queue = queue
        case.is_urgent = case.is_urgent or queue.is_urgent
        case.sla_due_at = sla_due(queue, clock.now())
        case.escalated_at = None
        case.assigned_to = None
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.MOVED, actor=actor, summary=f"Moved from {old} to {queue}"
        )
        case_auto_assign(case=case)
        _save(case)
        _audit(case, actor, f"Moved from queue {old.pk if old else '-'} to {queue.pk}")
        notify_queue_members(case)
    return case


def case_add_note(*, case_id: int, actor, body: str) -> CaseEvent:
    """Append an internal note. Notes are never edited or deleted."""
    body = (body or "").strip()
    if not body:
        raise ServiceError("A note cannot be empty.")
    with transaction.atomic():
        case = _lock(case_id, None)
        event = CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.NOTE, actor=actor, summary="Note added", body=body
        )
        _audit(case, actor, "Note added")
        return event


def cases_escalate_overdue(now=None) -> int:
    """Flag cases past their SLA and tell supervisors, once per breach."""
    now = now or clock.now()
    count = 0
    ids = list(
        ReviewRequest.objects.overdue(now)
        .filter(escalated_at__isnull=True, purged_at__isnull=True)
        .values_list("pk", flat=True)[:1000]
    )
    for case_id in ids:
        with transaction.atomic():
            case = ReviewRequest.objects.select_for_update().get(pk=case_id)
            # Re-check under the lock: it may have moved on meanwhile.
            if (
                case.escalated_at
                or case.sla_stopped
                or case.sla_paused_at
                or not case.sla_due_at
                or case.sla_due_at >= now
            ):
                continue
            case.escalated_at = now
            case.save(update_fields=["escalated_at", "updated_at"])
            CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.ESCALATED, summary="Past its SLA; supervisors told")
            # One notice per breach: the breach is named by its due time.
            notify_supervisors(case, Notification.Kind.SUPERVISOR_OVERDUE, f"overdue:{case.sla_due_at:%Y%m%d%H%M%S}")
            count += 1
    return count
