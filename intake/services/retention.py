"""Retention: cases closed or without response for longer than
INTAKE_RETENTION_DAYS lose their files and personal data; an anonymous stub
(status, queue, dates, source) stays so the funnel still counts."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.models import AuditEntry, audit_record

from ..lifecycle import RETENTION_ENDED
from ..models import CaseEvent, ReviewRequest
from ..storage import delete_stored

# Blanked on purge. Kept: reference, kind, status, queue, rule, dates, source,
# is_urgent, decision reason category (no free text).
PERSONAL_FIELDS = {
    "first_name": "", "last_name": "", "date_of_birth": None, "email": "", "phone": "", "postal_code": "",
    "contact_method": "", "contact_time": "", "regions": [], "side": "", "pain_duration": "", "severity": None,
    "radiating_pain": None, "numbness": None, "weakness": None, "diagnoses": [], "diagnosis_other": "",
    "treatments": {}, "prior_surgery": None, "prior_surgery_details": "", "mri_taken_on": None, "mri_region": "",
    "imaging_centre": "", "red_flags": [], "consent_ip": None, "consent_user_agent": "", "source_page": "",
    "routing_reason": "",
}  # fmt: skip


def expired_cases(now=None):
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INTAKE_RETENTION_DAYS)
    return ReviewRequest.objects.filter(status__in=RETENTION_ENDED, updated_at__lt=cutoff, purged_at__isnull=True)


def case_purge(*, case_id: int, now=None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        case = ReviewRequest.objects.select_for_update().get(pk=case_id)
        if case.purged_at is not None:
            return False
        for f in case.files.all():
            delete_stored(f.stored_name)
        case.files.all().delete()
        for field, blank in PERSONAL_FIELDS.items():
            setattr(case, field, blank)
        # Staff's free text goes too; the timeline keeps its PHI-free summaries.
        case.events.exclude(body="").update(body="")
        case.notifications.update(recipient="purged@invalid")
        case.purged_at = now
        case.save()
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.PURGED, summary="Personal data and files removed")
        audit_record(
            action=AuditEntry.Action.PURGE, summary="Retention purge", object_type="case", object_ref=case.reference
        )
    return True


def cases_purge_expired(*, dry_run: bool, now=None) -> dict:
    qs = expired_cases(now)
    refs = list(qs.values_list("reference", flat=True)[:5000])
    purged = 0
    if not dry_run:
        for pk in qs.values_list("pk", flat=True)[:5000]:
            purged += case_purge(case_id=pk, now=now)
    return {"candidates": refs, "purged": purged}
