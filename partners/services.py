"""Writes for partners: keys, referrals, webhook deliveries. Views, the admin
and tasks call these; nothing else writes the partners' rows."""

import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinic.models import AuditEntry, audit_record
from intake import choices
from intake.models import CaseEvent
from intake.ratelimit import client_address
from intake.services.alerts import system_alert_raise
from intake.services.dispatch import enqueue_now
from intake.services.submission import review_request_submit

from . import keys, safehttp
from .addresses import address_bucket
from .models import ApiKey, Partner, Referral, WebhookDelivery, WebhookEndpoint
from .problems import IdempotencyConflict, UrgentReferralLimit
from .selectors import stage_of

log = logging.getLogger(__name__)


# --- keys -------------------------------------------------------------------


def api_key_create(*, partner: Partner, name: str, scopes: list[str], days: int | None = None) -> tuple[ApiKey, str]:
    """A new key; returns the row and the full key, which is never stored or shown again."""
    full, prefix, hashed = keys.key_new()
    key = ApiKey(
        partner=partner,
        name=name,
        prefix=prefix,
        secret_hash=hashed,
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=days or settings.INTAKE_API_KEY_DAYS),
    )
    key.full_clean()
    key.save()
    return key, full


def api_key_revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def webhook_endpoint_create(
    *, partner: Partner, url: str, signing: str = WebhookEndpoint.Signing.STANDARD
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; returns it and its signing secret (shown once)."""
    endpoint = WebhookEndpoint(partner=partner, url=url, signing=signing, secret=keys.webhook_secret_new())
    endpoint.full_clean()
    endpoint.save()
    return endpoint, endpoint.secret


# How long the old secret still signs after a rotation or a switch to Standard Webhooks.
ROTATION_OVERLAP = timedelta(days=7)


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, overlap: timedelta = ROTATION_OVERLAP) -> str:
    """A new secret for the endpoint; returns it (shown once). The old one
    keeps signing beside it for ``overlap`` (both signatures sent), so the
    partner installs the new one without missing or refusing a delivery.

    An endpoint still on the old scheme moves to Standard Webhooks here: a
    standard secret cannot be one of the old scheme's, so the switch is a
    rotation. During its overlap both the standard headers (new secret) and
    X-Clinic-Signature (old secret) are sent, and the partner changes its
    receiver at leisure."""
    with transaction.atomic():
        e = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        e.previous_secret, e.previous_secret_until = e.secret, timezone.now() + overlap
        e.secret = keys.webhook_secret_new()
        e.signing = WebhookEndpoint.Signing.STANDARD
        e.save(update_fields=["secret", "previous_secret", "previous_secret_until", "signing"])
    return e.secret


def webhook_rotation_end(*, endpoint: WebhookEndpoint) -> None:
    """The partner has the new secret: the old one stops signing now."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret="", previous_secret_until=None)


def webhook_headers(endpoint: WebhookEndpoint, *, event_id: str, body: bytes, now) -> dict:
    """The signature headers of one attempt, by the endpoint's scheme (see
    docs/partners.md, "Webhooks"). Standard Webhooks: webhook-id,
    webhook-timestamp and webhook-signature, one signature per valid
    secret. The old scheme: X-Clinic-Event-Id and X-Clinic-Signature."""
    timestamp = int(now.timestamp())
    valid = endpoint.signing_secrets(now)
    if endpoint.signing == WebhookEndpoint.Signing.CLINIC_V1:
        return {
            "X-Clinic-Event-Id": event_id,
            "X-Clinic-Signature": keys.webhook_signature(valid[0], timestamp, body),
        }
    standard = [s for s in valid if keys.is_standard_secret(s)]
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": keys.standard_webhook_signature(standard, event_id, timestamp, body),
    }
    old = [s for s in valid if not keys.is_standard_secret(s)]
    if old:  # moving from the old scheme: its receiver keeps working until the overlap ends
        headers["X-Clinic-Event-Id"] = event_id
        headers["X-Clinic-Signature"] = keys.webhook_signature(old[0], timestamp, body)
    return headers


# --- audit ------------------------------------------------------------------


class _NoUser:
    """The request as the audit trail should see it: its address, but no
    Django user (a partner is not one; ``summary`` names partner and key)."""

    user = None

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)


