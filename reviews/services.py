"""Writes of the reviews app: the structured review, the consult, reminders.

Each function runs in one transaction, checks who may write, cleans its rows
and moves the case only through ``intake.services.lifecycle.case_transition``
(the one writer of a case's status, which also records the event, the audit
entry and the patient's "there is an update" notice).
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.models import AuditEntry, audit_record
from imaging.selectors import case_images_opened_by
from intake import clock
from intake.choices import DecisionReason
from intake.models import Notification, ReviewRequest
from intake.services.errors import CaseConflict, ServiceError
from intake.services.lifecycle import case_transition
from intake.services.notifications import notify_patient
from intake.transitions import Status, can_transition
from patientloop.models import PatientRequest
from patientloop.services.contact import patient_message
from patientloop.services.requests import patient_request_open

from .choices import LEVEL_ORDER, Decision
from .models import Consult, LevelFinding, Review, ReviewVersion

# Each decision: the case status it moves to and the reason category the
# lifecycle requires. "New imaging needed" is a request for more information
# (the only decision the table allows for it), with the imaging reason; the
# patient is asked for the images on the status page (PATIENT_ASKED below).
DECISION_MOVES = {
    Decision.CANDIDATE: (Status.CANDIDATE, DecisionReason.SURGICAL_CANDIDATE),
    Decision.NOT_CANDIDATE: (Status.NOT_CANDIDATE, DecisionReason.CONSERVATIVE),
    Decision.NEEDS_MORE_INFO: (Status.NEEDS_MORE_INFO, DecisionReason.NEEDS_INFO),
    Decision.NEW_IMAGING: (Status.NEEDS_MORE_INFO, DecisionReason.IMAGING_INSUFFICIENT),
}

# Decisions that ask the patient for something, and what they are asked for.
PATIENT_ASKED = {
    Decision.NEEDS_MORE_INFO: PatientRequest.Kind.INFORMATION,
    Decision.NEW_IMAGING: PatientRequest.Kind.IMAGES,
}

FINDING_FIELDS = (
    "disc_bulge",
    "herniation",
    "herniation_side",
    "central_stenosis",
    "foraminal_side",
    "foraminal_grade",
    "spondylolisthesis",
    "other",
)
VERSION_FIELDS = ("impression", "decision", "decision_detail", "next_step")
# The same patient-facing text in the patient's language (ReviewVersion).
PATIENT_FIELDS = ("impression_patient", "decision_detail_patient", "next_step_patient")


class ImagesNotOpened(ServiceError):
    """A decision without the images opened and without a reason."""


NOT_OPENED = (
    "Not saved: you have not opened this case's images. Open them in the viewer beside the form, "
    "or say in “Deciding without the images” why you decide without them "
    "(for example “report only, no images sent”)."
)


def can_write_review(user) -> bool:
    """The clinician permission, the same one the lifecycle asks for decisions."""
    return bool(user and (user.is_superuser or user.has_perm("intake.record_decision")))


def review_images_opened(*, case: ReviewRequest, user) -> bool:
    """The decision rule's first half, for the form's notice (see review_save)."""
    return case_images_opened_by(case=case, user=user)


def can_schedule_consult(user) -> bool:
    return bool(user and (user.is_superuser or user.has_perm("intake.change_reviewrequest")))


def review_save(*, case: ReviewRequest, author, data: dict, expected_version: int) -> ReviewVersion:
    """Save a new version of ``case``'s review and move the case to its decision.

    ``data``: impression, decision, decision_detail, next_step and ``findings``
    (a list of dicts with ``level`` and the LevelFinding fields; empty ones are
    dropped); the patient-language text (``PATIENT_FIELDS``), and
    ``no_images_reason``. ``expected_version``: the number of versions the
    author's form saw (0 for the first), so two clinicians cannot overwrite
    each other.

    The decision rule: the author has opened the case's images (the viewer's
    read audit: ``imaging.selectors.case_images_opened_by``), or states why
    they decide without them; else ``ImagesNotOpened`` and nothing is saved.
    An amendment that keeps the decision leaves the case's status alone; one
    that changes it must be a move the transitions table allows.
    """
    if not can_write_review(author):
        raise ServiceError("Only clinicians write reviews.")
    opened = case_images_opened_by(case=case, user=author)
    reason = (data.get("no_images_reason") or "").strip()
    if not opened and not reason:
        raise ImagesNotOpened(NOT_OPENED)
    with transaction.atomic():
        review, _ = Review.objects.select_for_update().get_or_create(case=case)
        if review.version != expected_version:
            raise CaseConflict(
                f"{case.reference}'s review was changed by someone else a moment ago. Reload the page to see it."
            )
        number = review.version + 1
        version = ReviewVersion(
            review=review,
            number=number,
            author=author,
            created_at=clock.now(),
            **{f: (data.get(f) or "").strip() for f in VERSION_FIELDS + PATIENT_FIELDS},
            patient_language=case.language,
            images_opened=opened,
            no_images_reason=reason,
        )
        if version.decision and version.decision != Decision.CANDIDATE and not version.decision_detail:
            raise ServiceError(f"“{Decision(version.decision).label}” needs its detail (the plan, what or which).")
        _clean(version)
        version.save()
        findings = _findings(version, data.get("findings") or [])
        LevelFinding.objects.bulk_create(findings)
        review.version = number
        review.save(update_fields=["version"])
        _move_case(case, version, author)
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Structured review version {number} saved ({version.decision})"
            + ("" if opened else "; decided without opening the images, reason given"),
            actor=author,
            object_type="case",
            object_ref=case.reference,
        )
    return version


def _clean(obj, exclude=None) -> None:
    """full_clean, reported as the ServiceError the staff views show."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ServiceError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc


