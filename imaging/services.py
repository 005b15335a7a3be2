"""Imaging writes: the index of a file, opening a series, confirming or
detaching a study, and staff attaching late images.

Files are read only through ``intake.storage.iter_decrypted`` (which checks
every chunk and the SHA-256 stored at upload) into memory; nothing decrypted
is written to disk. A file that fails its check raises the integrity alert
(``mri_file_integrity_alert``) and is never shown.
"""

import io
import logging

from django.db import transaction
from django.utils import timezone

from clinic.models import AuditEntry, audit_record
from intake import storage
from intake.models import CaseEvent, MriFile, ReviewRequest
from intake.services.errors import ServiceError
from intake.services.files import mri_file_add, mri_file_integrity_alert

from . import cage, checks, dicom, selectors
from .cache import pixels
from .models import ImagingInstance, ImagingSeries, ImagingStudy, IndexAttempts, IndexedFile

log = logging.getLogger(__name__)
INDEXED_TYPES = {MriFile.FileType.DICOM, MriFile.FileType.ZIP}
AWAITING_MRI = "awaiting_mri"
MRI_RECEIVED = "mri_received"


# --- Reading -------------------------------------------------------------------------
def file_plaintext(mri_file: MriFile, *, actor=None) -> bytes:
    """The checked plaintext of a stored file, from the in-memory cache or storage.

    Raises ``FileIntegrityError`` (after the alert) or ``StorageUnavailable``.
    """

    def load():
        return b"".join(storage.iter_decrypted(mri_file.stored_name, sha256=mri_file.sha256))

    try:
        # Keyed by the checksum too: a replaced file is never served from an old entry.
        return pixels.get_or_load(("file", mri_file.pk, mri_file.sha256), load)
    except storage.FileIntegrityError as exc:
        mri_file_integrity_alert(mri_file=mri_file, error=exc, actor=actor)
        raise


def _ranged_member(instance: ImagingInstance, file_id: str) -> bytes:
    """One object's bytes from only the chunks that hold it (see IndexedFile.file_id)."""
    import zlib

    plain = b"".join(
        storage.iter_decrypted_chunks(
            instance.mri_file.stored_name,
            file_id=bytes.fromhex(file_id),
            first=instance.chunk_first,
            count=instance.chunk_count,
        )
    )
    raw = plain[instance.skip : instance.skip + instance.length]
    if len(raw) != instance.length:
        raise storage.TamperedFile("the chunks do not hold the object")
    return zlib.decompressobj(-15).decompress(raw) if instance.deflated else raw


def member_bytes(mri_file: MriFile, member: str, *, instance: ImagingInstance | None = None, actor=None) -> bytes:
    """One DICOM object's bytes: from the whole file if this process holds it,
    else from only its own chunks (a slice of a 100 MB ZIP costs a megabyte or
    two of decryption instead of the whole file), else from the whole file,
    read and checked."""
    whole = pixels.get(("file", mri_file.pk, mri_file.sha256))
    if whole is None and instance is not None and instance.chunk_first is not None:
        try:
            # Usually already loaded with the slice (select_related in the view).
            file_id = mri_file.imaging_index.file_id
        except IndexedFile.DoesNotExist:
            file_id = ""
        if file_id:
            try:
                return _ranged_member(instance, file_id)
            except storage.TamperedFile:
                # Re-encrypted by key rotation, or damaged: the whole read below
                # tells which (and raises the alert if it is damaged).
                pass
    if whole is None:
        whole = file_plaintext(mri_file, actor=actor)
    return dicom.read_member(whole, mri_file.file_type, member)


def declared_size_problem(raw: bytes) -> str | None:
    """Why an object's header asks for more than ``intake.dicomlimits`` allows,
    or None. Reads the header only (pydicom, pure Python, stops before the pixel
    data): a stored file that breaks the limits never reaches a decoder."""

    from intake import dicomlimits

    try:
        ds = dicom.read_dataset(raw, stop_before_pixels=True)
    except Exception:
        return None  # not readable as DICOM: the decoder's own check says so, in the cage
    size = dicomlimits.declared(ds)
    return dicomlimits.size_problem(size) if size is not None else None