def api_call_audit(*, request, method: str, path_name: str, status_code: int, client=None, reference: str = ""):
    """One audit entry per API call with a valid key. PHI-free: partner id, key
    prefix, the route's name (never the URL with its query), status and case
    reference. Calls without a valid key, and calls refused with 429, are
    audited in aggregate (``_refused_calls_audit``)."""
    if request is not None and (client is None or status_code == 429):
        if _refused_calls_audit(
            request=request, method=method, path_name=path_name, status_code=status_code, client=client
        ):
            return
    who = f"partner #{client.partner.pk} key {client.key.prefix}" if client is not None else "no valid key"
    if status_code in (401, 403):
        action = AuditEntry.Action.REFUSED
    elif path_name == "case-fhir":
        action = AuditEntry.Action.EXPORT
    elif method == "POST":
        action = AuditEntry.Action.CHANGE
    else:
        action = AuditEntry.Action.VIEW_CASE if reference else AuditEntry.Action.VIEW_LIST
    audit_record(
        action=action,
        summary=f"API {method} {path_name} {status_code} by {who}",
        request=_NoUser(request) if request is not None else None,
        object_type="partner_api",
        object_ref=reference,
    )


# Per-minute counters of refused calls are kept this long, so an address's next
# audit entry can still carry the count of its previous minute.
REFUSED_COUNT_TTL = 2 * 3600


def _count_key(address: str, minute: str) -> str:
    return f"api-refused-n:{address}:{minute}"


def _refused_calls_count(address: str, minute: str) -> tuple[int, tuple[str, int] | None] | None:
    """Count one refused call of ``address`` (a client address's bucket, or
    ``key:<id>``) in ``minute`` (e.g. ``2026-12-07T23:01Z``).

    Returns (calls so far in this minute, (the address's previous minute with
    refused calls, its final count) or None). The second part is only given
    with the first call of a minute: it is what that minute's audit entry
    carries. None if the cache is unavailable (the caller audits the call on
    its own then: a missing entry would be worse than one per call).
    """
    try:
        key = _count_key(address, minute)
        if cache.add(key, 1, REFUSED_COUNT_TTL):
            n = 1
        else:
            try:
                n = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, REFUSED_COUNT_TTL)
                n = 1
        if n != 1:
            return n, None
        last_key = f"api-refused-last:{address}"
        previous_minute = cache.get(last_key)
        cache.set(last_key, minute, REFUSED_COUNT_TTL)
        if not previous_minute or previous_minute == minute:
            return 1, None
        previous_count = cache.get(_count_key(address, previous_minute))
        return 1, ((previous_minute, int(previous_count)) if previous_count else None)
    except Exception as exc:  # noqa: BLE001  (whatever the cache raises)
        log.warning("refused-call count unavailable, auditing the call on its own: %s", type(exc).__name__)
        return None


def _refused_calls_audit(*, request, method: str, path_name: str, status_code: int, client=None) -> bool:
    """Calls without a valid key: one audit entry per client address (per /64
    for IPv6, partners.addresses) per minute, written by the minute's first
    call and carrying the final count of the address's previous minute with
    such calls (counted in the shared cache, as partners.throttling's limits
    are). Anyone can send these calls, and every audit append takes the
    chain's lock: one entry per call would let anyone flood the chain and slow
    every staff action down. Calls with a key refused with 429 (its rate, its
    urgent referrals) are counted the same way per key, so a key holder cannot
    flood it either. False when the cache cannot count (the caller then audits
    this call on its own)."""
    minute = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    if client is not None:
        bucket, what = f"key:{client.key.pk}", f"API calls refused with 429 for partner #{client.partner.pk} key "
        what += client.key.prefix
    else:
        bucket, what = address_bucket(client_address(request)), "API calls without a valid key from this address"
    counted = _refused_calls_count(bucket, minute)
    if counted is None:
        return False
    n, previous = counted
    if n == 1:
        summary = f"{what} in minute {minute}: first {method} {path_name} {status_code}"
        if previous is not None:
            summary += f"; its previous minute with such calls, {previous[0]}, had {previous[1]}"
        audit_record(
            action=AuditEntry.Action.REFUSED,
            summary=summary,
            request=_NoUser(request),
            object_type="partner_api",
            object_ref="",
        )
    return True


# --- referrals ----------------------------------------------------------------


@dataclass
class ReferralResult:
    referral: Referral
    replayed: bool


