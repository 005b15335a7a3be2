"""What spans apps: the append-only, keyed hash chain of the audit trail, and
failed attempts counted where the cache cannot lose them, the clinic's
closure days, heartbeats, and how staff are named to patients (StaffProfile)."""

import hashlib
import hmac
import json
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .client_ip import client_ip as request_client_ip


class AuditChainError(Exception):
    pass


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditChainError("The audit trail is append-only.")

    def delete(self):
        raise AuditChainError("The audit trail is append-only.")


class AuditEntry(models.Model):
    """Who did what, when, from where. Each entry hashes the one before it,
    so altering or removing any row breaks the chain (``verify_audit_chain``)."""

    class Action(models.TextChoices):
        VIEW_CASE = "view_case", "Viewed a case"
        DOWNLOAD_FILE = "download_file", "Opened an MRI file"
        EXPORT = "export", "Exported cases"
        CHANGE = "change", "Changed a case"
        ADMIN_CHANGE = "admin_change", "Changed settings data"
        PURGE = "purge", "Purged personal data"
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        VIEW_LIST = "view_list", "Listed or searched cases"
        REFUSED = "refused", "Refused access"

    class Version(models.IntegerChoices):
        # Rows written before the chain was keyed: anyone with database access
        # could recompute them, so they are accepted only before the first
        # keyed row, and the exported head hashes pin them (clinic.audit_anchors).
        SHA256 = 1, "SHA-256 (unkeyed, before 2026-11)"
        HMAC_SHA256 = 2, "HMAC-SHA256 with INTAKE_AUDIT_KEY"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_ref = models.CharField(max_length=40, blank=True, db_index=True)
    # PHI-free: references and field names, never answers.
    summary = models.CharField(max_length=300)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    version = models.PositiveSmallIntegerField(choices=Version.choices, default=Version.HMAC_SHA256)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_ref}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditChainError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditChainError("The audit trail is append-only.")

    def payload(self) -> str:
        fields = [
            self.created_at.isoformat(),
            self.actor_id,
            self.actor_label,
            self.action,
            self.object_type,
            self.object_ref,
            self.summary,
            self.ip,
            self.prev_hash,
        ]
        if self.version != self.Version.SHA256:
            fields.append(self.version)  # so a keyed row cannot pass for a legacy one
        return json.dumps(fields, separators=(",", ":"))

    def compute_hash(self) -> str:
        if self.version == self.Version.SHA256:
            return hashlib.sha256(self.payload().encode()).hexdigest()
        return audit_hmac(self.payload())


GENESIS = "0" * 64


def audit_hmac(message: str) -> str:
    """HMAC-SHA256 under INTAKE_AUDIT_KEY, which lives in the environment, not
    the database: someone who can rewrite the table cannot recompute the chain."""
    key = settings.INTAKE_AUDIT_KEY
    if not key:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("INTAKE_AUDIT_KEY is not set: the audit trail cannot be written or checked.")
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def audit_fingerprint(kind: str, text: str) -> str:
    """A short keyed hash of something a person typed (a search, a sign-in
    name) for the audit trail: the same text gives the same fingerprint, so an
    investigator can check a suspicion ("was Maria Lopez searched?") with the
    key, but nobody can read the text back from the trail."""
    return audit_hmac(f"{kind}:{' '.join(text.lower().split())}")[:16]


def client_ip(request):
    """The real client address behind trusted proxies, for the audit trail."""
    return request_client_ip(request)


def audit_record(*, action, summary, actor=None, request=None, object_type="", object_ref="") -> AuditEntry:
    """Append one entry to the chain.

    The chain needs a total order, so appends are serialised: on PostgreSQL by
    a transaction-level advisory lock, on SQLite by its single writer.
    """
    if request is None:
        from .middleware import current_request

        request = current_request.get()
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    with transaction.atomic():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(842001)")
        last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        entry = AuditEntry(
            actor=actor,
            actor_label=(actor.get_username() if actor else "system"),
            action=action,
            object_type=object_type,
            object_ref=str(object_ref)[:40],
            summary=summary[:300],
            ip=client_ip(request),
            prev_hash=last or GENESIS,
        )
        entry.created_at = timezone.now()
        entry.entry_hash = entry.compute_hash()
        entry.save()
        return entry