def object_pixels(mri_file: MriFile, member: str, *, instance: ImagingInstance | None = None, actor=None):
    """All frames of one DICOM object, decoded in the cage (``imaging.cage``) and
    cached. Raises ``dicom.DecodeError`` (the cage's ``DecoderFailed`` is one)."""

    def load():
        raw = member_bytes(mri_file, member, instance=instance, actor=actor)
        problem = declared_size_problem(raw)
        if problem is not None:
            raise cage.DecoderFailed(f"{cage.TOO_LARGE}: {problem}", "too_large")
        return cage.decode(raw)

    return pixels.get_or_load(("pixels", mri_file.pk, mri_file.sha256, member), load)


def slice_pixels(instance: ImagingInstance, *, actor=None):
    frames = object_pixels(instance.mri_file, instance.member, instance=instance, actor=actor)
    if instance.frame >= frames.shape[0]:
        raise dicom.DecodeError("the object has fewer frames than its header says")
    return frames[instance.frame]


# --- Index -----------------------------------------------------------------------------
def imaging_index_file(*, mri_file_id: int) -> IndexedFile | None:
    """Index one stored file of a case, once (safe to run twice and concurrently).

    DICOM and ZIP files are grouped into studies, series and slices; other
    types are recorded with no slices. A file that cannot be read is recorded
    as failed with a plain reason, so the page shows it instead of failing.
    Returns None for a file not (or no longer) attached to a case.
    """
    with transaction.atomic():
        # The file's row lock serialises indexers of the same file: the
        # second finds IndexedFile and returns it.
        mri_file = MriFile.objects.select_for_update().filter(pk=mri_file_id, case__isnull=False).first()
        if mri_file is None:
            return None
        done = IndexedFile.objects.filter(mri_file=mri_file).first()
        if done is not None:
            return done
        if mri_file.file_type not in INDEXED_TYPES:
            return IndexedFile.objects.create(mri_file=mri_file, state=IndexedFile.State.DONE)
        try:
            data, sizes = _read_whole(mri_file)
            studies, _skipped = dicom.scan(data, mri_file.file_type)
            spans = dicom.member_spans(data, mri_file.file_type)
            file_id = storage.stored_file_id(mri_file.stored_name).hex()
        except storage.StorageUnavailable:
            raise  # a passing outage: the task retries, the page says try again
        except storage.FileIntegrityError:
            return IndexedFile.objects.create(
                mri_file=mri_file, state=IndexedFile.State.FAILED, problem="The file failed its integrity check."
            )
        except Exception as exc:
            log.warning("MRI file %s could not be indexed (%s)", mri_file.pk, type(exc).__name__)
            return IndexedFile.objects.create(
                mri_file=mri_file, state=IndexedFile.State.FAILED, problem="The file could not be read as DICOM."
            )
        count = 0
        where = _Locator(sizes, spans)
        for info in studies.values():
            count += _index_study(mri_file, info, where)
        state = IndexedFile.State.DONE if count else IndexedFile.State.FAILED
        problem = "" if count else "No DICOM images were found in the file."
        return IndexedFile.objects.create(
            mri_file=mri_file, state=state, problem=problem, instances=count, file_id=file_id if count else ""
        )


def _read_whole(mri_file: MriFile) -> tuple[bytes, list[int]]:
    """The whole plaintext, checked (and kept in this process's cache), with the
    size of each stored chunk, so that slices can later be read by chunk."""
    sizes: list[int] = []

    def load():
        chunks = list(storage.iter_decrypted(mri_file.stored_name, sha256=mri_file.sha256))
        sizes.extend(len(c) for c in chunks)
        return b"".join(chunks)

    try:
        data = pixels.get_or_load(("file", mri_file.pk, mri_file.sha256), load)
    except storage.FileIntegrityError as exc:
        mri_file_integrity_alert(mri_file=mri_file, error=exc)
        raise
    if not sizes:  # it came from the cache: read the chunk sizes again
        sizes = [len(c) for c in storage.iter_decrypted(mri_file.stored_name, sha256=mri_file.sha256)]
    return data, sizes


class _Locator:
    """Maps an object's byte span in the plaintext to stored chunks."""

    def __init__(self, sizes: list[int], spans: dict):
        import itertools

        self.starts = [0, *itertools.accumulate(sizes)][:-1] if sizes else []
        self.spans = spans

    def fields(self, member: str) -> dict:
        import bisect

        span = self.spans.get(member)
        if span is None or not self.starts:
            return {}
        start, length, deflated = span
        if length <= 0:
            return {}
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, start + length - 1) - 1
        return {
            "chunk_first": first,
            "chunk_count": last - first + 1,
            "skip": start - self.starts[first],
            "length": length,
            "deflated": deflated,
        }