def _findings(version: ReviewVersion, rows: list[dict]) -> list[LevelFinding]:
    findings, seen = [], set()
    for row in rows:
        level = row.get("level")
        values = {f: row.get(f) for f in FINDING_FIELDS}
        if not level or not any(values.values()):
            continue
        if level in seen:
            raise ServiceError(f"Level {level} is listed twice.")
        seen.add(level)
        finding = LevelFinding(
            version=version, level=level, **{f: (v if v is not None else "") for f, v in values.items()}
        )
        finding.disc_bulge, finding.herniation = bool(values["disc_bulge"]), bool(values["herniation"])
        if finding.herniation and not finding.herniation_side:
            raise ServiceError(f"Level {level}: a herniation needs its side.")
        if bool(finding.foraminal_side) != bool(finding.foraminal_grade):
            raise ServiceError(f"Level {level}: foraminal stenosis needs both a side and a grade.")
        _clean(finding, exclude=["version"])
        findings.append(finding)
    return sorted(findings, key=lambda f: LEVEL_ORDER[f.level])


def _move_case(case: ReviewRequest, version: ReviewVersion, author) -> None:
    to_status, reason = DECISION_MOVES[Decision(version.decision)]
    current = ReviewRequest.objects.filter(pk=case.pk).values_list("status", flat=True).get()
    if current == to_status:
        # An amendment with the same decision: the letter changes, the status
        # does not. The patient hears that their result was updated.
        notify_patient(case, Notification.Kind.PATIENT_STATUS, f"result:{version.pk}")
        return
    if not can_transition(current, to_status) and can_transition(current, Status.IN_REVIEW):
        # Written straight from "MRI received" or after the patient's answer:
        # the review is what puts the case in review.
        case_transition(case_id=case.pk, to_status=Status.IN_REVIEW, actor=author)
    note = f"Structured review version {version.number}: {Decision(version.decision).label}."
    # The lifecycle raises IllegalTransition (rolling the version back) for a
    # move the table does not allow, e.g. "not a candidate" after "candidate".
    case_transition(case_id=case.pk, to_status=to_status, actor=author, reason_category=reason, note=note)
    if version.decision in PATIENT_ASKED:
        # The patient answers (or sends the images) on the status page:
        # patientloop's request, which for images also moves the case on to
        # "awaiting MRI" so the SLA waits for them.
        patient_request_open(
            case_id=case.pk,
            kind=PATIENT_ASKED[version.decision],
            # The patient reads the questions in their own language when the clinician wrote them so.
            questions=version.decision_detail_patient or version.decision_detail,
            actor=author,
        )


def case_reviews_purge(*, case: ReviewRequest) -> None:
    """The retention purge's part for this app (INTAKE_PURGE_HOOKS): the review
    with every version and finding, and the consults, go with the patient's data.
    The case's status and decision time stay for the funnel, as intake keeps them."""
    Review.objects.filter(case=case).delete()
    Consult.objects.filter(case=case).delete()


# --- The consult ------------------------------------------------------------------
def consult_schedule(
    *,
    case: ReviewRequest,
    actor,
    starts_at: datetime,
    clinician,
    place: str = "",
    video_url: str = "",
    duration_minutes: int = 30,
    expected_version: int | None = None,
) -> Consult:
    """Book a candidate's consult and move the case to "consult scheduled"."""
    if not can_schedule_consult(actor):
        raise ServiceError("You may not schedule consults.")
    if not (clinician.is_superuser or clinician.has_perm("intake.record_decision")):
        raise ServiceError(f"{clinician.get_username()} is not a clinician.")
    if not (place.strip() or video_url.strip()):
        raise ServiceError("A consult needs a place or a video link.")
    if starts_at <= timezone.now():
        raise ServiceError("A consult must be in the future.")
    with transaction.atomic():
        consult = Consult(
            case=case,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            place=place.strip(),
            video_url=video_url.strip(),
            clinician=clinician,
            created_by=actor,
            created_at=clock.now(),
        )
        _clean(consult)
        consult.save()
        # The lifecycle checks the move (only a candidate) and tells the patient.
        case_transition(
            case_id=case.pk, to_status=Status.CONSULT_SCHEDULED, actor=actor, expected_version=expected_version
        )
    return consult


def consult_reminders_send(*, now=None) -> int:
    """Ask for one reminder per consult that starts tomorrow (clinic time).

    Safe to run as often as beat likes: each message's dedupe key names the
    consult, so a second run records a repeat and sends nothing.
    """
    now = now or clock.now()
    today = timezone.localtime(now).date()
    tz = timezone.get_current_timezone()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=1)
    consults = (
        Consult.objects.filter(
            starts_at__gte=start,
            starts_at__lt=end,
            case__status=Status.CONSULT_SCHEDULED,
            case__purged_at__isnull=True,
        )
        .select_related("case")
        .order_by("starts_at")
    )
    count = 0
    for consult in consults:
        if consult.case.consults.order_by("-created_at").values_list("pk", flat=True).first() != consult.pk:
            continue  # rebooked since: only the latest booking is reminded
        # Sent now (not held and combined like status updates) through the
        # channels the patient agreed to, recorded once by a key naming the consult.
        with transaction.atomic():
            patient_message(
                case=consult.case,
                kind=Notification.Kind.PATIENT_STATUS,
                key=f"{Notification.Kind.PATIENT_STATUS}:{consult.case_id}:consult-reminder:{consult.pk}",
                status_shown=consult.case.status,
            )
        count += 1
    return count
