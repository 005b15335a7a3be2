"""The clinic's questions and the patient's actions on the status page.

Every patient action here writes a timeline event (CaseEvent) and an audit
entry (ids and kinds only, never the patient's words); status changes go
through intake's ``case_transition``, which checks the transitions table and
pauses or resumes the SLA clock (intake.sla), so none of that is repeated here.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from clinic.models import AuditEntry, audit_record
from intake import clock
from intake.choices import ContactMethod, DecisionReason
from intake.models import CaseEvent, ReviewRequest
from intake.services.errors import ServiceError
from intake.services.lifecycle import case_lock, case_save, case_transition  # the one owner of the row lock
from intake.services.notifications import notification_request
from intake.transitions import Status, can_transition

from ..models import PatientRequest

STAFF_PATIENT_ANSWERED = "staff_patient_answered"
# Where a case goes back to when the patient has answered (intake.transitions allows each).
RETURN_TO: dict[str, str] = {Status.NEEDS_MORE_INFO: Status.IN_REVIEW, Status.AWAITING_MRI: Status.MRI_RECEIVED}


def _audit(case: ReviewRequest, summary: str, actor=None) -> None:
    audit_record(
        action=AuditEntry.Action.CHANGE, summary=summary, actor=actor, object_type="case", object_ref=case.reference
    )


def patient_request_open(*, case_id: int, kind: str, questions: str, actor) -> PatientRequest:
    """Staff ask the patient for more information or for the images.

    Images: the case moves to ``awaiting_mri`` (the SLA pauses) if the table
    allows. Information on a case in review: it moves to ``needs_more_info``,
    a clinical decision, so only a clinician may (intake's rule). On any
    other open case the questions are put to the patient without a move.
    The patient hears through their channels (a status update)."""
    questions = (questions or "").strip()
    if not questions:
        raise ServiceError("Write the questions for the patient.")
    if kind not in PatientRequest.Kind.values:
        raise ServiceError("Choose what you are asking for.")
    with transaction.atomic():
        case = case_lock(case_id, None)
        if case.status in (Status.CLOSED, Status.WITHDRAWN, Status.NO_RESPONSE, Status.DUPLICATE):
            raise ServiceError(f"{case.reference} is {Status(case.status).label.lower()}; nothing can be asked.")
        request = PatientRequest.objects.create(case=case, kind=kind, questions=questions, asked_by=actor)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            actor=actor,
            summary=f"Asked the patient for {request.get_kind_display().lower()} (status page)",
            body=questions,
        )
        _audit(case, f"Patient request #{request.pk} opened ({kind})", actor)
        target = Status.AWAITING_MRI if kind == PatientRequest.Kind.IMAGES else Status.NEEDS_MORE_INFO
        if case.status != target and can_transition(case.status, target):
            if target == Status.NEEDS_MORE_INFO:
                case_transition(
                    case_id=case.pk,
                    to_status=target,
                    actor=actor,
                    reason_category=DecisionReason.NEEDS_INFO,
                    note=questions,
                )
            else:
                case_transition(case_id=case.pk, to_status=target, actor=actor)
        elif case.status != target:
            # No move (and so no status update from the transition): tell the patient here.
            from .contact import patient_update_request

            patient_update_request(case=case)
    return request


def patient_request_answer(*, case_id: int, request_id: int, answer: str) -> PatientRequest:
    """The patient answers the clinic's questions (and may have uploaded files
    first): the case returns to its queue's work (needs_more_info -> in_review;
    awaiting_mri -> mri_received once a file came), the SLA clock resumes, and
    the assigned staff member (or, with none, the queue's members) is told."""
    answer = (answer or "").strip()
    now = clock.now()
    with transaction.atomic():
        case = case_lock(case_id, None)
        request = PatientRequest.objects.select_for_update().filter(pk=request_id, case=case).first()
        if request is None or request.state != PatientRequest.State.OPEN:
            raise ServiceError(_("These questions were already answered or withdrawn."))
        new_files = case.files.filter(uploaded_at__gte=request.asked_at).count()
        if not answer and not new_files:
            raise ServiceError(_("Please write your answer, or upload a file first."))
        request.state = PatientRequest.State.ANSWERED
        request.answer = answer
        request.answered_at = now
        request.save(update_fields=["state", "answer", "answered_at"])
        files_note = f", {new_files} new file(s)" if new_files else ""
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            summary=f"The patient answered the clinic's questions on the status page{files_note}",
            body=answer,
            created_at=now,
        )
        _audit(case, f"Patient answered request #{request.pk} ({new_files} new file(s))")
        target = RETURN_TO.get(case.status)
        if target == Status.MRI_RECEIVED and not case.files.exists():
            target = None  # an answer without images: still waiting for them
        if target and not case.patient_requests.filter(state=PatientRequest.State.OPEN).exists():
            case = case_transition(case_id=case.pk, to_status=target)
        _tell_staff(case, occasion=str(request.pk))
    return request


