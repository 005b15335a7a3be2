"""Reads for partners. A partner sees its own referrals, in the patient's plain stages."""

from intake.models import ReviewRequest
from intake.selectors import promised_by
from intake.transitions import PATIENT_STAGE, Status

from .models import Partner, Referral


def stage_of(status: str) -> dict:
    headline, next_step = PATIENT_STAGE[Status(status)]
    return {"key": status, "headline": str(headline), "next_step": str(next_step)}


def referral_for(*, partner: Partner, reference: str) -> Referral | None:
    """The partner's own referral with this reference; None for anyone else's."""
    return (
        Referral.objects.select_related("case")
        .filter(partner=partner, case__reference=reference.upper(), case__purged_at__isnull=True)
        .first()
    )


def referrals_of(partner: Partner):
    return Referral.objects.select_related("case").filter(partner=partner, case__purged_at__isnull=True)


def referral_status(referral: Referral) -> dict:
    case = referral.case
    return {
        "reference": case.reference,
        "stage": stage_of(case.status),
        "promised_by": promised_by(case),
        "urgent": case.is_urgent,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }


def case_for_export(*, partner: Partner, reference: str) -> ReviewRequest | None:
    """The EHR (kind ``ehr``) is the clinic's own record system and may export
    any case; a referring practice or lead partner only cases it referred."""
    cases = ReviewRequest.objects.filter(reference=reference.upper(), purged_at__isnull=True)
    if partner.kind != Partner.Kind.EHR:
        cases = cases.filter(referral__partner=partner)
    return cases.first()
