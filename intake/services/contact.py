"""Logging a contact with the patient: a call, a text or an email.

This is the only writer of ``first_contact_at``: the dashboard's "median time
to first contact" is meant to measure when the clinic first reached out to the
patient, so it is stamped by a logged contact, not by a status change (a
clinician opening the review is not contact with the patient).
"""

from django.db import transaction

from clinic.models import AuditEntry, audit_record

from .. import clock
from ..choices import ContactMethod
from ..models import CaseEvent, ReviewRequest
from .errors import ServiceError
from .lifecycle import case_lock, case_save  # one owner of the row lock and version check


def case_log_contact(
    *, case_id: int, method: str, actor, note: str = "", expected_version: int | None = None
) -> ReviewRequest:
    """Record that ``actor`` contacted the patient by ``method`` (a
    ``ContactMethod``); the first one logged stamps ``first_contact_at``.
    The note is internal, like any staff note."""
    if method not in ContactMethod.values:
        raise ServiceError("Choose how the patient was contacted: call, text or email.")
    now = clock.now()
    label = ContactMethod(method).label
    with transaction.atomic():
        case = case_lock(case_id, expected_version)
        first = case.first_contact_at is None
        if first:
            case.first_contact_at = now
        case_save(case)
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.NOTE,
            actor=actor,
            summary=f"Contact logged: {label.lower()}" + (" (first contact)" if first else ""),
            body=(note or "").strip(),
            created_at=now,
        )
        # Ids and the method only: the note stays on the timeline, out of the audit trail.
        audit_record(
            action=AuditEntry.Action.CHANGE,
            summary=f"Contact logged ({method})",
            actor=actor,
            object_type="case",
            object_ref=case.reference,
        )
    return case
