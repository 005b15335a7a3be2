"""Retention: cases closed or without response for longer than
INTAKE_RETENTION_DAYS lose their files and personal data; an anonymous stub
(status, queue, dates, source) stays so the funnel still counts.

Drafts do not outlive their purpose: MRI files uploaded to a draft that no
case claimed are deleted once no live session holds that draft.

Files are deleted through the shared MRI storage (``intake.storage``), so any
worker machine can purge any file.
"""

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from clinic.models import AuditEntry, audit_record

from ..models import CaseEvent, MriFile, ReviewRequest
from ..storage import StorageUnavailable, delete_stored
from ..transitions import RETENTION_ENDED

log = logging.getLogger(__name__)
# The session key under which intake.views keeps the patient's draft
# ({"key": draft_key, ...}); a test checks the two agree.
DRAFT_SESSION_KEY = "intake_draft"
# An upload in flight may have stored its row a moment before its request
# ends; files younger than this are never taken for abandoned.
DRAFT_FILE_GRACE = timedelta(hours=1)
BATCH = 5000

# Blanked on purge. Kept: reference, kind, status, queue, rule, dates, source,
# is_urgent, decision reason category (no free text).
PERSONAL_FIELDS: dict[str, object] = {
    "first_name": "", "last_name": "", "date_of_birth": None, "email": "", "phone": "", "postal_code": "",
    "contact_method": "", "contact_time": "", "regions": [], "side": "", "pain_duration": "", "severity": None,
    "radiating_pain": None, "numbness": None, "weakness": None, "diagnoses": [], "diagnosis_other": "",
    "treatments": {}, "prior_surgery": None, "prior_surgery_details": "", "mri_taken_on": None, "mri_region": "",
    "imaging_centre": "", "red_flags": [], "consent_ip": None, "consent_user_agent": "", "source_page": "",
    "routing_reason": "",
}  # fmt: skip


def expired_cases(now=None):
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INTAKE_RETENTION_DAYS)
    return ReviewRequest.objects.filter(status__in=RETENTION_ENDED, updated_at__lt=cutoff, purged_at__isnull=True)


def case_purge(*, case_id: int, now=None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        case = ReviewRequest.objects.select_for_update().get(pk=case_id)
        if case.purged_at is not None:
            return False
        for f in case.files.all():
            delete_stored(f.stored_name)
        case.files.all().delete()
        for field, blank in PERSONAL_FIELDS.items():
            setattr(case, field, blank)
        # Staff's free text goes too; the timeline keeps its PHI-free summaries.
        case.events.exclude(body="").update(body="")
        case.notifications.update(recipient="purged@invalid")
        # Other apps' data about this case goes in the same transaction (the
        # structured review and consult: reviews), each app naming its own purger.
        for purger in settings.INTAKE_PURGE_HOOKS:
            import_string(purger)(case=case)
        case.purged_at = now
        case.save()
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.PURGED, summary="Personal data and files removed")
        audit_record(
            action=AuditEntry.Action.PURGE, summary="Retention purge", object_type="case", object_ref=case.reference
        )
    return True


def cases_purge_expired(*, dry_run: bool, now=None) -> dict:
    qs = expired_cases(now)
    refs = list(qs.values_list("reference", flat=True)[:BATCH])
    purged = 0
    if not dry_run:
        for pk in qs.values_list("pk", flat=True)[:BATCH]:
            try:
                purged += case_purge(case_id=pk, now=now)
            except StorageUnavailable as exc:
                # The case's transaction rolled back: nothing of it changed.
                # The next run (hourly) tries again; no point hammering a
                # storage that is down with the rest of the batch.
                log.error("retention purge stopped after %s case(s): %s", purged, exc)
                break
    return {"candidates": refs, "purged": purged}


# --- Draft files ------------------------------------------------------------------
def _live_draft_keys(candidates: set[str], now) -> set[str] | None:
    """Which of ``candidates`` an unexpired session still holds as its draft.

    None when the session engine cannot list its sessions (only the db and
    cached_db engines can). Decodes each live session once: a few thousand a
    second, run hourly by beat.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return None
    store = store_class()
    live = store_class.get_model_class().objects.filter(expire_date__gt=now)
    alive = set()
    for data in live.values_list("session_data", flat=True).iterator(chunk_size=2000):
        draft = store.decode(data).get(DRAFT_SESSION_KEY)
        if isinstance(draft, dict) and draft.get("key") in candidates:
            alive.add(draft["key"])
    return alive


def expired_draft_files(now=None) -> list[MriFile]:
    """MRI files no case claimed whose draft has ended.

    A draft ends when no unexpired session holds it: its session expired
    (SESSION_COOKIE_AGE after its last change), or the draft was dropped
    (the urgent-care path, a bot). Asking the sessions, not the file's age,
    matters because each step renews the session's expiry: a patient who
    uploads on Monday and finishes on Wednesday still has a live draft. For
    a session engine that cannot be listed, files older than
    SESSION_COOKIE_AGE and a day are taken as ended.
    """
    now = now or timezone.now()
    old = MriFile.objects.filter(case__isnull=True, uploaded_at__lt=now - DRAFT_FILE_GRACE).order_by("pk")
    files = list(old.only("pk", "draft_key", "stored_name", "file_type", "size", "uploaded_at")[:BATCH])
    if not files:
        return []
    alive = _live_draft_keys({f.draft_key for f in files if f.draft_key}, now)
    if alive is None:
        cutoff = now - timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(days=1)
        return [f for f in files if f.uploaded_at < cutoff]
    return [f for f in files if f.draft_key not in alive]


def draft_file_delete(*, file_id: int) -> bool:
    """Delete one unclaimed draft file and its stored object.

    The row lock, taken with ``case IS NULL``, orders this against a submit
    claiming the file: whichever comes second sees the other's result. The
    stored object goes first, inside the transaction, so a storage failure
    keeps the row for the next run instead of losing track of an object.
    """
    with transaction.atomic():
        f = MriFile.objects.select_for_update().filter(pk=file_id, case__isnull=True).first()
        if f is None:
            return False
        delete_stored(f.stored_name)
        f.delete()
    return True


def draft_files_delete_expired(*, dry_run: bool, now=None) -> dict:
    """Delete (or with ``dry_run`` only list) the files of ended drafts."""
    files = expired_draft_files(now)
    deleted = 0
    if not dry_run:
        for f in files:
            try:
                deleted += draft_file_delete(file_id=f.pk)
            except StorageUnavailable as exc:
                log.error("draft file clean-up stopped after %s file(s): %s", deleted, exc)
                break
        if deleted:
            audit_record(
                action=AuditEntry.Action.PURGE,
                summary=f"Deleted {deleted} MRI file(s) of drafts that ended without a request",
                object_type="draft_files",
            )
    return {"candidates": files, "deleted": deleted}
