"""MRI files: accepted only after every check, stored encrypted; each access recorded;
a file that fails its integrity check is never served and raises an alert."""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation

from clinic.models import AuditEntry, audit_record

from .. import storage
from ..models import CaseEvent, MriFile
from ..signals import mri_files_attached
from ..storage import FileIntegrityError
from ..uploads import check_upload

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
    found = check_upload(uploaded, already_bytes=already, already_files=existing.count(), draft=case is None)
    name, size, digest = storage.store_encrypted(uploaded.file)
    try:
        with transaction.atomic():
            f = MriFile.objects.create(
                case=case,
                draft_key="" if case is not None else draft_key,
                original_name=_clean_name(uploaded.name),
                stored_name=name,
                file_type=found.kind,
                size=size,
                sha256=digest,
                modalities=",".join(sorted(found.modalities))[:64],
                left_out=[list(entry) for entry in found.left_out],
            )
            if case is not None:
                # The staff's timeline is in the clinic's language, whoever uploads.
                with translation.override(settings.LANGUAGE_CODE):
                    summary = f"MRI file added ({f.get_file_type_display()})"
                CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.FILE, summary=summary)
                mri_files_attached.send(sender=MriFile, case=case, files=[f])
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
        object_ref=mri_file.case.reference if mri_file.case is not None else "",
    )
    if mri_file.case is not None:  # a draft's file has no timeline yet
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
    raise a system alert (supervisors and ADMINS are emailed by a task, at most
    once) and record it in the audit trail and on the case's timeline.
    Returns True if this call raised the alert.

    "Once" is the system alert's unique key, so it holds across processes and
    machines. No health data: the file's number, its case's reference, the reason.
    """
    from .alerts import system_alert_raise

    log.error("MRI file %s failed its integrity check (%s); it is not served", mri_file.pk, error.reason)
    reference = mri_file.case.reference if mri_file.case is not None else ""
    where = f" of case {reference}" if reference else ""
    link = ""
    if mri_file.case_id:
        link = settings.INTAKE_SITE_URL + reverse("admin:intake_reviewrequest_change", args=[mri_file.case_id])
    first = system_alert_raise(
        key=f"mri-integrity:{mri_file.pk}",
        subject=f"MRI file #{mri_file.pk}{where} failed its integrity check",
        body=(
            f"MRI file #{mri_file.pk}{where} failed its integrity check when it was read ({error.reason}): its "
            "stored contents are damaged or were altered, or the stored object is missing. It will not be served "
            "to anyone.\n"
            "Check the file storage (INTAKE_PRIVATE_ROOT or the bucket) and restore the file from a backup, or "
            "ask for the file again." + (f"\n{link}" if link else "")
        ),
    )
    if first:
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
    return first
