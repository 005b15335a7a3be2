"""The DICOM node's writes: read Orthanc's change feed, match each new study
to an open case, fetch it and attach it as an MRI file, once.

Exactly once, with any number of pollers and Orthanc restarting at any time:

- A page of the feed is recorded under a lock on the one ``ChangeCursor``
  row, and only if no other poller moved the cursor since the page was read;
  each study becomes one ``ReceivedStudy`` row (its Orthanc id is unique), so
  a change read twice (Orthanc's index rebuilt) is still recorded once.
- A worker claims a study (a token and a lease, in a short transaction), then
  downloads it with no transaction open: a slow Orthanc never holds a lock.
- The attach is one transaction under the study's row lock that first checks
  the claim is still this worker's: the MRI file, the case's events, the
  status change and the study's new state commit together or not at all. A
  stored object whose row never committed is deleted.
- A download that fails (refused, reset, Orthanc restarted and the ZIP cut
  short) leaves the study FAILED with a retry time; nothing was attached.

Health data (names, birth dates) stays in the database: log lines name the
study's number and the reason only.
"""

import logging
import secrets
from collections import Counter
from datetime import datetime, timedelta
from time import monotonic

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q

from clinic.encrypted_tempfile import EncryptedTemporaryFile
from clinic.models import AuditEntry, audit_record
from clinic.untrusted import run_untrusted
from intake import clock, storage
from intake.models import CaseEvent, ReviewRequest
from intake.services.errors import ServiceError
from intake.services.files import mri_file_add
from intake.services.lifecycle import case_transition
from intake.transitions import OPEN, Status, can_transition
from intake.uploads import UploadRejected

from . import matching
from .models import PENDING, TRANSITIONS, ChangeCursor, ReceivedStudy
from .orthanc import ORTHANC_ID, OrthancClient, OrthancUnavailable, StudyGone, StudyHeader

log = logging.getLogger(__name__)
S = ReceivedStudy.State

# A worker that dies mid-download holds its claim this long; longer than any
# download the poll task's time limit allows (dicomnode.tasks).
CLAIM_SECONDS = 15 * 60
FEED_PAGE = 200
FEED_MAX_PAGES = 50
RETRY_FIRST_SECONDS = 10
RETRY_MAX_SECONDS = 3600


class IllegalStudyTransition(ServiceError):
    pass


def _move(rs: ReceivedStudy, to_state: str):
    if to_state not in TRANSITIONS[rs.state]:
        raise IllegalStudyTransition(f"Received study #{rs.pk} cannot go from {rs.state} to {to_state}.")
    rs.state = to_state


def _release(rs: ReceivedStudy):
    rs.claim_token = ""
    rs.claimed_until = None


# --- The poll ------------------------------------------------------------------------------
def orthanc_poll(*, client: OrthancClient | None = None, now: datetime | None = None, budget_seconds=20.0) -> dict:
    """Record new studies from Orthanc's change feed, then process the studies
    that are due (new, or failed and due again), starting new ones for at most
    ``budget_seconds``. Does nothing while ``INTAKE_ORTHANC_URL`` is empty.
    Returns counts by outcome."""
    if client is None:
        if not settings.INTAKE_ORTHANC_URL:
            return {"off": True}
        client = OrthancClient.from_settings()
    try:
        recorded = received_studies_record(client=client)
    except OrthancUnavailable as exc:
        log.warning("DICOM node: Orthanc's change feed could not be read (%s)", exc)
        return {"orthanc_unavailable": True}
    outcomes = Counter()
    started = monotonic()
    for rs_id in _due_ids(now or clock.now()):
        if monotonic() - started > budget_seconds:
            break  # the rest wait for the next poll
        rs = received_study_process(received_study_id=rs_id, client=client, now=now)
        if rs is not None:
            outcomes[rs.state] += 1
    return {"recorded": recorded, **outcomes}


