"""The FHIR export's result letter, rendered once per review version and kept.

The EHR fetches a case's Bundle again and again, and each time the letter's
PDF took WeasyPrint about 0.2 s to render. Now the first export of a review
version renders it and stores it encrypted in the private file storage (the
MRI files' own format and keys: intake.storage), with a ``FhirLetter`` row
naming the version; later exports decrypt it. A new review version (the review
changed) renders again and replaces it. The retention purge deletes it with
the case's other data (``case_fhir_letter_purge``, INTAKE_PURGE_HOOKS). A
copy that cannot be read (a file key retired from INTAKE_FILE_KEYS, a damaged
file) is simply rendered again.

The one writer of ``FhirLetter`` rows and their files.
"""

import io
import logging

from django.db import IntegrityError, transaction

from intake import storage
from intake.models import ReviewRequest

from .models import FhirLetter

log = logging.getLogger(__name__)


def fhir_letter_pdf(*, case: ReviewRequest, version, render, kind: str = FhirLetter.Kind.LETTER) -> bytes:
    """The PDF of kind ``kind`` (the result letter, or the clinical summary) for
    ``version`` (a reviews.ReviewVersion) of ``case``: the stored rendering of
    that version if there is one, else ``render(case, version)``, stored for next
    time. A stored copy that fails its integrity check, or a storage that is
    down, only costs a fresh rendering."""
    row = FhirLetter.objects.filter(case=case, kind=kind).first()
    if row is not None and row.review_version == version.pk:
        try:
            return b"".join(storage.iter_decrypted(row.stored_name, sha256=row.sha256))
        except (storage.FileIntegrityError, storage.StorageUnavailable) as exc:
            log.warning("stored FHIR letter %s not readable (%s): rendering again", row.pk, type(exc).__name__)
    pdf = render(case, version)
    try:
        _keep(case, kind, version.pk, pdf)
    except storage.StorageUnavailable as exc:  # the export goes on; the next one tries to keep it again
        log.warning("FHIR letter not kept, storage unavailable: %s", type(exc).__name__)
    return pdf


def _keep(case: ReviewRequest, kind: str, version_pk: int, pdf: bytes) -> None:
    name, _size, sha256 = storage.store_encrypted(io.BytesIO(pdf))
    try:
        with transaction.atomic():
            # The row locked: two exports at once keep one file and delete the other.
            current = FhirLetter.objects.select_for_update().filter(case=case, kind=kind).first()
            if current is not None and current.review_version == version_pk:
                unused = name  # another export kept this version first
            else:
                unused = current.stored_name if current is not None else None
                FhirLetter.objects.update_or_create(
                    case=case, kind=kind, defaults={"review_version": version_pk, "stored_name": name, "sha256": sha256}
                )
            if unused:
                transaction.on_commit(lambda: _delete_quietly(unused))
    except IntegrityError:  # the first copy of this case, made by two exports at once: the other one won
        _delete_quietly(name)


def _delete_quietly(stored_name: str) -> None:
    try:
        storage.delete_stored(stored_name)
    except storage.StorageUnavailable as exc:
        log.warning("old FHIR letter file not deleted: %s", type(exc).__name__)


def case_fhir_letter_purge(*, case: ReviewRequest) -> None:
    """The retention purge's part for the FHIR letter (INTAKE_PURGE_HOOKS): the
    file and its row go with the patient's data, in the purge's transaction (a
    storage failure rolls the purge back, as for the MRI files)."""
    for row in FhirLetter.objects.filter(case=case):
        storage.delete_stored(row.stored_name)
        row.delete()
