"""Status changes, assignment, queue moves, notes and SLA escalation.

Every function locks the case row first, checks the version the caller saw
(so two staff acting at once cannot both succeed) and writes an event and an
audit entry. There is one writer of a case's status (``_transition``, checked
against ``intake.transitions``) and one of its assignee (``_assign``); routing
uses both. The SLA fields are ``intake.sla``'s to change.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q

from clinic.models import AuditEntry, audit_record
from clinic.templatetags.clinic_time import STAFF_FORMAT, format_clinic_time

from .. import clock, sla
from ..models import CaseEvent, QueueMembership, ReviewRequest
from ..transitions import DECISIONS, OPEN, PATIENT_NOTIFIED, Status, can_transition
from .errors import CaseConflict, IllegalTransition, ServiceError
from .notifications import Notification, notification_request, notify_patient, notify_queue_members, notify_supervisors

# The staff email that tells a clinician a case is ready to read (a string, as
# patientloop's kinds are: no migration of Notification.Kind for it).
STAFF_TO_READ = "staff_to_read"


def case_lock(case_id: int, expected_version: int | None) -> ReviewRequest:
    """The case row, locked for this transaction: every change to a case starts
    here (the services of other apps too), and fails with ``CaseConflict`` if
    someone changed it since the caller's ``expected_version`` (None: no check)."""
    case = ReviewRequest.objects.select_for_update(of=("self",)).select_related("queue").get(pk=case_id)
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            f"{case.reference} was changed by someone else a moment ago. Reload the page to see the change."
        )
    if case.purged_at is not None:
        raise ServiceError(f"{case.reference} was purged under the retention policy.")
    return case


def case_save(case: ReviewRequest):
    """Save a locked case and bump its version, so a stale page's change is refused."""
    case.version += 1
    case.save()


class _Record:
    """What one change to one case leaves behind: its timeline events and one
    audit entry, written together at the end. However many steps a change takes
    (routing: routed, triage, assigned) it costs one INSERT for the events and
    one audit entry; routing's hot path depends on that (bench/README.md).

    Audit lines carry ids and statuses only, never health data: the audit
    trail is read by people who may not see the case."""

    def __init__(self, case: ReviewRequest, actor=None):
        self.case = case
        self.actor = actor
        self.events: list[CaseEvent] = []
        self.lines: list[str] = []

    def add(self, event: CaseEvent, audit_line: str = "") -> CaseEvent:
        self.events.append(event)
        if audit_line:
            self.lines.append(audit_line)
        return event

    def write(self) -> None:
        CaseEvent.objects.bulk_create(self.events)
        if self.lines:
            # Every change to a case also goes to the tamper-evident audit
            # trail (who, when, what, and from where via the current request).
            audit_record(
                action=AuditEntry.Action.CHANGE,
                summary="; ".join(self.lines),
                actor=self.actor,
                object_type="case",
                object_ref=self.case.reference,
            )


def _transition(
    case: ReviewRequest,
    to_status: str,
    *,
    record: _Record,
    now,
    actor=None,
    reason_category: str = "",
    note: str = "",
    kind: str = CaseEvent.Kind.STATUS,
    summary: str = "",
) -> CaseEvent:
    """The one writer of ``case.status``: check the table, apply the
    decision, contact and SLA rules, record the event. The caller holds the
    row lock and saves the case."""
    old = case.status
    if not can_transition(old, to_status):
        raise IllegalTransition(f"{case.reference} cannot move from {Status(old).label} to {Status(to_status).label}.")
    if to_status in DECISIONS:
        if actor is not None and not (actor.is_superuser or actor.has_perm("intake.record_decision")):
            raise ServiceError("Only clinicians record decisions.")
        if not reason_category or not note.strip():
            raise ServiceError("A decision needs a reason category and a note.")
        case.decision_reason = reason_category
        case.decided_at = now
    if to_status == Status.MRI_RECEIVED:
        # "MRI received" is a fact about files: one on the case, or a reason
        # written down (films seen at the imaging centre, say).
        if not note.strip() and not case.files.exists():
            raise ServiceError(
                f"{case.reference} has no MRI file. Attach the images, or write how the MRI was received "
                "(for example: films seen at the imaging centre)."
            )
        if case.mri_received_at is None:
            case.mri_received_at = now
    sla.on_status_change(case, old, to_status, now)
    case.status = to_status
    event = CaseEvent(
        case=case,
        kind=kind,
        actor=actor,
        from_status=old,
        to_status=to_status,
        summary=summary or f"{Status(old).label} → {Status(to_status).label}",
        reason_category=reason_category,
        body=note.strip(),
        created_at=now,
    )
    return record.add(event, f"Status {old} -> {to_status}")