def _due_ids(now: datetime) -> list[int]:
    not_waiting = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    due = ReceivedStudy.objects.filter(
        Q(state=S.NEW)
        | Q(state=S.FAILED, next_attempt_at__lte=now)
        | Q(Q(state=S.ATTACHED, more_images=True) & not_waiting)
    )
    return list(due.order_by("pk").values_list("pk", flat=True)[:100])


def received_studies_record(*, client: OrthancClient) -> int:
    """Read Orthanc's change feed from the cursor and record every study that
    became stable ("StableStudy") as a new ``ReceivedStudy``. Returns how many
    were new."""
    ChangeCursor.objects.get_or_create(pk=1)
    recorded = 0
    for _ in range(FEED_MAX_PAGES):
        # The page is read with no lock held (a hung Orthanc must not hold
        # the database; on SQLite a transaction blocks every writer), then
        # recorded under the cursor's lock if the cursor is still where it was.
        since = ChangeCursor.objects.values_list("last_seq", flat=True).get(pk=1)
        changes, last, done = client.changes(since=since, limit=FEED_PAGE)
        with transaction.atomic():
            cursor = ChangeCursor.objects.select_for_update().get(pk=1)
            if cursor.last_seq != since:
                continue  # another poller recorded this page meanwhile: read on from where it stopped
            if last < cursor.last_seq:
                # Orthanc's index was replaced (a new storage folder): its feed
                # starts again at 1. Read it all again; the unique study id
                # keeps what was already recorded from being recorded twice.
                log.warning("DICOM node: Orthanc's change feed restarted (last %s, cursor %s)", last, cursor.last_seq)
                cursor.last_seq = 0
                cursor.save()
                continue
            for change in changes:
                if change.change_type == "StableStudy" and ORTHANC_ID.fullmatch(change.resource_id):
                    rs, created = ReceivedStudy.objects.get_or_create(orthanc_id=change.resource_id)
                    recorded += created
                    if not created and rs.state == S.ATTACHED:
                        # Stable again: images came after it was attached
                        # (or the feed was read again); processing compares.
                        ReceivedStudy.objects.filter(pk=rs.pk).update(more_images=True)
            if changes:
                cursor.last_seq = max(last, changes[-1].seq)
                cursor.save()
        if done:
            break
    return recorded


# --- One study -----------------------------------------------------------------------------
def received_study_process(
    *, received_study_id: int, client: OrthancClient, now: datetime | None = None
) -> ReceivedStudy | None:
    """Match one new (or failed, due) study and attach it, or leave it for a
    coordinator. Returns the study, or None when it was not this worker's to
    do (another worker holds it, it is not due, or it is done)."""
    now = now or clock.now()
    token = _claim(received_study_id, now=now, states=PENDING | {S.ATTACHED}, due_only=True)
    if token is None:
        return None
    # Orthanc's bytes are untrusted: a study that killed two worker processes
    # (claims that ran out with their attempt never ended) is not tried again.
    return run_untrusted(
        begin=lambda: _attempt_begin(received_study_id),
        end=lambda: _attempt_end(received_study_id),
        give_up=lambda deaths: _give_up(received_study_id, token, deaths),
        work=lambda: _process(received_study_id, token, client=client, now=now),
    )


UNSAFE_STUDY_ERROR = "Stopped the worker reading it twice; not tried again. Ask the sender for a new copy."


def _attempt_begin(rs_id: int) -> int:
    """Count an attempt, committed before the work; how many earlier ones never ended."""
    with transaction.atomic():
        rs = ReceivedStudy.objects.select_for_update().get(pk=rs_id)
        earlier = rs.unfinished_attempts
        rs.unfinished_attempts = earlier + 1
        rs.save(update_fields=["unfinished_attempts"])
    return earlier


def _attempt_end(rs_id: int) -> None:
    ReceivedStudy.objects.filter(pk=rs_id).update(unfinished_attempts=0)