def _index_study(mri_file: MriFile, info: dicom.StudyInfo, where: "_Locator") -> int:
    case = mri_file.case
    study, created = ImagingStudy.objects.get_or_create(
        case=case,
        study_uid=info.study_uid[:64],
        defaults={
            "study_date": info.study_date,
            "description": info.description,
            "modality": info.modality,
            "body_part": info.body_part,
            "institution": info.institution,
            "accession_number": info.accession_number,
            "patient_name": info.patient_name,
            "patient_birth_date": info.patient_birth_date,
            "name_matches": checks.names_match(case.first_name, case.last_name, info.patient_name),
            "birth_date_matches": checks.birth_dates_match(case.date_of_birth, info.patient_birth_date),
        },
    )
    if created:
        _study_events(case, study, is_mri=any(x.modality == selectors.MRI_MODALITY for x in info.series.values()))
    count = 0
    for s in info.series.values():
        series, _ = ImagingSeries.objects.get_or_create(
            study=study,
            series_uid=s.series_uid[:64],
            defaults={
                "number": s.number,
                "description": s.description,
                "modality": s.modality,
                "plane": s.plane,
                "rows": s.rows,
                "columns": s.columns,
                "window_center": s.window_center,
                "window_width": s.window_width,
                "transfer_syntax": s.transfer_syntax[:64],
                "inverted": s.inverted,
            },
        )
        ImagingInstance.objects.bulk_create(
            ImagingInstance(
                series=series,
                mri_file=mri_file,
                member=sl.member[:400],
                frame=sl.frame,
                sop_uid=sl.sop_uid,
                instance_number=sl.instance_number,
                position=sl.position,
                **where.fields(sl.member),
            )
            for sl in s.slices
        )
        count += len(s.slices)
        if not series.problem:
            series.problem = _decode_problem(mri_file, s)
        _renumber(series)
    return count


def _decode_problem(mri_file: MriFile, info: dicom.SeriesInfo) -> str:
    """Decode one object of the series now, so the page can say which series
    cannot be shown (and why) before anyone scrolls into it. A file refused for
    safety (too large, its decoder died or ran out of time) alerts staff once."""
    try:
        object_pixels(mri_file, info.sample_member)
    except dicom.DecodeError as exc:
        problem = f"Cannot be shown: {exc}."[:200]
        if isinstance(exc, cage.DecoderFailed) and exc.kind != "refused":
            unsafe_file_alert(mri_file=mri_file, problem=problem)
        return problem
    return ""


# --- Poison messages (the rule is clinic.untrusted's; these are imaging's hooks) ------------------
UNSAFE_INDEX_PROBLEM = (
    "Cannot be shown: the worker reading this file stopped twice "
    "(the file is too large, or it could not be decoded safely)."
)


def imaging_index_attempt_begin(*, mri_file_id: int) -> int:
    """Count an indexing attempt of a file, committed before the work starts.
    Returns how many earlier attempts never ended (worker processes that died)."""
    with transaction.atomic():
        attempts, _ = IndexAttempts.objects.select_for_update().get_or_create(mri_file_id=mri_file_id)
        earlier = attempts.unfinished
        attempts.unfinished = earlier + 1
        attempts.last_started_at = timezone.now()
        attempts.save(update_fields=["unfinished", "last_started_at"])
    return earlier


def imaging_index_attempt_end(*, mri_file_id: int) -> None:
    """The attempt ended (done, failed, or to be retried): it did not kill its process."""
    IndexAttempts.objects.filter(mri_file_id=mri_file_id).update(unfinished=0)


def imaging_index_give_up(*, mri_file_id: int, deaths: int) -> IndexedFile | None:
    """Worker processes died on this file ``deaths`` times: record it as failed
    ("cannot be shown", with the reason) and alert staff, once."""
    with transaction.atomic():
        mri_file = MriFile.objects.select_for_update().filter(pk=mri_file_id).first()
        if mri_file is None:
            return None
        done = IndexedFile.objects.filter(mri_file=mri_file).first()
        if done is not None:
            return done  # an attempt that ran alongside finished it
        log.error("MRI file %s: indexing given up after %s worker deaths", mri_file.pk, deaths)
        failed = IndexedFile.objects.create(
            mri_file=mri_file, state=IndexedFile.State.FAILED, problem=UNSAFE_INDEX_PROBLEM
        )
        if mri_file.case is not None:
            unsafe_file_alert(mri_file=mri_file, problem=UNSAFE_INDEX_PROBLEM)
        return failed