def _assign(case: ReviewRequest, user, *, record: _Record, now, actor=None, waiting_in=None) -> None:
    """The one writer of ``case.assigned_to``. ``waiting_in``: no one in that
    queue could take the case (it waits unassigned, and the event says why)."""
    case.assigned_to = user
    case.assigned_at = now if user else None
    if waiting_in is not None:
        record.add(
            CaseEvent(
                case=case,
                kind=CaseEvent.Kind.UNASSIGNED,
                summary=f"No active member in {waiting_in.name}; waiting.",
                created_at=now,
            ),
            f"Unassigned: no active member in queue {waiting_in.pk}",
        )
        return
    summary = f"Assigned to {user.get_username()}" if user else "Unassigned"
    event = CaseEvent(case=case, kind=CaseEvent.Kind.ASSIGNED, actor=actor, summary=summary, created_at=now)
    record.add(event, summary)


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
        case = case_lock(case_id, expected_version)
        record = _Record(case, actor)
        event = _transition(
            case, to_status, record=record, now=now, actor=actor, reason_category=reason_category, note=note
        )
        if to_status == Status.IN_REVIEW:
            _ensure_reader(case, record=record, now=now, actor=actor)
        case_save(case)
        record.write()
        if to_status in PATIENT_NOTIFIED:
            notify_patient(case, Notification.Kind.PATIENT_STATUS, f"{to_status}:{event.pk}")
    return case


def case_assign(*, case_id: int, user, actor=None, expected_version: int | None = None) -> ReviewRequest:
    """Give a case to ``user``, who must be a member of its queue."""
    with transaction.atomic():
        case = case_lock(case_id, expected_version)
        if user is not None and not (
            case.queue is not None
            and case.queue.memberships.filter(user=user).exists()
            or user.has_perm("intake.view_all_cases")
        ):
            raise ServiceError(f"{user.get_username()} is not a member of {case.queue}.")
        if case.assigned_to_id == (user.pk if user else None):
            return case
        record = _Record(case, actor)
        _assign(case, user, record=record, now=clock.now(), actor=actor)
        case_save(case)
        record.write()
    return case


def _reads_q(user_ref: str):
    """Exists: the user ``user_ref`` points at reads MRIs, i.e. is a clinician,
    granted "record a clinical decision" (by group or directly): the
    permission the review and the decisions check. Everyone else in a queue
    works the patient's side."""
    User = get_user_model()
    perm = {"codename": "record_decision", "content_type__app_label": "intake"}
    by_group = User.groups.through.objects.filter(
        user_id=OuterRef(user_ref), group__permissions__codename=perm["codename"],
        group__permissions__content_type__app_label=perm["content_type__app_label"],
    )  # fmt: skip
    direct = User.user_permissions.through.objects.filter(
        user_id=OuterRef(user_ref), permission__codename=perm["codename"],
        permission__content_type__app_label=perm["content_type__app_label"],
    )  # fmt: skip
    return Exists(by_group) | Exists(direct)


def readers_among(user_ids) -> set[int]:
    """Which of these users read MRIs (see ``_reads_q``)."""
    User = get_user_model()
    return set(User.objects.filter(pk__in=list(user_ids)).filter(_reads_q("pk")).values_list("pk", flat=True))


def _members_by_load(queue, cases: str):
    """The queue's active members, fewest open ``cases`` (a user's related
    name for their cases: ``assigned_cases`` or ``cases_to_read``) first;
    ties go to whoever has waited longest since their last assignment (never
    assigned counts first). Each carries ``reads``: whether they read MRIs."""
    return (
        QueueMembership.objects.filter(queue=queue, is_active=True, user__is_active=True)
        .annotate(
            load=Count(
                f"user__{cases}",
                filter=Q(**{f"user__{cases}__status__in": OPEN, f"user__{cases}__purged_at__isnull": True}),
            ),
            reads=_reads_q("user_id"),
        )
        .order_by("load", F("last_assigned_at").asc(nulls_first=True), "user_id")
        .select_related("user")
    )


