"""Notifications: recorded once by a dedupe key, delivered once by a task.

A notification is an email or a text (``Notification.channel``): both are
the same rows, claimed and sent at most once by ``notification_send``, swept
by the same outbox sweep (intake.services.dispatch). Emails and texts carry no
health information: a reference, a link and a date at most.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from clinic.sms import get_backend as sms_backend

from .. import clock
from ..models import Notification, ReviewRequest
from .dispatch import MAX_NOTIFICATION_ATTEMPTS, notification_enqueue_on_commit

log = logging.getLogger(__name__)
Kind = Notification.Kind
URGENT_KINDS = {Kind.STAFF_URGENT}


EMAIL = Notification.Channel.EMAIL
TEXT = Notification.Channel.TEXT
# A text's dedupe key is its email twin's with this prefix: one message to a
# patient by two channels is two rows, found together by patient_told_by.
TEXT_KEY_PREFIX = "text:"


def notification_request(
    *,
    case: ReviewRequest,
    kind: str,
    recipient: str,
    key: str,
    status_shown: str = "",
    channel: str = EMAIL,
    known_new: bool = False,
):
    """Record that ``recipient`` (an email address, or a phone number for
    ``channel="text"``) should hear about ``case``; enqueue it after commit.

    Asking again for the same key records the repeat and sends nothing more.
    ``known_new=True`` SKIPS THE DEDUPE CHECK: only for a key that cannot
    exist yet (a case created or first routed in this very transaction, under
    its row lock). One INSERT instead of get_or_create's four round trips, on
    the hottest paths; anywhere else it would raise on the unique key.
    """
    if not recipient:
        return None
    if channel == TEXT:
        key = TEXT_KEY_PREFIX + key
    # enqueued_at: the enqueue that follows the commit (cleared if it fails),
    # so the outbox sweep leaves a message waiting in the broker to its chain.
    fields = {
        "case": case,
        "kind": kind,
        "channel": channel,
        "recipient": recipient,
        "status_shown": status_shown,
        "enqueued_at": Now(),
    }
    if known_new:
        notification, created = Notification.objects.create(dedupe_key=key[:120], **fields), True
    else:
        notification, created = Notification.objects.get_or_create(dedupe_key=key[:120], defaults=fields)
    if not created:
        Notification.objects.filter(pk=notification.pk).update(duplicate_requests=F("duplicate_requests") + 1)
        return notification
    urgent = kind in URGENT_KINDS or case.is_urgent
    notification_enqueue_on_commit(notification_id=notification.pk, urgent=urgent)
    return notification


def supervisors():
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__name="Supervisor").exclude(email="").distinct()


def notify_queue_members(case: ReviewRequest, members=None, *, known_new: bool = False):
    """Tell the queue's active members (``members``: memberships already loaded, with users)."""
    queue = case.queue
    if queue is None:
        return  # not routed yet: no members to tell
    kind = Kind.STAFF_URGENT if queue.is_urgent else Kind.STAFF_NEW_CASE
    if members is None:
        members = queue.memberships.filter(is_active=True, user__is_active=True).select_related("user")
    for m in members:
        notification_request(
            case=case, kind=kind, recipient=m.user.email, key=f"{kind}:{case.pk}:{m.user_id}", known_new=known_new
        )


def notify_supervisors(case: ReviewRequest, kind: str, occasion: str):
    for user in supervisors():
        notification_request(case=case, kind=kind, recipient=user.email, key=f"{kind}:{case.pk}:{occasion}:{user.pk}")


def notify_patient(case: ReviewRequest, kind: str, occasion: str, *, known_new: bool = False):
    """Tell the patient, only through the channels they agreed to, status
    updates combined when close together: patientloop.services.contact owns
    both rules (email still comes back through notification_request)."""
    from patientloop.services.contact import patient_notify

    patient_notify(case=case, kind=kind, occasion=occasion, known_new=known_new)


CALL = "call"


def patient_told_by(case: ReviewRequest, *, kind: str, occasion: str) -> list[str]:
    """The channels one message to the patient went by, from what was
    recorded: "email", "text" (Notification rows) and "call" (a coordinator's
    call task, patientloop's CallTask read through the case). What the
    confirmation page, email and text say was used, never what might be."""
    base = f"{kind}:{case.pk}:{occasion}"
    channels = _written_channels(case.pk, base)
    # related_name "call_tasks": read through the case so intake never imports patientloop.
    if case.call_tasks.filter(dedupe_key=f"call:{base}").exists():
        channels.append(CALL)
    return channels


def _written_channels(case_id: int, base_key: str) -> list[str]:
    """The written channels of one message: its email row and its text twin."""
    keys = [base_key, TEXT_KEY_PREFIX + base_key]
    used = set(Notification.objects.filter(case_id=case_id, dedupe_key__in=keys).values_list("channel", flat=True))
    return [c for c in (EMAIL, TEXT) if c in used]


