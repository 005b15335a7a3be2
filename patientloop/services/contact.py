"""Every message to a patient, by the channels the patient agreed to
(``patientloop.channels``), with status updates combined when close together.

- ``patient_notify`` is what intake's ``notify_patient`` calls: a status update
  is held (``patient_update_request``), anything else goes out now.
- ``patient_message`` fans one message out by every channel the patient
  agreed to: an email and a text are both intake's Notification rows (channel
  "email" or "text"), claimed and sent at most once and swept by intake's
  outbox sweep; a patient who allowed calls only gets a call task for a
  coordinator.
- ``patient_updates_dispatch`` (beat, every 20 s) sends the held updates whose
  quiet time has passed: updates N minutes apart or less make one message.
  ``update_kind`` words it: "your result is ready" for a decision, otherwise
  "there is an update".

Messages carry no health data: a reference, a link to the status page. A
result-ready message says that a result is ready, never which.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from clinic.models import AuditEntry, audit_record
from clinic.sms import texts_available
from intake import clock
from intake.models import CaseEvent, Notification, ReviewRequest
from intake.services.notifications import notification_request
from intake.transitions import Status

from ..channels import CALL, EMAIL, TEXT, patient_channels
from ..models import CallTask, PendingUpdate

log = logging.getLogger(__name__)

PATIENT_STATUS = Notification.Kind.PATIENT_STATUS
# A status update that is a decision: "your result is ready; open your status page"
# (emails/patient_result.txt, patientloop/texts/patient_result.txt). A string, not
# a Notification.Kind, as staff_patient_answered is: no intake migration for it.
PATIENT_RESULT = "patient_result"
# Decisions the patient hears about as a result. "Needs more information" is
# a result only when a clinician's structured review decided it (the status
# page then shows the letter); a question alone is still "an update".
RESULT_STATUSES = {Status.CANDIDATE, Status.NOT_CANDIDATE}
RESULT_WITH_REVIEW = {Status.NEEDS_MORE_INFO}
# A consult booked within minutes of "candidate" makes one combined update:
# it says the result is ready unless the patient was already told so.
RESULT_IF_UNTOLD = {Status.CONSULT_SCHEDULED}
# An update keeps being pushed back by newer ones, but never beyond this many quiet windows.
MAX_HOLD_WINDOWS = 3

CALL_REASONS: dict[str, str] = {
    Notification.Kind.PATIENT_CONFIRMATION: (
        "Tell the patient we received the request and read out its reference (phone calls only: no email or text "
        "was sent)"
    ),
    Notification.Kind.PATIENT_STATUS: "Tell the patient there is an update on their request (phone calls only)",
    PATIENT_RESULT: "Tell the patient their result is ready on the status page (phone calls only)",
}


def update_kind(case: ReviewRequest) -> str:
    """How a status update is worded, from where the case stands when it is sent:
    PATIENT_RESULT for a decision, PATIENT_STATUS otherwise."""
    if case.status in RESULT_STATUSES:
        return PATIENT_RESULT
    if case.status in RESULT_WITH_REVIEW:
        # reviews' Review (related_name "structured_review"), read through the
        # case so that patientloop does not import reviews (which imports it).
        reviewed = ReviewRequest.objects.filter(pk=case.pk, structured_review__version__gt=0).exists()
        return PATIENT_RESULT if reviewed else PATIENT_STATUS
    if case.status in RESULT_IF_UNTOLD:
        told = (
            Notification.objects.filter(case=case, kind=PATIENT_RESULT).exists()
            or CallTask.objects.filter(case=case, kind=PATIENT_RESULT).exists()
        )
        return PATIENT_STATUS if told else PATIENT_RESULT
    return PATIENT_STATUS


def patient_notify(*, case: ReviewRequest, kind: str, occasion: str, known_new: bool = False) -> list[str]:
    """Intake's entry point: hold a status update, send anything else now.
    Returns the channels used now ([] for a held update)."""
    if kind == PATIENT_STATUS:
        patient_update_request(case=case)
        return []
    return patient_message(
        case=case, kind=kind, key=f"{kind}:{case.pk}:{occasion}", status_shown=case.status, known_new=known_new
    )


def patient_message(
    *, case: ReviewRequest, kind: str, key: str, status_shown: str = "", known_new: bool = False
) -> list[str]:
    """One message to the patient through each channel ``patient_channels``
    allows, each recorded once by ``key`` (asked again: nothing more is sent)."""
    channels = patient_channels(case, texts=texts_available())
    if not channels and case.purged_at is None:
        # Staff can see why the patient heard nothing (no consent, or no provider for texts).
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTIFICATION,
            summary=f"Not sent ({kind}): no contact channel the patient agreed to is available",
        )
    for channel in channels:
        if channel == EMAIL:
            notification_request(
                case=case, kind=kind, recipient=case.email, key=key, status_shown=status_shown, known_new=known_new
            )
        elif channel == TEXT:
            notification_request(
                case=case,
                kind=kind,
                recipient=case.phone,
                key=key,
                status_shown=status_shown,
                channel=Notification.Channel.TEXT,
                known_new=known_new,
            )
        elif channel == CALL:
            _call_task_request(case, kind, f"call:{key}")
    return channels


def _call_task_request(case: ReviewRequest, kind: str, key: str) -> CallTask:
    reason = CALL_REASONS.get(kind, "Call the patient about their request (phone calls only)")
    task, created = CallTask.objects.get_or_create(
        dedupe_key=key[:120], defaults={"case": case, "kind": kind, "reason": reason}
    )
    if created:
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTIFICATION, summary=f"Call task: {reason}")
    return task


# --- Combining status updates ------------------------------------------------------
def _window() -> timedelta:
    return timedelta(seconds=settings.INTAKE_PATIENT_UPDATE_DEBOUNCE_SECONDS)


def patient_update_request(*, case: ReviewRequest, now=None) -> PendingUpdate:
    """Hold a status update for the patient: a new one if none is pending,
    otherwise the pending one is pushed back (it stands for both), up to
    MAX_HOLD_WINDOWS windows after the first so a busy case still hears."""
    now = now or clock.now()
    with transaction.atomic():
        pending = PendingUpdate.objects.select_for_update().filter(case=case, state=PendingUpdate.State.PENDING).first()
        if pending is None:
            try:
                with transaction.atomic():  # another process may create it at the same moment
                    return PendingUpdate.objects.create(case=case, first_at=now, send_after=now + _window())
            except IntegrityError:
                pending = PendingUpdate.objects.select_for_update().get(case=case, state=PendingUpdate.State.PENDING)
        pending.send_after = min(now + _window(), pending.first_at + MAX_HOLD_WINDOWS * _window())
        pending.combined += 1
        pending.save(update_fields=["send_after", "combined"])
        return pending


def patient_updates_dispatch(*, now=None) -> int:
    """Send each held update whose quiet time has passed, once. Returns how many."""
    now = now or clock.now()
    due = PendingUpdate.objects.filter(state=PendingUpdate.State.PENDING, send_after__lte=now)
    sent = 0
    for update_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            update = (
                PendingUpdate.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=update_id, state=PendingUpdate.State.PENDING)
                .first()
            )
            if update is None:  # another sweeper took it
                continue
            update.state = PendingUpdate.State.DISPATCHED
            update.dispatched_at = now
            update.save(update_fields=["state", "dispatched_at"])
            case = update.case
            # The key keeps PATIENT_STATUS whatever the wording: one message per held update.
            patient_message(
                case=case,
                kind=update_kind(case),
                key=f"{PATIENT_STATUS}:{case.pk}:u{update.pk}",
                status_shown=case.status,
            )
            sent += 1
    return sent


def patientloop_sweep(*, now=None) -> int:
    """The beat's one call (every 20 s): send the held updates that are due.
    Texts are intake's notifications: intake's outbox sweep enqueues those the
    broker never took and reports those whose send is unconfirmed, as for
    emails. Returns the updates sent."""
    return patient_updates_dispatch(now=now or clock.now())


# --- Call tasks ------------------------------------------------------------------------
def call_task_done(*, task_id: int, actor) -> CallTask:
    """A coordinator made the call: the task closes and the contact is logged
    (intake.services.contact, the one writer of first contact)."""
    from intake.services.contact import case_log_contact

    with transaction.atomic():
        task = CallTask.objects.select_for_update().get(pk=task_id)
        if task.done_at is not None:
            return task
        task.done_at = clock.now()
        task.done_by = actor
        task.save(update_fields=["done_at", "done_by"])
        case_log_contact(case_id=task.case_id, method="phone", actor=actor, note=f"Call task: {task.reason}")
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Call task #{task.pk} done",
            actor=actor,
            object_type="case",
            object_ref=task.case.reference,
        )
    return task
