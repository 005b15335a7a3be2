"""Every message to a patient, by the channels the patient agreed to
(``patientloop.channels``), with status updates combined when close together.

- ``patient_notify`` is what intake's ``notify_patient`` calls: a status update
  is held (``patient_update_request``), anything else goes out now.
- ``patient_message`` fans one message out: an email (intake's Notification,
  its at-most-once claim-then-send unchanged), a text (``TextMessage``, the
  same order here in ``text_send``) or a call task for a coordinator.
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
from django.template.loader import select_template
from django.utils import translation

from clinic.models import AuditEntry, audit_record
from intake import clock
from intake.models import CaseEvent, Notification, ReviewRequest
from intake.services.alerts import system_alert_raise
from intake.services.dispatch import celery_queue_for, enqueue_now, enqueue_on_commit
from intake.services.notifications import notification_request
from intake.transitions import Status

from ..channels import CALL, EMAIL, TEXT, patient_channels
from ..models import CallTask, PendingUpdate, TextMessage
from ..sms import get_backend, texts_available

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
    Notification.Kind.PATIENT_CONFIRMATION: "Tell the patient we received the request (phone calls only)",
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
            or TextMessage.objects.filter(case=case, kind=PATIENT_RESULT).exists()
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
            _text_request(case, kind, f"text:{key}")
        elif channel == CALL:
            _call_task_request(case, kind, f"call:{key}")
    return channels


def _text_request(case: ReviewRequest, kind: str, key: str) -> TextMessage | None:
    text, created = TextMessage.objects.get_or_create(
        dedupe_key=key[:120], defaults={"case": case, "kind": kind, "recipient": case.phone}
    )
    if created:
        from ..tasks import send_text

        enqueue_on_commit(send_text, text.pk, celery_queue=celery_queue_for(case.is_urgent))
    return text


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


# --- Texts ---------------------------------------------------------------------------
class TextDeliveredButUnmarked(Exception):
    """The provider took the text; the "sent" mark could not be written."""


def _text_body(text: TextMessage) -> str:
    from intake.status_links import status_link

    case = text.case
    ctx = {
        "reference": case.reference,
        "clinic_name": settings.INTAKE_CLINIC_NAME,
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
        "status_url": settings.INTAKE_SITE_URL + status_link(case),
    }
    template = select_template([f"patientloop/texts/{text.kind}.txt", "patientloop/texts/default.txt"])
    with translation.override(case.language):
        return " ".join(template.render(ctx).split())


def text_send(*, text_id: int, delivered: bool = False) -> bool:
    """Send one text AT MOST ONCE: claim (committed), send, mark, in the order
    and for the reasons of intake.services.notifications.notification_send.
    A refused or unreachable provider gives the claim back and raises (the
    task retries); a lost mark raises TextDeliveredButUnmarked (the task then
    only writes the mark)."""
    if delivered:
        _text_mark_sent(text_id, "")
        return False
    with transaction.atomic():
        text = TextMessage.objects.select_for_update(of=("self",)).select_related("case").filter(pk=text_id).first()
        if text is None or text.state != TextMessage.State.PENDING:
            return False
        body = _text_body(text)
        text.state = TextMessage.State.SENDING
        text.attempts += 1
        text.claimed_at = clock.now()
        text.save(update_fields=["state", "attempts", "claimed_at"])
    try:
        provider_id = get_backend().send(to=text.recipient, body=body)
    except Exception:
        TextMessage.objects.filter(pk=text.pk, state=TextMessage.State.SENDING).update(
            state=TextMessage.State.PENDING, claimed_at=None
        )
        raise
    try:
        _text_mark_sent(text.pk, provider_id)
    except Exception as exc:
        raise TextDeliveredButUnmarked(f"text {text.pk} sent; its mark is not yet written") from exc
    log.info("text %s sent (%s)", text.pk, text.kind)
    return True


def _text_mark_sent(text_id: int, provider_id: str) -> None:
    TextMessage.objects.filter(pk=text_id).exclude(state=TextMessage.State.SENT).update(
        state=TextMessage.State.SENT, sent_at=clock.now(), provider_id=provider_id or ""
    )


# A text claimed this long ago and never marked sent: its sender died mid-way.
STUCK_SENDING_AFTER = timedelta(minutes=10)


def patientloop_sweep(*, now=None) -> int:
    """The beat's one call (every 20 s): send the held updates that are due,
    enqueue texts the broker never took (down at commit time), and report
    texts whose send is unconfirmed, never resending them (at most once), as
    intake.services.dispatch does for emails. Returns the updates sent."""
    from ..tasks import send_text

    now = now or clock.now()
    sent = patient_updates_dispatch(now=now)
    stale = TextMessage.objects.filter(state=TextMessage.State.PENDING, created_at__lt=now - timedelta(seconds=30))
    for text_id in stale.values_list("pk", flat=True)[:500]:
        enqueue_now(send_text, text_id)
    stuck = TextMessage.objects.filter(state=TextMessage.State.SENDING, claimed_at__lt=now - STUCK_SENDING_AFTER)
    ids = list(stuck.values_list("pk", flat=True)[:500])
    if ids:
        TextMessage.objects.filter(pk__in=ids, state=TextMessage.State.SENDING).update(state=TextMessage.State.FAILED)
        system_alert_raise(
            key=f"texts-unconfirmed:{now:%Y%m%d}",
            subject="Some text messages may not have been sent",
            body=(
                f"{len(ids)} text message(s) were handed to a sender that stopped before confirming the send. "
                "They may or may not have reached the patient, so they are not sent again automatically. In "
                "the admin's case timeline, check those patients and contact them another way if needed."
            ),
        )
        log.error("%s text(s) with an unconfirmed send marked failed", len(ids))
    return sent


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