def _give_up(rs_id: int, token: str, deaths: int) -> ReceivedStudy:
    """Worker processes died on this study ``deaths`` times: refuse it (or, for
    later images of an attached study, stop fetching them) and tell staff once."""
    from intake.services.alerts import system_alert_raise

    log.error("DICOM node: study #%s given up after %s worker deaths", rs_id, deaths)
    state = ReceivedStudy.objects.values_list("state", flat=True).get(pk=rs_id)
    if state == S.ATTACHED:
        rs = _more_done(rs_id, token, UNSAFE_STUDY_ERROR)
    else:
        rs = _settle(rs_id, token, S.REJECTED, error=UNSAFE_STUDY_ERROR)
    system_alert_raise(
        key=f"received-study-unsafe:{rs_id}",
        subject=f"Received imaging study #{rs_id} could not be read safely",
        body=(
            f"Received imaging study #{rs_id} stopped the worker process reading it {deaths} times, so it is no "
            "longer tried. Nothing from it was attached. In the admin, open Received imaging studies, and ask "
            "the imaging centre that sent it for a new copy."
        ),
    )
    return rs


def _process(received_study_id: int, token: str, *, client: OrthancClient, now: datetime) -> ReceivedStudy:
    orthanc_id, state = ReceivedStudy.objects.values_list("orthanc_id", "state").get(pk=received_study_id)
    try:
        header = client.study(orthanc_id)
        if state == S.ATTACHED:
            return _fetch_more(received_study_id, token, header=header, client=client, now=now)
        _record_header(received_study_id, token, header)
        case_id, how = matching.match_case(header)
        if case_id is None:
            return _settle(received_study_id, token, S.UNMATCHED, note=how)
        return _fetch_and_attach(
            received_study_id, token, header=header, case_id=case_id, client=client, how=how, actor=None, now=now
        )
    except UploadRejected as exc:
        if state == S.ATTACHED:
            return _more_done(received_study_id, token, f"More images refused by the file checks: {exc}")
        return _settle(received_study_id, token, S.REJECTED, error=str(exc))
    except StudyGone:
        if state == S.ATTACHED:
            return _more_done(received_study_id, token, "")
        return _settle(received_study_id, token, S.REJECTED, error="Orthanc no longer has this study.")
    except Exception as exc:
        # Any other failure (Orthanc gone mid-download, the storage, the
        # database) leaves the study retriable; the reason is recorded.
        log.warning("DICOM node: study #%s not attached this time (%s)", received_study_id, type(exc).__name__)
        return _fail(received_study_id, token, exc, now)


def received_study_attach(
    *, received_study_id: int, case_reference: str, actor, client: OrthancClient | None = None
) -> ReceivedStudy:
    """A coordinator attaches an unmatched study to a case they can see:
    fetched, checked and stored exactly like a matched one, audited."""
    if not (actor.is_superuser or actor.has_perm("dicomnode.match_receivedstudy")):
        raise ServiceError("You may not attach received imaging to cases.")
    reference = matching.reference_in(case_reference)
    if reference is None:
        raise ServiceError("Enter a case reference such as MR-7K3F9Q.")
    case = (
        ReviewRequest.objects.visible_to(actor)
        .filter(reference=reference, status__in=OPEN, purged_at__isnull=True)
        .first()
    )
    if case is None:
        raise ServiceError(f"There is no open case {reference} in your queues.")
    if client is None:
        if not settings.INTAKE_ORTHANC_URL:
            raise ServiceError("The DICOM node is off (INTAKE_ORTHANC_URL is not set).")
        client = OrthancClient.from_settings()
    now = clock.now()
    token = _claim(received_study_id, now=now, states={S.UNMATCHED}, due_only=False)
    if token is None:
        raise ServiceError(f"Study #{received_study_id} is not waiting for a match (someone may be attaching it).")
    orthanc_id = ReceivedStudy.objects.values_list("orthanc_id", flat=True).get(pk=received_study_id)
    try:
        header = client.study(orthanc_id)
        _record_header(received_study_id, token, header)
        rs = _fetch_and_attach(
            received_study_id,
            token,
            header=header,
            case_id=case.pk,
            client=client,
            how=f"chosen by {actor.get_username()}",
            actor=actor,
            now=now,
        )
    except UploadRejected as exc:
        _settle(received_study_id, token, S.REJECTED, error=str(exc))
        raise ServiceError(f"The file checks refused this study: {exc}") from None
    except StudyGone:
        _fail(received_study_id, token, None, now)
        raise ServiceError("Orthanc no longer has this study; nothing was attached.") from None
    except Exception as exc:
        _fail(received_study_id, token, exc, now)
        if isinstance(exc, OrthancUnavailable | storage.StorageUnavailable):
            raise ServiceError(f"Nothing was attached: {exc}. Please try again in a moment.") from None
        raise
    if rs.state != S.ATTACHED:
        raise ServiceError(f"Study #{rs.pk} was not attached: {rs.match_note or rs.last_error}.")
    return rs