def request_hash(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def referral_create(
    *,
    key: ApiKey,
    answers: dict,
    attested_by: str,
    body_hash: str,
    idempotency_key: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> ReferralResult:
    """Make a case through the patient form's own service, and its Referral.

    With an ``idempotency_key`` a retry returns the first referral (``replayed``);
    the same key with another body raises ``IdempotencyConflict``. Two
    requests with one key at once: the case's unique submission key lets one
    case be made, the Referral's unique (partner, key) one referral.
    """
    partner = key.partner
    if idempotency_key and (first := _replay(partner, idempotency_key, body_hash)) is not None:
        return first
    submission_key = f"partner:{partner.pk}:{idempotency_key}" if idempotency_key else ""
    kind_source = choices.Source.DOCTOR if partner.kind == Partner.Kind.PRACTICE else choices.Source.OTHER
    try:
        with transaction.atomic():
            if answers.get("red_flags"):  # urgent, as the submission service decides
                _urgent_referral_slot(key)
            case = review_request_submit(
                answers={**answers, "source": kind_source},
                kind=choices.Kind.REVIEW,
                submission_key=submission_key,
                ip=ip,
                user_agent=user_agent,
            )
            referral = Referral(
                partner=partner,
                case=case,
                api_key=key,
                idempotency_key=idempotency_key or None,
                request_hash=body_hash,
                attested_by=attested_by.strip(),
                attested_at=case.consented_at or timezone.now(),
            )
            referral.full_clean(exclude=["case", "partner", "idempotency_key"])  # the constraints decide those
            referral.save()
            CaseEvent.objects.create(
                case=case, kind=CaseEvent.Kind.NOTE, summary=f"Referred by partner #{partner.pk}; consent attested"
            )
    except UrgentReferralLimit:
        _urgent_referral_limit_alert(key)
        raise
    except IntegrityError:
        if idempotency_key and (first := _replay(partner, idempotency_key, body_hash)) is not None:
            return first  # the same request twice at once: the other one won
        raise
    return ReferralResult(referral, replayed=False)


URGENT_WINDOW = timedelta(hours=1)


def _urgent_referral_slot(key: ApiKey) -> None:
    """Raise ``UrgentReferralLimit`` if ``key`` already sent
    INTAKE_API_URGENT_PER_HOUR urgent referrals in the last hour. Each urgent
    referral pages the on-call clinician; the web form allows a patient 10
    requests an hour, and a leaked or buggy key must not page them at the
    API's full rate. The key's row is locked (in the caller's transaction), so
    urgent referrals of one key are counted one at a time and parallel
    requests cannot all slip under the limit."""
    ApiKey.objects.select_for_update().filter(pk=key.pk).values_list("pk", flat=True).first()
    now = timezone.now()
    recent = Referral.objects.filter(api_key=key, case__is_urgent=True, created_at__gt=now - URGENT_WINDOW)
    limit = settings.INTAKE_API_URGENT_PER_HOUR
    if recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        wait = max(1, int((oldest + URGENT_WINDOW - now).total_seconds()) + 1)
        raise UrgentReferralLimit(limit=limit, wait=wait)


def _urgent_referral_limit_alert(key: ApiKey) -> None:
    """Supervisors hear once an hour per key (a system alert, intake.services.alerts)."""
    hour = timezone.now().astimezone(UTC).strftime("%Y%m%d%H")
    system_alert_raise(
        key=f"partner-urgent-limit:{key.pk}:{hour}",
        subject=f"Partner #{key.partner_id} passed its limit of urgent referrals",
        body=(
            f"API key {key.prefix} of partner #{key.partner_id} ({key.partner.name}) sent more than "
            f"{settings.INTAKE_API_URGENT_PER_HOUR} urgent referrals within an hour. The referrals past the "
            "limit were refused (HTTP 429) and the partner was told to send the patient to urgent care or call "
            "for an emergency. Call the partner: a leaked key should be revoked in the admin (API keys). "
            "Further refusals this hour are counted on this alert in the admin, not emailed again."
        ),
    )


def _replay(partner, idempotency_key, body_hash) -> ReferralResult | None:
    first = Referral.objects.select_related("case").filter(partner=partner, idempotency_key=idempotency_key).first()
    if first is None:
        return None
    if first.request_hash != body_hash:
        raise IdempotencyConflict()
    return ReferralResult(first, replayed=True)


# --- webhooks: an outbox row per case event per endpoint ------------------------

EVENT_KINDS = (CaseEvent.Kind.STATUS, CaseEvent.Kind.ROUTED)
# Rows committed out of id order (two transactions at once on PostgreSQL) are
# caught by looking this far back past the cursor; the unique (endpoint,
# event) constraint makes the second look a no-op.
LOOKBACK = timedelta(minutes=5)
STUCK_SENDING_AFTER = timedelta(minutes=10)
ENQUEUE_AGAIN_AFTER = timedelta(seconds=30)
# The Celery queue of webhook work (clinic/celery.py declares it; its own worker consumes it).
CELERY_WEBHOOKS = "webhooks"


def webhook_deliveries_collect(now=None) -> int:
    """Turn new status changes of referred cases into pending deliveries."""
    now = now or timezone.now()
    made = 0
    for endpoint in WebhookEndpoint.objects.filter(is_active=True, partner__is_active=True):
        events = list(
            CaseEvent.objects.filter(
                kind__in=EVENT_KINDS,
                case__referral__partner_id=endpoint.partner_id,
                created_at__gte=endpoint.created_at,
            )
            .filter(Q(pk__gt=endpoint.cursor) | Q(created_at__gte=now - LOOKBACK))
            # Never the same event twice, so a busy lookback window cannot hold the scan back.
            .exclude(pk__in=WebhookDelivery.objects.filter(endpoint=endpoint).values("case_event_id"))
            .exclude(to_status="")
            .exclude(to_status=F("from_status"))
            # A revoked key's referrals get nothing more (webhook_delivery_send checks again).
            .exclude(case__referral__api_key__revoked_at__isnull=False)
            .select_related("case")
            .only("pk", "to_status", "case__reference")
            .order_by("pk")[:500]
        )
        if not events:
            continue
        rows = [
            WebhookDelivery(
                endpoint=endpoint, case_event=e, reference=e.case.reference, stage=e.to_status, next_attempt_at=now
            )
            for e in events
        ]
        # ignore_conflicts: a sweep running at the same time may have made some already.
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
        WebhookEndpoint.objects.filter(pk=endpoint.pk, cursor__lt=events[-1].pk).update(cursor=events[-1].pk)
    return made


def webhook_deliveries_for_case(*, case_id: int, now=None) -> int:
    """Right after a referred case's change commits (partners.receivers): its
    new status events become deliveries, and each is enqueued at once,
    without waiting for the sweep. Returns how many were enqueued.

    Exactly once as the sweep: a delivery is unique per (endpoint, event),
    so this and a sweep running together make it once; each is enqueued by
    whichever of them first marks its ``enqueued_at`` (a conditional UPDATE),
    and should both send it, the claim in ``webhook_delivery_send`` lets one
    through. If the broker refuses, the mark is taken back and the sweep
    (every 10 s) enqueues it."""
    from .tasks import deliver_webhook

    now = now or timezone.now()
    referral = Referral.objects.filter(case_id=case_id).values("partner_id", "api_key__revoked_at").first()
    if referral is None or referral["api_key__revoked_at"] is not None:
        return 0
    endpoints = list(
        WebhookEndpoint.objects.filter(partner_id=referral["partner_id"], is_active=True, partner__is_active=True)
    )
    if not endpoints:
        return 0
    events = list(
        CaseEvent.objects.filter(case_id=case_id, kind__in=EVENT_KINDS)
        .exclude(to_status="")
        .exclude(to_status=F("from_status"))
        .select_related("case")
        .only("pk", "to_status", "created_at", "case__reference")
        .order_by("pk")
    )
    rows = [
        WebhookDelivery(
            endpoint=endpoint, case_event=e, reference=e.case.reference, stage=e.to_status, next_attempt_at=now
        )
        for endpoint in endpoints
        for e in events
        # As the sweep: an endpoint gets the events from its own creation on.
        if e.created_at >= endpoint.created_at
    ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    due = WebhookDelivery.objects.filter(
        endpoint__in=endpoints,
        case_event__case_id=case_id,
        state=WebhookDelivery.State.PENDING,
        enqueued_at__isnull=True,
        next_attempt_at__lte=now,
    )
    enqueued = 0
    for pk in list(due.order_by("pk").values_list("pk", flat=True)):
        if not WebhookDelivery.objects.filter(pk=pk, enqueued_at__isnull=True).update(enqueued_at=now):
            continue  # a sweep took it first
        if enqueue_now(deliver_webhook, pk, celery_queue=CELERY_WEBHOOKS):
            enqueued += 1
        else:
            WebhookDelivery.objects.filter(pk=pk, state=WebhookDelivery.State.PENDING).update(enqueued_at=None)
    return enqueued


def webhooks_sweep(now=None) -> int:
    """The beat's job: collect new events, free stuck claims, enqueue what is due.
    Returns how many deliveries were enqueued."""
    from .tasks import deliver_webhook

    now = now or timezone.now()
    webhook_deliveries_collect(now)
    # A sender that died after its claim: the receiver dedupes by event id, so
    # sending again is safe (unlike an email, which is reported, not resent).
    WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.SENDING, claimed_at__lt=now - STUCK_SENDING_AFTER
    ).update(state=WebhookDelivery.State.PENDING, claimed_at=None, last_error="sender stopped before confirming")
    due = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - ENQUEUE_AGAIN_AFTER)
    )
    enqueued = 0
    for pk in list(due.values_list("pk", flat=True)[:500]):
        # Marked only once the broker took it: during an outage every sweep tries again.
        # Two sweeps at once may enqueue a row twice; the claim lets one send it.
        if enqueue_now(deliver_webhook, pk, celery_queue=CELERY_WEBHOOKS):
            WebhookDelivery.objects.filter(pk=pk).update(enqueued_at=now)
            enqueued += 1
    return enqueued