def verify_chain() -> tuple[bool, int, str]:
    """Walk the chain oldest first. Returns (ok, entries checked, problem).

    Removing entries at the end leaves a valid chain: the exported head
    hashes catch that (clinic.audit_anchors.verify_anchors)."""
    prev = GENESIS
    n = 0
    keyed_seen = False
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        n += 1
        if entry.prev_hash != prev:
            return False, n, f"entry {entry.id}: does not follow the entry before it (one was removed or altered)"
        if entry.version == AuditEntry.Version.SHA256 and keyed_seen:
            # An unkeyed row after a keyed one was written by hand, to dodge the key.
            return False, n, f"entry {entry.id}: unkeyed after keyed entries, so its contents were altered"
        keyed_seen = keyed_seen or entry.version != AuditEntry.Version.SHA256
        if not hmac.compare_digest(entry.compute_hash(), entry.entry_hash):
            return False, n, f"entry {entry.id}: its contents were altered"
        prev = entry.entry_hash
    return True, n, ""


class FailedAttempt(models.Model):
    """One wrong answer (a status page's date of birth, say), counted in the
    database: a rate limit kept only in the cache switches off when the cache
    is down, and these limits guard personal data."""

    key = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["key", "created_at"])]

    def __str__(self):
        return f"{self.key} {self.created_at:%Y-%m-%d %H:%M}"


def failed_attempts(key: str, *, window: timedelta) -> int:
    return FailedAttempt.objects.filter(key=key, created_at__gte=timezone.now() - window).count()


def failed_attempt_record(*, key: str, window: timedelta) -> None:
    # Rows older than the window count for nothing: drop them as we go (this
    # key's, and anyone's older than a day, so the table stays small).
    now = timezone.now()
    FailedAttempt.objects.filter(
        models.Q(key=key, created_at__lt=now - window) | models.Q(created_at__lt=now - max(window, timedelta(days=1)))
    ).delete()
    FailedAttempt.objects.create(key=key)


def failed_attempts_clear(*, key: str) -> None:
    FailedAttempt.objects.filter(key=key).delete()


class ClosureDay(models.Model):
    """A day the clinic is closed beyond the public holidays (a staff training
    day, the Friday after Thanksgiving): the SLA clock does not run on it
    (intake.sla). Supervisors add them in the admin."""

    date = models.DateField(
        unique=True,
        help_text="The SLA clock stops on this day. Public holidays are skipped already: add other closures only.",
    )
    reason = models.CharField(max_length=120, help_text="Shown to staff only, e.g. “Staff training day”.")

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.reason}"


class Heartbeat(models.Model):
    """The last sign of life of a periodic process, in the database every
    machine shares (clinic.beat): ``beat`` is written by Celery beat's
    scheduler as it ticks, ``periodic`` by a scheduled task a worker ran. The
    time is the database's own (Now()), so machines' clocks do not matter."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class StaffProfile(models.Model):
    """How a staff member is named to patients and their doctors: the signer of
    a result letter and the clinician of a consult ("Dr Ana Ruiz", "MD, spine
    surgeon"). Per language (clinic/translation.py), English the fallback.
    Supervisors edit it in the admin. Without one, patients read the account's
    full name, or "a doctor on our spine team": never the sign-in name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    display_name = models.CharField(
        max_length=120, help_text="As patients read it, with any title, e.g. “Dr Ana Ruiz”."
    )
    credentials = models.CharField(
        max_length=200,
        blank=True,
        help_text="Degrees and role, e.g. “MD, spine surgeon”. Printed under the name on result letters.",
    )

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name


def staff_shown(user) -> dict:
    """``{"name": ..., "credentials": ...}`` for ``user`` as patients read it:
    the profile (in the active language), else the account's full name with no
    credentials; empty strings when neither exists (the caller says "a doctor
    on our spine team"). Never the username."""
    if user is None:
        return {"name": "", "credentials": ""}
    profile = StaffProfile.objects.filter(user_id=user.pk).first()
    if profile is not None and profile.display_name:
        return {"name": profile.display_name, "credentials": profile.credentials}
    return {"name": user.get_full_name().strip(), "credentials": ""}