def received_study_dismiss(*, received_study_id: int, actor) -> ReceivedStudy:
    """A coordinator sets an unmatched (or refused) study aside: not for any
    case here. It leaves the list; the record stays until retention."""
    if not (actor.is_superuser or actor.has_perm("dicomnode.match_receivedstudy")):
        raise ServiceError("You may not dismiss received imaging.")
    with transaction.atomic():
        rs = ReceivedStudy.objects.select_for_update().get(pk=received_study_id)
        if rs.claimed_until is not None and rs.claimed_until > clock.now():
            raise ServiceError(f"Study #{rs.pk} is being attached right now.")
        _move(rs, S.DISMISSED)
        rs.save()
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"DICOM study #{rs.pk} dismissed (matched to no case)",
            actor=actor,
            object_type="received_study",
            object_ref=str(rs.pk),
        )
    return rs


# --- Steps (each a short transaction under the study's row lock) ----------------------------
def _claim(rs_id: int, *, now: datetime, states: set[str], due_only: bool) -> str | None:
    with transaction.atomic():
        rs = ReceivedStudy.objects.select_for_update(skip_locked=True).filter(pk=rs_id).first()
        if rs is None or rs.state not in states:
            return None
        if rs.claimed_until is not None and rs.claimed_until > now:
            return None  # another worker is fetching it
        if rs.state == S.ATTACHED and not rs.more_images:
            return None
        if due_only and rs.next_attempt_at and rs.next_attempt_at > now:
            return None
        rs.claim_token = secrets.token_hex(16)
        rs.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
        rs.attempts += 1
        rs.save(update_fields=["claim_token", "claimed_until", "attempts"])
        return rs.claim_token


def _locked_if_ours(rs_id: int, token: str) -> ReceivedStudy | None:
    """The study, locked, if this worker's claim still holds (call inside a transaction)."""
    rs = ReceivedStudy.objects.select_for_update().get(pk=rs_id)
    if rs.claim_token != token:
        log.info("DICOM node: study #%s was taken over by another worker; this worker's copy is dropped", rs_id)
        return None
    return rs


def _record_header(rs_id: int, token: str, header: StudyHeader):
    with transaction.atomic():
        rs = _locked_if_ours(rs_id, token)
        if rs is None:
            return
        rs.study_date = matching.dicom_date(header.study_date)
        rs.study_description = header.study_description[:200]
        rs.modalities = ", ".join(header.modalities)[:60]
        rs.accession_number = header.accession_number[:64]
        rs.patient_id = header.patient_id[:64]
        rs.patient_name = header.patient_name[:200]
        rs.patient_birth_date = matching.dicom_date(header.patient_birth_date)
        rs.series_count = header.series_count
        rs.instance_count = header.instance_count
        rs.save()