def webhook_payload(delivery: WebhookDelivery) -> bytes:
    """The reference and the plain stage, nothing else about the case."""
    stage = stage_of(delivery.stage)
    return json.dumps(
        {
            "id": str(delivery.event_id),
            "type": "referral.stage_changed",
            "reference": delivery.reference,
            "stage": stage,
            "occurred_at": delivery.case_event.created_at.isoformat(),
        },
        separators=(",", ":"),
    ).encode()


class DeliveredButUnmarked(Exception):
    """The partner's server took the webhook but the "sent" mark could not be
    written. The caller retries with ``delivered=True``, which only marks."""


class EndpointBusy(Exception):
    """The endpoint has INTAKE_WEBHOOK_MAX_IN_FLIGHT deliveries being sent: this
    one stays pending, its attempt not counted; the caller tries again in
    ``retry_after`` seconds (and the sweep does, should that fail)."""

    def __init__(self, delivery_id: int, retry_after: float):
        super().__init__(f"webhook delivery {delivery_id}: its endpoint is busy")
        self.retry_after = retry_after


# What a supervisor reads for any failed attempt, whatever the far end did: a
# refused port, a timeout, a 500 and a refused address look the same.
COULD_NOT_DELIVER = "could not deliver"


def _switched_off(d: WebhookDelivery, *, endpoint_active: bool, partner_active: bool) -> str:
    """Why this delivery must not be sent any more, or ''."""
    if not partner_active:
        return "cancelled: the partner is switched off"
    if not endpoint_active:
        return "cancelled: the endpoint is switched off"
    revoked = (
        Referral.objects.filter(case_id=d.case_event.case_id).values_list("api_key__revoked_at", flat=True).first()
    )
    if revoked is not None:
        return "cancelled: the referral's API key is revoked"
    return ""


