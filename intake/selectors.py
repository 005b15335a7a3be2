"""Reads: the patient's stage and promised date. No writes here.

The status-link tokens are in ``intake.status_links``.
"""

from . import sla
from .models import ReviewRequest, RoutingRule
from .patient_steps import IMAGE_STATUSES, IMAGES_IN_HAND_STAGE, NO_MRI_STAGE, URGENT_STAGE, patient_steps
from .rules import CaseFacts, decide
from .transitions import PATIENT_STAGE, SETTLED, Status


def patient_stage(case: ReviewRequest) -> dict:
    images = has_images(case)
    status = Status(case.status)
    headline, next_step = PATIENT_STAGE[status]
    if not images and status in NO_MRI_STAGE:
        headline, next_step = NO_MRI_STAGE[status]
    if case.is_urgent and status in URGENT_STAGE:
        headline, next_step = URGENT_STAGE[status]
    elif case.mri_received_at is not None and status in IMAGES_IN_HAND_STAGE:
        headline, next_step = IMAGES_IN_HAND_STAGE[status]
    promised = None if case.status in SETTLED else case.sla_due_at
    return {
        "headline": headline,
        "next_step": next_step,
        "promised": promised,
        "reference": case.reference,
        "steps": patient_steps(case.status, images=images),
    }


def has_images(case: ReviewRequest) -> bool:
    """Is an MRI part of this request (said to be coming, asked for, or received)?
    Patient-facing words about "your MRI" are shown only then."""
    return case.mri_expected or case.status in IMAGE_STATUSES or case.mri_received_at is not None


def promised_by(case: ReviewRequest):
    """When the clinic promised to answer: the routed SLA, or, before routing
    has happened, what the current rules would promise (read-only)."""
    if case.sla_due_at is not None:
        return case.sla_due_at
    rules = RoutingRule.objects.filter(is_active=True, target_queue__is_active=True).select_related("target_queue")
    decision = decide(CaseFacts.of(case), list(rules))
    return sla.due_at(decision.queue, case.created_at) if decision.queue else None