def _settle(rs_id: int, token: str, state: str, *, note: str = "", error: str = "") -> ReceivedStudy:
    with transaction.atomic():
        rs = _locked_if_ours(rs_id, token)
        if rs is None:
            return ReceivedStudy.objects.get(pk=rs_id)
        _move(rs, state)
        rs.match_note = note[:80]
        rs.last_error = error[:200]
        rs.next_attempt_at = None
        _release(rs)
        rs.save()
        return rs


def _fail(rs_id: int, token: str, exc: Exception | None, now: datetime) -> ReceivedStudy:
    """Record why, and when to try again; a study waiting for a coordinator stays waiting."""
    with transaction.atomic():
        rs = _locked_if_ours(rs_id, token)
        if rs is None:
            return ReceivedStudy.objects.get(pk=rs_id)
        # Our own exceptions' messages hold no health data; others are named by type.
        ours = isinstance(exc, OrthancUnavailable | storage.StorageUnavailable | ServiceError)
        rs.last_error = (f"{type(exc).__name__}: {exc}" if ours else type(exc).__name__)[:200]
        if rs.state in PENDING | {S.ATTACHED}:
            if rs.state != S.ATTACHED:
                _move(rs, S.FAILED)
            delay = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** max(0, rs.attempts - 1))
            rs.next_attempt_at = now + timedelta(seconds=delay)
        _release(rs)
        rs.save()
        return rs


def _fetch_and_attach(
    rs_id: int, token: str, *, header: StudyHeader, case_id: int, client: OrthancClient, how: str, actor, now
) -> ReceivedStudy:
    # The ZIP waits in an unnamed temporary file, encrypted under a key held in
    # memory only (clinic.encrypted_tempfile: never plaintext on disk, issue 22),
    # which the with block closes (and so removes) whatever happens.
    with EncryptedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as spool:
        size = client.download_archive(header.orthanc_id, spool, expected_instances=header.instance_count)
        uploaded = UploadedFile(
            file=spool, name=f"dicom-node-study-{rs_id}.zip", content_type="application/zip", size=size
        )
        return _attach(
            rs_id,
            token,
            case_id=case_id,
            uploaded=uploaded,
            how=how,
            actor=actor,
            now=now,
            instance_ids=header.instance_ids,
        )


def _fetch_more(rs_id: int, token: str, *, header: StudyHeader, client: OrthancClient, now) -> ReceivedStudy:
    """Images of an attached study that came after it was attached: their own ZIP, on the same case."""
    rs = ReceivedStudy.objects.select_related("case").get(pk=rs_id)
    attached = set(rs.attached_instances)
    new = [i for i in header.instance_ids if i not in attached]
    case = rs.case
    if not new or case is None or case.purged_at is not None or case.status not in OPEN:
        return _more_done(rs_id, token, f"{len(new)} more image(s) arrived after its case closed" if new else "")
    with EncryptedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as spool:  # as _fetch_and_attach's
        size = client.download_instances_archive(new, spool)
        uploaded = UploadedFile(
            file=spool, name=f"dicom-node-study-{rs_id}-more.zip", content_type="application/zip", size=size
        )
        return _attach(
            rs_id,
            token,
            case_id=case.pk,
            uploaded=uploaded,
            how=f"{len(new)} more image(s) of an attached study",
            actor=None,
            now=now,
            instance_ids=tuple(new),
        )


def _more_done(rs_id: int, token: str, error: str) -> ReceivedStudy:
    """An attached study's later images are settled without a file (none new, or they cannot be attached)."""
    with transaction.atomic():
        rs = _locked_if_ours(rs_id, token)
        if rs is not None:
            rs.more_images = False
            rs.last_error = error[:200] or rs.last_error
            rs.next_attempt_at = None
            _release(rs)
            rs.save()
    return ReceivedStudy.objects.get(pk=rs_id)