def _post(url: str, body: bytes, headers: dict) -> int:
    return safehttp.post(
        url,
        body,
        headers,
        timeout=settings.INTAKE_WEBHOOK_TIMEOUT,
        allow_loopback=settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK,
    )


def webhook_delivery_send(*, delivery_id: int, delivered: bool = False) -> bool:
    """Send one delivery. Returns True if this call delivered it.

    The order is notification_send's: claim (``sending``, committed), send,
    mark. At the claim, under the endpoint's row lock: a delivery whose
    partner, endpoint or referral's key is switched off is ``cancelled`` (not
    sent, never retried); one over the endpoint's in-flight limit raises
    EndpointBusy (still pending, not an attempt). A failed send (refused
    address, refused, timed out, not 2xx) gives the claim back with the next
    attempt after a backoff (``webhook_backoff``); the beat's sweep sends it
    then. After INTAKE_WEBHOOK_MAX_ATTEMPTS it is ``failed``, shown in the
    admin, and can be sent again from there. A receiver may see an event
    twice only if a send timed out after it was received, or the mark could
    not be written: it drops the repeat by its id (webhook-id), so each event
    is handled exactly once.
    """
    if delivered:
        _mark_sent(delivery_id)
        return False
    now = timezone.now()
    busy = cancelled = ""
    with transaction.atomic():
        d = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint__partner", "case_event")
            .filter(pk=delivery_id)
            .first()
        )
        if d is None or d.state != WebhookDelivery.State.PENDING or d.next_attempt_at > now:
            return False
        # The endpoint's row lock makes count-then-claim one step among all
        # workers (on SQLite every transaction is IMMEDIATE: one writer at a time).
        # Read under that lock, so a switch-off committed before this claim is seen.
        endpoint_active, partner_active = (
            WebhookEndpoint.objects.select_for_update(of=("self",))
            .filter(pk=d.endpoint_id)
            .values_list("is_active", "partner__is_active")
            .get()
        )
        cancelled = _switched_off(d, endpoint_active=endpoint_active, partner_active=partner_active)
        if cancelled:
            d.state, d.last_error, d.claimed_at = WebhookDelivery.State.CANCELLED, cancelled, None
            d.save(update_fields=["state", "last_error", "claimed_at"])
        elif (
            WebhookDelivery.objects.filter(
                endpoint_id=d.endpoint_id,
                state=WebhookDelivery.State.SENDING,
                # A claim older than a task may run is a dead sender's, not one
                # in flight: it must not block the endpoint until the sweep frees it.
                claimed_at__gt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT),
            ).count()
            >= settings.INTAKE_WEBHOOK_MAX_IN_FLIGHT
        ):
            busy = "busy"
            d.enqueued_at = now  # its next try is on its way: the sweep leaves it for ENQUEUE_AGAIN_AFTER
            d.save(update_fields=["enqueued_at"])
        else:
            d.state = WebhookDelivery.State.SENDING
            d.attempts += 1
            d.claimed_at = now
            d.save(update_fields=["state", "attempts", "claimed_at"])
    if cancelled:
        log.info("webhook delivery %s %s", d.pk, cancelled)
        return False
    if busy:
        # About one attempt's time from now, spread so waiting deliveries do not all come back at once.
        wait = min(settings.INTAKE_WEBHOOK_TIMEOUT, 5.0) * random.uniform(0.5, 1.5)  # noqa: S311  (jitter)
        raise EndpointBusy(d.pk, wait)
    body = webhook_payload(d)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "spine-clinic-webhooks/1",
        **webhook_headers(d.endpoint, event_id=str(d.event_id), body=body, now=timezone.now()),
    }
    try:
        code = _post(d.endpoint.url, body, headers)
        detail = "" if 200 <= code < 300 else f"answered HTTP {code}"
    except Exception as exc:  # a refused address, refused, timed out, DNS, TLS: not delivered
        code, detail = None, f"{type(exc).__name__}: {exc}"
    if detail:
        _give_back(d)
        # The cause for the operators only (no health data: ids, the partner's URL and the error).
        log.warning(
            "webhook delivery %s to endpoint %s not delivered (attempt %s): %s", d.pk, d.endpoint_id, d.attempts, detail
        )
        return False
    try:
        _mark_sent(d.pk, code)
    except Exception as exc:
        raise DeliveredButUnmarked(f"webhook delivery {d.pk} sent; its mark is not yet written") from exc
    log.info("webhook delivery %s sent", d.pk)
    _next_turn(d.endpoint_id)
    return True