def _context(n: Notification) -> dict:
    from ..selectors import promised_by
    from ..status_links import status_link

    case = n.case
    return {
        "reference": case.reference,
        "clinic_name": settings.INTAKE_CLINIC_NAME,
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
        "admin_url": settings.INTAKE_SITE_URL + reverse("admin:intake_reviewrequest_change", args=[case.pk]),
        "status_url": settings.INTAKE_SITE_URL + status_link(case),
        # Before routing (the confirmation usually goes first) the promise is
        # what the current rules give, as on the confirmation page.
        "due": promised_by(case),
        "is_urgent": case.is_urgent,
        # Patient messages say which ways they went ("We also sent this by text").
        "channels": (
            _written_channels(case.pk, n.dedupe_key.removeprefix(TEXT_KEY_PREFIX))
            if n.kind.startswith("patient")
            else []
        ),
    }


def _render(n: Notification, ctx: dict) -> tuple[str, str]:
    """(subject, body) in the reader's language: a patient's case's, staff's the site's."""
    language = n.case.language if n.kind.startswith("patient") else settings.LANGUAGE_CODE
    with translation.override(language):
        if n.channel == TEXT:
            template = select_template([f"patientloop/texts/{n.kind}.txt", "patientloop/texts/default.txt"])
            return "", " ".join(template.render(ctx).split())
        return str(SUBJECTS[n.kind]).format(**ctx), render_to_string(f"emails/{n.kind}.txt", ctx)


def _deliver(n: Notification, subject: str, body: str) -> str:
    """Hand the message over (mail server or SMS backend); raises if refused.
    Returns the provider's id for a text, if it gave one."""
    if n.channel == TEXT:
        return sms_backend().send(to=n.recipient, body=body)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [n.recipient])
    return ""


SUBJECTS = {
    Kind.PATIENT_CONFIRMATION: _("We received your request {reference}"),
    Kind.PATIENT_STATUS: _("An update on your request {reference}"),
    Kind.STAFF_NEW_CASE: "New case {reference} in your queue",
    Kind.STAFF_URGENT: "URGENT: call back {reference} now",
    Kind.SUPERVISOR_UNASSIGNED: "Case {reference} is waiting: no one to assign",
    Kind.SUPERVISOR_OVERDUE: "Case {reference} is past its SLA",
    # patientloop's kinds (strings, not Kinds: no intake migration for them)
    "patient_result": _("Your result is ready: request {reference}"),
    "staff_patient_answered": "Case {reference}: the patient answered or sent files",
    "staff_to_read": "Case {reference} is ready for you to read",
}


class DeliveredButUnmarked(Exception):
    """The mail server (or SMS provider) took the message but the "sent" mark could not be
    written (the database went away). The caller retries with ``delivered``."""


def notification_send(*, notification_id: int, delivered: bool = False) -> bool:
    """Deliver one notification AT MOST ONCE. Returns True if this call sent it.

    The order is: claim, commit, send, mark. The claim (state ``sending``) is
    committed before the message is handed to the mail server, so a crash or
    a database restart after the hand-over can never lead to a second send:
    the row is no longer ``pending`` and nothing retries it. The price is the
    other way round: a process killed between the claim and the hand-over
    leaves the row ``sending`` with no email sent; the outbox sweeper reports
    such rows to staff (sweep_stuck_notifications) instead of guessing.

    If the mail server refuses or cannot be reached, nothing was handed over:
    the claim is given back and the task retries. If the hand-over worked but
    the mark cannot be written, ``DeliveredButUnmarked`` is raised and the task
    retries with ``delivered=True``, which only writes the mark.
    """
    if delivered:
        _mark_sent(notification_id)
        return False
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("case")
            .filter(pk=notification_id)
            .first()
        )
        if n is None or n.state != Notification.State.PENDING:
            return False
        if n.attempts >= MAX_NOTIFICATION_ATTEMPTS:
            return False  # every try used: the outbox sweep marks it failed and tells staff
        if n.case.purged_at is not None:
            # The address is gone with the personal data: nothing to send it to.
            Notification.objects.filter(pk=n.pk).update(state=Notification.State.FAILED)
            return False
        subject, body = _render(n, _context(n))
        n.state = Notification.State.SENDING
        n.attempts += 1
        n.claimed_at = n.last_attempt_at = clock.now()
        n.save(update_fields=["state", "attempts", "claimed_at", "last_attempt_at"])
    try:
        provider_id = _deliver(n, subject, body)
    except Exception:
        Notification.objects.filter(pk=n.pk, state=Notification.State.SENDING).update(
            state=Notification.State.PENDING, claimed_at=None
        )
        raise
    try:
        _mark_sent(n.pk, provider_id)
    except Exception as exc:
        raise DeliveredButUnmarked(f"notification {n.pk} sent; its mark is not yet written") from exc
    log.info("notification %s sent (%s, %s)", n.pk, n.kind, n.channel)
    return True


def _mark_sent(notification_id: int, provider_id: str = "") -> None:
    fields = {"state": Notification.State.SENT, "sent_at": clock.now()}
    if provider_id:
        fields["provider_id"] = str(provider_id)[:100]
    Notification.objects.filter(pk=notification_id).exclude(state=Notification.State.SENT).update(**fields)