def pick_assignee(queue):
    """The active member with the fewest open cases (case_auto_assign prefers
    those who do not read)."""
    return _members_by_load(queue, "assigned_cases")


def case_auto_assign(*, case: ReviewRequest, now, record: _Record) -> list:
    """Assign within the case's queue (through ``_assign``), or record that no
    one can take it. The caller holds the case row and writes ``record``.

    The assignee works the patient's side (first contact, the images, the
    questions): a coordinator of the queue when it has one, else any member
    (the urgent queue is clinicians only: they call back). Returns the
    memberships (with users) to tell about the new case: the patient-side
    members when a coordinator took it (clinicians hear when it is ready to
    read), else the whole queue, ranked."""
    # Lock the queue's memberships before counting: two routings into one
    # queue at once must not both see the same "fewest open cases". Lock
    # order is always case row, then memberships, so this cannot deadlock.
    locked = list(QueueMembership.objects.select_for_update().filter(queue=case.queue).values_list("pk", flat=True))
    ranked = list(pick_assignee(case.queue)) if locked else []
    if not ranked:
        _assign(case, None, record=record, now=now, waiting_in=case.queue)
        notify_supervisors(case, Notification.Kind.SUPERVISOR_UNASSIGNED, f"unassigned:{case.queue_id}")
        return ranked
    patient_side = [m for m in ranked if not m.reads]
    membership = (patient_side or ranked)[0]
    QueueMembership.objects.filter(pk=membership.pk).update(last_assigned_at=now)
    _assign(case, membership.user, record=record, now=now)
    return patient_side or ranked


def _ensure_reader(case: ReviewRequest, *, record: _Record, now, actor=None) -> None:
    """A case going to review gets a clinician of its queue to read it, unless
    the one it has still reads there (a case back from the patient's answer
    returns to the same reader). A clinician who sends it to review reads it;
    otherwise the reading member with the fewest open reads. With none, the
    case waits and the supervisors hear, as for an assignee."""
    if case.queue is None:
        return
    locked = list(QueueMembership.objects.select_for_update().filter(queue=case.queue).values_list("pk", flat=True))
    ranked = [m for m in pick_readers(case.queue) if m.reads] if locked else []
    if case.reader_id is not None and any(m.user_id == case.reader_id for m in ranked):
        return
    chosen = next((m for m in ranked if actor is not None and m.user_id == actor.pk), None) or (
        ranked[0] if ranked else None
    )
    if chosen is None:
        case.reader = None
        record.add(
            CaseEvent(
                case=case,
                kind=CaseEvent.Kind.UNASSIGNED,
                summary=f"No clinician in {case.queue.name} to read it; waiting.",
                created_at=now,
            ),
            f"No reader: no active clinician in queue {case.queue_id}",
        )
        notify_supervisors(case, Notification.Kind.SUPERVISOR_UNASSIGNED, f"noreader:{case.queue_id}")
        return
    _set_reader(case, chosen.user, record=record, now=now, actor=actor)
    QueueMembership.objects.filter(pk=chosen.pk).update(last_assigned_at=now)


def _set_reader(case: ReviewRequest, user, *, record: _Record, now, actor=None) -> None:
    """The one writer of ``case.reader``; the reader is told by email (unless
    they chose it themselves)."""
    case.reader = user
    summary = f"To be read by {user.get_username()}" if user else "No reader"
    record.add(
        CaseEvent(case=case, kind=CaseEvent.Kind.ASSIGNED, actor=actor, summary=summary, created_at=now), summary
    )
    if user is not None and (actor is None or actor.pk != user.pk):
        notification_request(
            case=case,
            kind=STAFF_TO_READ,
            recipient=user.email,
            key=f"{STAFF_TO_READ}:{case.pk}:{user.pk}:{now:%Y%m%d%H%M%S}",
        )


def pick_readers(queue):
    """The queue's active members by open cases to read, fewest first."""
    return _members_by_load(queue, "cases_to_read")