def unsafe_file_alert(*, mri_file: MriFile, problem: str) -> None:
    from intake.services.alerts import unsafe_file_alert as raise_alert

    reference = mri_file.case.reference if mri_file.case_id else ""
    raise_alert(mri_file_id=mri_file.pk, case_reference=reference, problem=problem)


def _renumber(series: ImagingSeries) -> None:
    """Order the stack by position along the slice normal (files may arrive apart)."""
    instances = list(series.instances.all())
    instances.sort(
        key=lambda i: (i.position if i.position is not None else float("inf"), i.instance_number or 0, i.frame)
    )
    for n, inst in enumerate(instances):
        inst.index = n
    ImagingInstance.objects.bulk_update(instances, ["index"])
    series.slice_count = len(instances)
    series.save(update_fields=["slice_count", "problem"])


def _study_events(case: ReviewRequest, study: ImagingStudy, *, is_mri: bool) -> None:
    """The case's timeline says what the headers show: a mismatch, an old MRI,
    a study that is not an MRI (which never counts for the 12-month rule: see
    selectors). No health data in the summary (the page shows the values to staff)."""
    if study.patient_mismatch:
        what = " and ".join(
            w
            for w, bad in (("name", study.name_matches is False), ("date of birth", study.birth_date_matches is False))
            if bad
        )
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.FILE,
            summary=f"Imaging study #{study.pk}: the patient's {what} in the images differ from the case; check it",
        )
    if not is_mri:
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.FILE,
            summary=f"Imaging study #{study.pk} is not an MRI: it does not count as the case's MRI; check it",
        )
    elif checks.study_is_old(study.study_date, timezone.localdate()):
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.FILE,
            summary=f"Imaging study #{study.pk} is more than 12 months old: new imaging may be needed",
        )


def case_index_pending(*, case: ReviewRequest) -> None:
    """Index the case's files not indexed yet (lazily, on first view). A file
    that workers died on is left to its task's rule, not retried here."""
    from clinic.untrusted import DEATHS_ALLOWED

    pending = (
        case.files.filter(imaging_index__isnull=True)
        .exclude(imaging_attempts__unfinished__gte=DEATHS_ALLOWED)
        .values_list("pk", flat=True)
    )
    for file_id in list(pending):
        imaging_index_file(mri_file_id=file_id)


def imaging_index_enqueue(mri_file_id: int) -> None:
    """Index a file in the background once the transaction that attached it commits."""
    from .tasks import index_mri_file

    def enqueue():
        try:
            index_mri_file.delay(mri_file_id)
        except Exception as exc:  # the broker is down: the viewer indexes on first view instead
            log.warning("MRI file %s: index task not queued (%s)", mri_file_id, type(exc).__name__)

    transaction.on_commit(enqueue)


# --- Opening (audit once per series) ---------------------------------------------------
def imaging_series_open(*, series: ImagingSeries, user, request=None) -> None:
    """Record that ``user`` opened a series: one audit entry and one timeline
    event per opening of the series page, not per slice."""
    case = series.study.case
    audit_record(
        action=AuditEntry.Action.DOWNLOAD_FILE,
        summary=f"Viewed MRI series #{series.pk} ({series.slice_count} slices)",
        actor=user,
        request=request,
        object_type="case",
        object_ref=case.reference,
    )
    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.FILE_ACCESS, actor=user, summary=f"MRI series #{series.pk} viewed"
    )


def imaging_file_view(*, mri_file: MriFile, user, request=None) -> None:
    """The same record for a report or picture shown inline (once per opening)."""
    audit_record(
        action=AuditEntry.Action.DOWNLOAD_FILE,
        summary=f"Viewed MRI file #{mri_file.pk} ({mri_file.file_type}) inline",
        actor=user,
        request=request,
        object_type="case",
        object_ref=mri_file.case.reference,
    )
    CaseEvent.objects.create(
        case=mri_file.case, kind=CaseEvent.Kind.FILE_ACCESS, actor=user, summary=f"MRI file #{mri_file.pk} viewed"
    )


