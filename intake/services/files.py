"""MRI files: accepted only after every check, stored encrypted; each access recorded;
a file that fails its integrity check is never served and raises an alert."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from clinic.models import AuditEntry, audit_record

from .. import storage
from ..models import CaseEvent, MriFile
from ..storage import FileIntegrityError
from ..uploads import validate_upload
from .dispatch import enqueue_on_commit

log = logging.getLogger(__name__)
# The audit entries that say "this file failed its check": one per file.
INTEGRITY_OBJECT_TYPE = "mri_file_integrity"


def _clean_name(name: str) -> str:
    # Keep the patient's own label for staff, without any path.
    return (name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]


def mri_file_add(*, uploaded, draft_key: str = "", case=None) -> MriFile:
    """Check and store one upload for a draft (before submit) or a case.

    Raises ``UploadRejected``, or ``storage.StorageUnavailable`` when the file
    storage fails; either way nothing is written anywhere.
    """
    owner = {"case": case} if case is not None else {"draft_key": draft_key, "case__isnull": True}
    existing = MriFile.objects.filter(**owner)
    already = existing.aggregate(n=Sum("size"))["n"] or 0
    kind = validate_upload(uploaded, already_bytes=already, already_files=existing.count())
    name, size, digest = storage.store_encrypted(uploaded.file)
    try:
        with transaction.atomic():
            f = MriFile.objects.create(
                case=case,
                draft_key="" if case is not None else draft_key,
                original_name=_clean_name(uploaded.name),
                stored_name=name,
                file_type=kind,
                size=size,
                sha256=digest,
            )
            if case is not None:
                CaseEvent.objects.create(
                    case=case, kind=CaseEvent.Kind.FILE, summary=f"MRI file added ({f.get_file_type_display()})"
                )
    except BaseException:
        try:
            storage.delete_stored(name)
        except storage.StorageUnavailable:
            # The database error matters more; the object is an orphan to sweep.
            log.error("MRI upload: stored object %s… could not be deleted after a failed insert", name[:6])
        raise
    return f


def mri_file_remove_from_draft(*, draft_key: str, file_id: int) -> bool:
    """Raises ``storage.StorageUnavailable`` if the storage cannot delete it (the row stays)."""
    f = MriFile.objects.filter(pk=file_id, draft_key=draft_key, case__isnull=True).first()
    if f is None:
        return False
    storage.delete_stored(f.stored_name)
    f.delete()
    return True


def mri_file_open(*, mri_file: MriFile, user, request=None):
    """Record the access, check the whole file, then return its decrypted chunks.

    Two passes, on purpose: a file is checked to its end (every chunk's
    authentication, order and end, and the SHA-256 stored at upload) before
    its first byte is sent, because a download cannot be taken back once it
    started. The second pass streams and checks again (the stored object
    could change in between). Costs one more read and decryption of the file
    (README, "File storage"), and keeps memory flat; decrypting once to a
    local temporary file would leave plaintext MRI on a web machine's disk.

    Raises ``FileIntegrityError`` (after alerting) or ``StorageUnavailable``.
    """
    audit_record(
        action=AuditEntry.Action.DOWNLOAD_FILE,
        summary=f"Opened MRI file #{mri_file.pk} ({mri_file.file_type})",
        actor=user,
        request=request,
        object_type="case",
        object_ref=mri_file.case.reference if mri_file.case_id else "",
    )
    CaseEvent.objects.create(
        case=mri_file.case, kind=CaseEvent.Kind.FILE_ACCESS, actor=user, summary=f"MRI file #{mri_file.pk} opened"
    )
    try:
        storage.verify_stored(mri_file.stored_name, sha256=mri_file.sha256)
    except FileIntegrityError as exc:
        mri_file_integrity_alert(mri_file=mri_file, error=exc, actor=user)
        raise
    return _alerting(storage.iter_decrypted(mri_file.stored_name, sha256=mri_file.sha256), mri_file, user)


def _alerting(chunks, mri_file: MriFile, actor):
    try:
        yield from chunks
    except FileIntegrityError as exc:
        mri_file_integrity_alert(mri_file=mri_file, error=exc, actor=actor)
        raise


def mri_file_integrity_alert(*, mri_file: MriFile, error: FileIntegrityError, actor=None) -> bool:
    """A stored file failed its check: log an ERROR every time; once per file,
    record it in the audit trail and on the case's timeline and email the
    supervisors (by a task, after commit). Returns True if this call raised
    the alert. No health data: the file's id, its case's reference, the reason.

    The audit trail is the once-per-file record, read under the file's row
    lock so two failing downloads at once alert once.
    """
    log.error("MRI file %s failed its integrity check (%s); it is not served", mri_file.pk, error.reason)
    with transaction.atomic():
        list(MriFile.objects.select_for_update().filter(pk=mri_file.pk).values_list("pk"))
        done = AuditEntry.objects.filter(object_type=INTEGRITY_OBJECT_TYPE, object_ref=str(mri_file.pk))
        if done.exists():
            return False
        audit_record(
            # The nearest existing action: the file was opened and failed.
            action=AuditEntry.Action.DOWNLOAD_FILE,
            summary=f"MRI file #{mri_file.pk} failed its integrity check ({error.reason}); not served",
            actor=actor,
            object_type=INTEGRITY_OBJECT_TYPE,
            object_ref=str(mri_file.pk),
        )
        if mri_file.case_id:
            CaseEvent.objects.create(
                case_id=mri_file.case_id,
                kind=CaseEvent.Kind.FILE,
                summary=f"MRI file #{mri_file.pk} failed its integrity check; supervisors alerted",
            )
        from ..tasks import alert_file_integrity

        enqueue_on_commit(alert_file_integrity, mri_file.pk, urgent=True)
    return True


def mri_file_integrity_notify(*, mri_file_id: int) -> int:
    """Email each active supervisor that MRI file ``mri_file_id`` failed its
    integrity check. Returns the number of emails sent."""
    from .notifications import supervisors

    f = MriFile.objects.filter(pk=mri_file_id).select_related("case").first()
    reference = f.case.reference if f is not None and f.case_id else ""
    where = f" of case {reference}" if reference else ""
    link = (
        settings.INTAKE_SITE_URL + reverse("admin:intake_reviewrequest_change", args=[f.case_id]) if reference else ""
    )
    subject = f"MRI file #{mri_file_id}{where} failed its integrity check"
    body = (
        f"MRI file #{mri_file_id}{where} failed its integrity check when it was read: its stored contents are "
        "damaged or were altered, or the stored object is missing. It will not be served to anyone.\n\n"
        "Please check the file storage and restore the file from a backup, or ask for the file again.\n"
        + (f"\n{link}\n" if link else "")
        + f"\n{settings.INTAKE_CLINIC_NAME}\n"
    )
    sent = 0
    for user in supervisors():
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent
