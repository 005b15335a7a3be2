"""Reads: status tokens, the patient's stage, timelines. No writes here."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .transitions import PATIENT_STAGE, SETTLED, Status
from .models import ReviewRequest

STATUS_SALT = "intake.status-link"


def status_token(case: ReviewRequest) -> str:
    return signing.dumps({"r": case.reference}, salt=STATUS_SALT, compress=False)


def status_link(case: ReviewRequest) -> str:
    return reverse("intake:status", args=[status_token(case)])


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def case_for_token(token: str) -> ReviewRequest:
    max_age = settings.INTAKE_STATUS_TOKEN_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=STATUS_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired from None
    except signing.BadSignature:
        raise TokenInvalid from None
    case = ReviewRequest.objects.filter(reference=data.get("r"), purged_at__isnull=True).select_related("queue").first()
    if case is None:
        raise TokenInvalid
    return case


def patient_stage(case: ReviewRequest) -> dict:
    headline, next_step = PATIENT_STAGE[Status(case.status)]
    promised = None if case.status in SETTLED else case.sla_due_at
    return {"headline": headline, "next_step": next_step, "promised": promised, "reference": case.reference}


def promised_by(case: ReviewRequest):
    """When the clinic promised to answer: the routed SLA, or, before routing
    has happened, what the current rules would promise (read-only)."""
    if case.sla_due_at is not None:
        return case.sla_due_at
    from .models import RoutingRule
    from .rules import CaseFacts, decide
    from .services.routing import sla_due

    rules = RoutingRule.objects.filter(is_active=True, target_queue__is_active=True).select_related("target_queue")
    decision = decide(CaseFacts.of(case), list(rules))
    return sla_due(decision.queue, case.created_at) if decision.queue else None
