"""Partners, their API keys, the referrals they sent and the webhooks they get.

A case itself stays intake's ``ReviewRequest``: a ``Referral`` points at it
(one to one), so intake needs no field and no migration for partners.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from intake.models import CaseEvent, ReviewRequest

from .safehttp import url_problem


class Scope(models.TextChoices):
    REFERRALS_WRITE = "referrals:write", "Send referrals"
    REFERRALS_READ = "referrals:read", "Read the status of its referrals"
    CASES_EXPORT = "cases:export", "Export cases as FHIR"


class Partner(models.Model):
    class Kind(models.TextChoices):
        PRACTICE = "practice", "Referring practice"
        LEAD_PARTNER = "lead_partner", "Lead partner"
        EHR = "ehr", "The clinic's EHR"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PRACTICE)
    is_active = models.BooleanField(default=True, help_text="An inactive partner's keys are all refused.")
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    """``ck_<prefix>_<secret>``: the prefix finds the row, the secret is kept
    only as its SHA-256 (a 256-bit random secret needs no slow hash) and
    compared in constant time. The full key is shown once, when it is made."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=80, help_text="What the key is for, e.g. 'referral system, production'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list, help_text="Any of: " + ", ".join(Scope.values))
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The key is refused from this time on.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.partner} · {self.name} (ck_{self.prefix}_…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.partner.is_active


class Referral(models.Model):
    """A case a partner sent. The consent is the partner's attestation."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    case = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="referral")
    api_key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL, related_name="+")
    idempotency_key = models.CharField(max_length=40, null=True, blank=True)
    # SHA-256 of the request body as sent (canonical JSON): the same key with
    # another body is refused, not answered with the first case.
    request_hash = models.CharField(max_length=64)
    attested_by = models.CharField(max_length=120, help_text="Who at the partner attested the patient's consent.")
    attested_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "idempotency_key"], name="referral_partner_idem_uniq"),
        ]

    def __str__(self):
        return f"{self.case.reference} from {self.partner}"


class WebhookEndpoint(models.Model):
    class Signing(models.TextChoices):
        # https://www.standardwebhooks.com/: webhook-id, webhook-timestamp and
        # webhook-signature ("v1,<base64 HMAC-SHA256>"), a ``whsec_<base64>`` secret.
        STANDARD = "standard", "Standard Webhooks"
        # The clinic's first scheme (X-Clinic-Signature: t=...,v1=<hex>), kept
        # for the endpoints made before Standard Webhooks until their partner
        # switches (docs/partners.md says why).
        CLINIC_V1 = "clinic_v1", "Old clinic scheme (X-Clinic-Signature)"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=300)
    signing = models.CharField(
        max_length=12,
        choices=Signing.choices,
        default=Signing.STANDARD,
        help_text="How deliveries are signed. Switching to Standard Webhooks gives the endpoint a new secret.",
    )
    # The signing secret: needed in clear to sign, so kept like the other
    # server-side secrets (database access means access to it); shown to the
    # partner once, when the endpoint is made or its secret rotated.
    secret = models.CharField(max_length=64, editable=False)
    # During a rotation the old secret also signs (both signatures are sent)
    # until ``previous_secret_until``, so the partner can swap secrets at leisure.
    previous_secret = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_until = models.DateTimeField("old secret signs until", null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    # The last case event already turned into deliveries (see services.webhook_events_collect).
    cursor = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner__name", "pk"]

    def __str__(self):
        return f"{self.partner}: {self.url}"

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the
        previous one while a rotation lasts."""
        now = now or timezone.now()
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def clean(self):
        # Webhooks leave the clinic, encrypted, and never for an address inside
        # its network (safehttp owns the rule; it is checked again at send time,
        # after DNS). Loopback and plain http only under development settings.
        problem = url_problem(self.url, allow_loopback=settings.INTAKE_WEBHOOK_ALLOW_LOOPBACK)
        if problem:
            raise ValidationError({"url": problem})


class WebhookDelivery(models.Model):
    """The outbox row of one case event for one endpoint (unique together)."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Given up"
        # The partner, the endpoint or the referral's key was switched off
        # before it was sent; ``last_error`` says which. Never retried.
        CANCELLED = "cancelled", "Cancelled (switched off)"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    case_event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="+")
    # Sent as webhook-id (X-Clinic-Event-Id under the old scheme): receivers
    # drop a repeat of an id they have seen.
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=12)
    stage = models.CharField(max_length=24, help_text="The case's status the event moved it to.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The status code of a delivery the endpoint took (2xx). A failed attempt
    # keeps neither code nor cause here, only "could not deliver": what a port
    # answered would map the network (the cause is in the server log).
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["endpoint", "case_event"], name="webhook_delivery_uniq")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due")]

    def __str__(self):
        return f"{self.reference} {self.stage} → {self.endpoint.url}"


class FhirLetter(models.Model):
    """The result letter's PDF as the FHIR export last rendered it, encrypted in
    the private file storage (intake.storage), kept until the review changes:
    rendering takes WeasyPrint a fifth of a second, and the EHR polls. Written
    and purged by partners.letters only."""

    class Kind(models.TextChoices):
        LETTER = "letter", "result letter"
        SUMMARY = "summary", "clinical summary"

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="+")
    # The patient's result letter, or the clinical summary (the DiagnosticReport's presentedForm).
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LETTER)
    # The review version (its pk) the PDF was made from: another version renders again.
    review_version = models.PositiveBigIntegerField()
    stored_name = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_fhir_document_per_kind")]

    def __str__(self):
        return f"FHIR {self.kind} of case {self.case_id} (review version {self.review_version})"