def _attach(
    rs_id: int, token: str, *, case_id: int, uploaded, how: str, actor, now, instance_ids: tuple[str, ...]
) -> ReceivedStudy:
    stored_name = None
    try:
        with transaction.atomic():
            rs = _locked_if_ours(rs_id, token)
            if rs is None:
                return ReceivedStudy.objects.get(pk=rs_id)
            case = ReviewRequest.objects.get(pk=case_id)
            more = rs.state == S.ATTACHED
            if case.purged_at is not None or case.status not in OPEN:
                if actor is not None or more:
                    raise ServiceError(f"{case.reference} is no longer open; nothing was attached.")
                _move(rs, S.UNMATCHED)
                rs.match_note = "the matched case closed before the study was attached"
                _release(rs)
                rs.save()
                return rs
            mri_file = mri_file_add(uploaded=uploaded, case=case)
            stored_name = mri_file.stored_name
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.FILE,
                actor=actor,
                summary=f"DICOM study #{rs.pk} received by the clinic's DICOM node ({how})"[:200],
            )
            if case.status == Status.AWAITING_MRI and can_transition(case.status, Status.MRI_RECEIVED):
                case_transition(case_id=case.pk, to_status=Status.MRI_RECEIVED, actor=actor)
            _move(rs, S.ATTACHED)
            if not more:
                rs.case = case
                rs.mri_file = mri_file
                rs.match_note = how[:80]
                rs.attached_at = now
                rs.attached_by = actor
            rs.attached_instances = [*rs.attached_instances, *instance_ids]
            rs.more_images = False
            rs.last_error = ""
            rs.next_attempt_at = None
            _release(rs)
            rs.save()
            audit_record(
                action=AuditEntry.Action.CHANGE,
                summary=f"DICOM study #{rs.pk} attached as MRI file #{mri_file.pk} ({how})",
                actor=actor,
                object_type="case",
                object_ref=case.reference,
            )
            return rs
    except BaseException:
        # Stored, but its row did not commit: the object must not outlive it.
        if stored_name is not None:
            try:
                storage.delete_stored(stored_name)
            except storage.StorageUnavailable:
                log.error("DICOM node: stored object %s… could not be deleted after a failed attach", stored_name[:6])
        raise


# --- Retention -------------------------------------------------------------------------------
HEADER_BLANK = {
    "study_description": "",
    "accession_number": "",
    "patient_id": "",
    "patient_name": "",
    "patient_birth_date": None,
}


def received_studies_purge(*, now: datetime | None = None) -> dict:
    """A study's header (name, IDs, birth date) is health data, kept no longer than its case.

    - attached to a case that retention purged (or that was deleted): the header is blanked;
    - unmatched or refused for longer than ``INTAKE_RETENTION_DAYS``: the record is deleted.
    Orthanc's own copy is the DICOM node's retention, configured in Orthanc.
    """
    now = now or clock.now()
    with_header = ReceivedStudy.objects.exclude(**HEADER_BLANK)
    blanked = with_header.filter(case__purged_at__isnull=False).update(**HEADER_BLANK) + with_header.filter(
        state=S.ATTACHED, case__isnull=True
    ).update(**HEADER_BLANK)
    cutoff = now - timedelta(days=settings.INTAKE_RETENTION_DAYS)
    expired = ReceivedStudy.objects.filter(state__in=[S.UNMATCHED, S.REJECTED, S.DISMISSED], received_at__lt=cutoff)
    ids = list(expired.values_list("pk", flat=True)[:1000])
    deleted = ReceivedStudy.objects.filter(pk__in=ids).delete()[0] if ids else 0
    if blanked or deleted:
        audit_record(
            action=AuditEntry.Action.PURGE,
            summary=f"Received imaging: {blanked} header(s) of purged cases blanked, "
            f"{deleted} unmatched or refused record(s) past retention deleted",
            object_type="received_study",
        )
    return {"blanked": blanked, "deleted": deleted}