def case_set_reader(*, case_id: int, user, actor=None, expected_version: int | None = None) -> ReviewRequest:
    """Name the clinician who reads ``case``: a reading member of its queue."""
    with transaction.atomic():
        case = case_lock(case_id, expected_version)
        if case.queue is None or not case.queue.memberships.filter(user=user, is_active=True).exists():
            raise ServiceError(f"{user.get_username()} is not an active member of {case.queue}.")
        if user.pk not in readers_among([user.pk]):
            raise ServiceError(f"{user.get_username()} is not a clinician: only clinicians read the MRI.")
        if case.reader_id == user.pk:
            return case
        record = _Record(case, actor)
        _set_reader(case, user, record=record, now=clock.now(), actor=actor)
        case_save(case)
        record.write()
    return case


def case_move_queue(
    *, case_id: int, queue, actor=None, expected_version: int | None = None, new_promise: bool = False
) -> ReviewRequest:
    """Move a case to another staff queue, reassigned within it.

    The date promised to the patient stays, unless staff ask for the new
    queue's time (``new_promise``) or the queue is urgent (its clock is the
    call-back's): then the new date is on the timeline and the patient hears
    there is an update. Either way the timeline says which date holds. Who is told: the new assignee (and
    the supervisors when nobody can take it); in an urgent queue, every
    member, as routing does. A case in review gets a reader in the new queue."""
    now = clock.now()
    with transaction.atomic():
        case = case_lock(case_id, expected_version)
        if case.queue_id == queue.pk:
            return case
        if not queue.is_active:
            raise ServiceError(f"{queue} is not active; choose an active queue.")
        record = _Record(case, actor)
        old = case.queue
        case.queue = queue
        case.is_urgent = case.is_urgent or queue.is_urgent
        before = case.sla_due_at
        # An urgent queue's clock always applies: a call back within its hour.
        if new_promise or before is None or queue.is_urgent:
            sla.on_queue_move(case, queue, now)
        promise_moved = before is not None and before != case.sla_due_at
        record.add(
            CaseEvent(
                case=case,
                kind=CaseEvent.Kind.MOVED,
                actor=actor,
                summary=f"Moved from {old} to {queue}. {_promise_summary(before, case.sla_due_at)}"[:300],
                created_at=now,
            ),
            f"Moved from queue {old.pk if old else '-'} to {queue.pk}"
            + ("; promised date changed" if promise_moved else "; promised date kept"),
        )
        team = case_auto_assign(case=case, now=now, record=record)
        if case.status == Status.IN_REVIEW:
            _ensure_reader(case, record=record, now=now, actor=actor)
        case_save(case)
        record.write()
        if queue.is_urgent:
            notify_queue_members(case, team)
        elif case.assigned_to_id is not None:
            notify_queue_members(case, [m for m in team if m.user_id == case.assigned_to_id])
        if promise_moved:
            # "There is an update": the status page shows the new date.
            notify_patient(case, Notification.Kind.PATIENT_STATUS, f"promise:{case.sla_due_at:%Y%m%d%H%M}")
    return case


def _promise_summary(before, after) -> str:
    def local(when) -> str:
        return format_clinic_time(when, STAFF_FORMAT) if when else "none"

    if before is None:
        return f"Promised date set: {local(after)}."
    if before == after:
        return f"Promised date kept: {local(after)}."
    return f"Promised date changed from {local(before)} to {local(after)}; the patient is told."


def case_add_note(*, case_id: int, actor, body: str) -> CaseEvent:
    """Append an internal note. Notes are never edited or deleted."""
    body = (body or "").strip()
    if not body:
        raise ServiceError("A note cannot be empty.")
    with transaction.atomic():
        case = case_lock(case_id, None)
        record = _Record(case, actor)
        event = record.add(
            CaseEvent(case=case, kind=CaseEvent.Kind.NOTE, actor=actor, summary="Note added", body=body), "Note added"
        )
        record.write()
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
            if case.escalated_at or not sla.is_overdue(case, now):
                continue
            case.escalated_at = now
            case.save(update_fields=["escalated_at", "updated_at"])
            record = _Record(case)
            record.add(
                CaseEvent(case=case, kind=CaseEvent.Kind.ESCALATED, summary="Past its SLA; supervisors told"),
                f"Escalated: past its SLA (due {case.sla_due_at:%Y-%m-%d %H:%M %Z})",
            )
            record.write()
            # One notice per breach: the breach is named by its due time.
            notify_supervisors(case, Notification.Kind.SUPERVISOR_OVERDUE, f"overdue:{case.sla_due_at:%Y%m%d%H%M%S}")
            count += 1
    return count