def _next_turn(endpoint_id: int) -> None:
    """The endpoint answered: its oldest delivery waiting its turn (EndpointBusy)
    is enqueued now instead of when its wait of a few seconds runs out, so a
    burst of events reaches a fast endpoint one after another, in order. The
    wait's own message still comes later and finds it sent (the claim); should
    this enqueue fail, that message or the sweep sends it."""
    from .tasks import deliver_webhook

    waiting = (
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        enqueue_now(deliver_webhook, waiting, celery_queue=CELERY_WEBHOOKS)


def webhook_backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _give_back(d: WebhookDelivery) -> None:
    gave_up = d.attempts >= settings.INTAKE_WEBHOOK_MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=d.pk, state=WebhookDelivery.State.SENDING).update(
        state=WebhookDelivery.State.FAILED if gave_up else WebhookDelivery.State.PENDING,
        claimed_at=None,
        next_attempt_at=timezone.now() + webhook_backoff(d.attempts),
        last_status_code=None,
        last_error=COULD_NOT_DELIVER,
    )


def _mark_sent(delivery_id: int, code: int | None = None) -> None:
    fields = {"state": WebhookDelivery.State.SENT, "sent_at": timezone.now(), "last_error": ""}
    if code is not None:
        fields["last_status_code"] = code
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(state=WebhookDelivery.State.SENT).update(**fields)


def webhook_delivery_resend(*, delivery: WebhookDelivery) -> bool:
    """Staff's "send again" (admin): a new attempt now, under the same event id.
    A delivery being sent right now is left alone."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(state=WebhookDelivery.State.SENDING)
        .update(state=WebhookDelivery.State.PENDING, next_attempt_at=timezone.now(), enqueued_at=None, sent_at=None)
    )