def _tell_staff(case: ReviewRequest, *, occasion: str) -> None:
    """The assigned staff member, or with none the queue's active members."""
    users: list = []
    if case.assigned_to is not None and case.assigned_to.email:
        users = [case.assigned_to]
    elif case.queue is not None:
        members = case.queue.memberships.filter(is_active=True, user__is_active=True).select_related("user")
        users = [m.user for m in members]
    for user in users:
        notification_request(
            case=case,
            kind=STAFF_PATIENT_ANSWERED,
            recipient=user.email,
            key=f"{STAFF_PATIENT_ANSWERED}:{occasion}:{user.pk}",
        )


def patient_withdraw(*, case_id: int) -> ReviewRequest:
    """The patient withdraws the request (after confirming on the status page)."""
    with transaction.atomic():
        case = case_lock(case_id, None)
        if not can_transition(case.status, Status.WITHDRAWN):
            raise ServiceError(_("This request can no longer be withdrawn online. Please call us."))
        case.patient_requests.filter(state=PatientRequest.State.OPEN).update(state=PatientRequest.State.CANCELLED)
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.NOTE, summary="The patient withdrew the request on the status page"
        )
        _audit(case, "Patient withdrew the request")
        case = case_transition(case_id=case.pk, to_status=Status.WITHDRAWN)
    return case


def patient_contact_change(
    *, case_id: int, consent_email: bool, consent_text: bool, consent_phone: bool, contact_method: str
) -> ReviewRequest:
    """The patient changes how the clinic may contact them. The preferred
    method must be one they allow, and each allowed one needs its address."""
    if not (consent_email or consent_text or consent_phone):
        raise ServiceError(_("Please allow at least one way for us to contact you."))
    with transaction.atomic():
        case = case_lock(case_id, None)
        if consent_email and not case.email:
            raise ServiceError(_("We have no email address for you; please call us to add one."))
        if (consent_text or consent_phone) and not case.phone:
            raise ServiceError(_("We have no phone number for you; please call us to add one."))
        allowed: dict[str, bool] = {
            ContactMethod.EMAIL: consent_email,
            ContactMethod.TEXT: consent_text,
            ContactMethod.PHONE: consent_phone,
        }
        if not allowed.get(contact_method):
            raise ServiceError(_("Your preferred way must be one you allow."))
        before = (case.consent_email, case.consent_text, case.consent_phone, case.contact_method)
        after = (consent_email, consent_text, consent_phone, contact_method)
        if before == after:
            return case
        case.consent_email, case.consent_text, case.consent_phone, case.contact_method = after
        case.consented_at = clock.now()
        case.full_clean(validate_unique=False, validate_constraints=False)
        case_save(case)
        said = f"email {'yes' if consent_email else 'no'}, text {'yes' if consent_text else 'no'}, "
        said += f"phone {'yes' if consent_phone else 'no'}; prefers {contact_method}"
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.NOTE, summary=f"The patient changed contact preferences: {said}"
        )
        _audit(case, f"Patient changed contact preferences: {said}")
    return case


def patient_file_add(*, case_id: int, uploaded):
    """A file the patient sends from the status page: the same checks and
    encryption as in the request (intake.services.files.mri_file_add), only
    while the clinic asks for something."""
    from intake.services.files import mri_file_add

    case = ReviewRequest.objects.get(pk=case_id)
    if not (
        case.status == Status.AWAITING_MRI or case.patient_requests.filter(state=PatientRequest.State.OPEN).exists()
    ):
        raise ServiceError(_("We are not waiting for files on this request."))
    f = mri_file_add(uploaded=uploaded, case=case)
    _audit(case, f"Patient uploaded file #{f.pk} ({f.file_type}) on the status page")
    if (
        case.status == Status.AWAITING_MRI
        and not case.patient_requests.filter(state=PatientRequest.State.OPEN).exists()
    ):
        # Waiting for images with no questions to answer: the file is the answer.
        with transaction.atomic():
            case = case_transition(case_id=case.pk, to_status=Status.MRI_RECEIVED)
            _tell_staff(case, occasion=f"file{f.pk}")
    return f