# --- Confirm or detach -------------------------------------------------------------------
def imaging_study_confirm(*, study_id: int, actor) -> ImagingStudy:
    """Staff checked a mismatch and confirm the images are this patient's."""
    with transaction.atomic():
        study = ImagingStudy.objects.select_for_update().select_related("case").get(pk=study_id)
        if study.confirmed_at is not None:
            return study
        study.confirmed_at = timezone.now()
        study.confirmed_by = actor
        study.save(update_fields=["confirmed_at", "confirmed_by"])
        CaseEvent.objects.create(
            case=study.case,
            kind=CaseEvent.Kind.FILE,
            actor=actor,
            summary=f"Imaging study #{study.pk} confirmed as this patient's despite the header differences",
        )
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Confirmed imaging study #{study.pk} as the patient's",
            actor=actor,
            object_type="case",
            object_ref=study.case.reference,
        )
    return study


def imaging_study_detach(*, study_id: int, actor) -> list[int]:
    """Unlink from the case every file that holds images of the study.

    The files leave the case (and its index); they are kept as detached
    uploads under a "detached:<reference>" draft key, so the draft clean-up
    deletes them like any upload no request claims. Returns the file ids.
    """
    with transaction.atomic():
        study = ImagingStudy.objects.select_for_update().select_related("case").get(pk=study_id)
        case = ReviewRequest.objects.select_for_update(of=("self",)).get(pk=study.case_id)
        file_ids = sorted(
            set(ImagingInstance.objects.filter(series__study=study).values_list("mri_file_id", flat=True))
        )
        files = list(MriFile.objects.select_for_update().filter(pk__in=file_ids, case=case))
        for f in files:
            # The file's other studies go with it: their slices would point nowhere.
            ImagingStudy.objects.filter(series__instances__mri_file=f).exclude(pk=study.pk).delete()
            IndexedFile.objects.filter(mri_file=f).delete()
            ImagingInstance.objects.filter(mri_file=f).delete()
            f.case = None
            f.draft_key = f"detached:{case.reference}"
            f.save(update_fields=["case", "draft_key"])
        study.delete()
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.FILE,
            actor=actor,
            summary=f"Detached {len(files)} MRI file(s) (#{', #'.join(str(f.pk) for f in files)}): not this patient's",
        )
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Detached MRI files {', '.join(f'#{f.pk}' for f in files)} from the case",
            actor=actor,
            object_type="case",
            object_ref=case.reference,
        )
    return [f.pk for f in files]


# --- Staff attach -------------------------------------------------------------------------
def imaging_attach(*, case_id: int, uploads, actor, reason: str = "") -> ReviewRequest:
    """Attach files that arrived later (a CD, an email) to a case, through the
    patient upload's content checks and encryption (``mri_file_add``), then
    move a case awaiting its MRI to "MRI received".

    "MRI received" needs at least one file or a recorded reason (films seen at
    the imaging centre, say). Raises ``UploadRejected`` (nothing attached of
    that file or any after it), ``StorageUnavailable`` or ``ServiceError``.
    """
    from intake.services.lifecycle import case_transition

    reason = (reason or "").strip()
    uploads = list(uploads or ())
    case = ReviewRequest.objects.get(pk=case_id)
    if not uploads and not reason:
        raise ServiceError("Attach at least one file, or say why the MRI counts as received without one.")
    added = []
    for uploaded in uploads:
        f = mri_file_add(uploaded=uploaded, case=case)
        added.append(f)
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Attached MRI file #{f.pk} ({f.file_type}) for the patient",
            actor=actor,
            object_type="case",
            object_ref=case.reference,
        )
    case.refresh_from_db()
    if case.status == AWAITING_MRI:
        note = reason or f"{len(added)} file(s) attached by staff"
        case = case_transition(case_id=case.pk, to_status=MRI_RECEIVED, actor=actor, note=note)
    elif reason and not added:
        raise ServiceError("A reason alone only moves a case that is awaiting its MRI.")
    return case


def file_bytes_io(mri_file: MriFile, *, actor=None) -> io.BytesIO:
    return io.BytesIO(file_plaintext(mri_file, actor=actor))
