"""MRI files: accepted only after every check, stored encrypted; each access recorded."""

from django.db import transaction
from django.db.models import Sum

from clinic.models import AuditEntry, audit_record

from .. import storage
from ..models import CaseEvent, MriFile
from ..uploads import validate_upload


def _clean_name(name: str) -> str:
    # Keep the patient's own label for staff, without any path.
    return (name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]


def mri_file_add(*, uploaded, draft_key: str = "", case=None) -> MriFile:
    """Check and store one upload for a draft (before submit) or a case.

    Raises ``UploadRejected``; on rejection nothing is written anywhere.
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
        storage.delete_stored(name)
        raise
    return f


def mri_file_remove_from_draft(*, draft_key: str, file_id: int) -> bool:
    f = MriFile.objects.filter(pk=file_id, draft_key=draft_key, case__isnull=True).first()
    if f is None:
        return False
    storage.delete_stored(f.stored_name)
    f.delete()
    return True


def mri_file_open(*, mri_file: MriFile, user, request=None):
    """Record the access, then return the decrypted chunks."""
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
    return storage.iter_decrypted(mri_file.stored_name)
