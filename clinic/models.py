"""What spans apps: the append-only, hash-chained audit trail."""

import hashlib
import json

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
        return json.dumps(
            [
                self.created_at.isoformat(),
                self.actor_id,
                self.actor_label,
                self.action,
                self.object_type,
                self.object_ref,
                self.summary,
                self.ip,
                self.prev_hash,
            ],
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.payload().encode()).hexdigest()


GENESIS = "0" * 64


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
    """Walk the chain oldest first. Returns (ok, entries checked, problem)."""
    prev = GENESIS
    n = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        n += 1
        if entry.prev_hash != prev:
            return False, n, f"entry {entry.id}: does not follow the entry before it (one was removed or altered)"
        if entry.compute_hash() != entry.entry_hash:
            return False, n, f"entry {entry.id}: its contents were altered"
        prev = entry.entry_hash
    return True, n, ""


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
