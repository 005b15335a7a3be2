"""A patient's request becomes a case: one transaction, one outbox row."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import clock
from ..models import CaseEvent, MriFile, Outbox, ReviewRequest, new_reference
from ..signals import mri_files_attached
from ..transitions import OPEN
from .dispatch import celery_queue_for, enqueue_on_commit
from .notifications import Notification, notify_patient

# Answers the forms may set on a case; anything else in a draft is ignored.
CASE_FIELDS = {
    "first_name", "last_name", "date_of_birth", "email", "phone", "postal_code", "state",
    "contact_method", "contact_time", "submitted_by_guardian", "language",
    "regions", "side", "pain_duration", "severity", "radiating_pain", "numbness", "weakness",
    "diagnoses", "diagnosis_other", "treatments", "prior_surgery", "prior_surgery_details",
    "mri_status", "mri_taken_on", "mri_region", "imaging_centre",
    "source", "source_page",
    "consent_privacy", "consent_phone", "consent_text", "consent_email",
    "red_flags",
}  # fmt: skip


def find_duplicate(case: ReviewRequest):
    """An open case in the last 90 days with the same email or phone and the
    same date of birth. Flags and links; never rejects."""
    if not case.date_of_birth or not (case.email or case.phone):
        return None
    since = timezone.now() - timedelta(days=settings.INTAKE_DUPLICATE_WINDOW_DAYS)
    same_person = Q()
    if case.email:
        # The forms store email addresses lower-cased, so an exact match (which
        # the (email, date_of_birth) index serves) is a case-insensitive one.
        case.email = case.email.strip().lower()
        same_person |= Q(email=case.email)
    if case.phone:
        same_person |= Q(phone=case.phone)
    return (
        ReviewRequest.objects.filter(same_person, date_of_birth=case.date_of_birth, created_at__gte=since)
        .filter(status__in=OPEN, purged_at__isnull=True)
        .exclude(pk=case.pk)
        .order_by("created_at")
        .only("pk", "reference")  # whole rows cost 4x here, for two columns
        .first()
    )


def review_request_submit(
    *,
    answers: dict,
    kind: str = "review",
    draft_key: str = "",
    submission_key: str = "",
    ip: str | None = None,
    user_agent: str = "",
) -> ReviewRequest:
    """Save the case, its first event, its outbox row and the patient's
    confirmation in one transaction; routing is enqueued after commit.

    ``submission_key`` names the patient's draft: sending the same draft again
    (a resend after an error page, a double click, a retried request) returns
    the case it already made, whoever wins a race between the two.
    """
    if submission_key and (existing := case_for_submission(submission_key)) is not None:
        return existing
    # A reference is random (30^6 values); the unique constraint catches the
    # rare clash, and the whole transaction is simply tried again with a new one.
    for attempt in range(5):
        reference = new_reference()
        try:
            return _submit_once(
                reference,
                answers=answers,
                kind=kind,
                draft_key=draft_key,
                submission_key=submission_key,
                ip=ip,
                user_agent=user_agent,
            )
        except IntegrityError:
            if submission_key and (existing := case_for_submission(submission_key)) is not None:
                return existing  # the same draft, sent twice at once: the other one won
            if attempt == 4 or not ReviewRequest.objects.filter(reference=reference).exists():
                raise
    raise AssertionError("unreachable")


def case_for_submission(submission_key: str) -> ReviewRequest | None:
    """The case a draft (or call-back form) already became, if any."""
    return ReviewRequest.objects.filter(submission_key=submission_key).first() if submission_key else None


def _submit_once(reference, *, answers, kind, draft_key, submission_key, ip, user_agent):
    from ..tasks import route_case

    now = clock.now()
    values = {k: v for k, v in answers.items() if k in CASE_FIELDS}
    with transaction.atomic():
        case = ReviewRequest(
            reference=reference, kind=kind, created_at=now, submission_key=submission_key or None, **values
        )
        case.is_urgent = bool(case.red_flags)
        # Which text the patient agreed to: its version and the language shown.
        case.consent_version = f"{settings.INTAKE_CONSENT_VERSION}/{case.language}"
        case.consented_at = now
        case.consent_ip = ip
        case.consent_user_agent = (user_agent or "")[:300]
        dup = find_duplicate(case)
        if dup is not None:
            case.is_duplicate = True
            case.duplicate_of = dup
        case.full_clean(exclude=["reference", "submission_key"])  # both: the constraint decides
        case.save()
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.SUBMITTED, to_status=case.status, summary="Request received"
        )
        if dup is not None:
            CaseEvent.objects.create(
                case=case, kind=CaseEvent.Kind.DUPLICATE, summary=f"Possible duplicate of {dup.reference}"
            )
        if draft_key:
            n = MriFile.objects.filter(draft_key=draft_key, case__isnull=True).update(case=case, draft_key="")
            if n:
                CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.FILE, summary=f"{n} MRI file(s) uploaded")
                case.mri_received_at = now
                case.save(update_fields=["mri_received_at"])
                mri_files_attached.send(sender=MriFile, case=case, files=list(case.files.all()))
        Outbox.objects.create(case=case, created_at=now)
        notify_patient(case, Notification.Kind.PATIENT_CONFIRMATION, "confirmation", known_new=True)
        enqueue_on_commit(route_case, case.pk, celery_queue=celery_queue_for(case.is_urgent))
    return case
