"""The status page's review sections, placed by intake's status template:

    {% load reviews_patient %}{% patient_result stage.reference %}{% patient_consult stage.reference %}

Each reads through reviews.selectors and renders its include; nothing is
shown until there is something to show. The status page is rendered only
after the date-of-birth check, so these never appear before it."""

from django import template
from django.conf import settings

from intake.models import ReviewRequest

from ..selectors import consult_current, letter_for_patient

register = template.Library()


def _case(reference):
    return ReviewRequest.objects.filter(reference=reference, purged_at__isnull=True).first()


def _token(context) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return (match.kwargs.get("token") if match else "") or ""


@register.inclusion_tag("reviews/_patient_result.html", takes_context=True)
def patient_result(context, reference):
    case = _case(reference)
    version = letter_for_patient(case)
    return {
        "case": case,
        "review": version,
        "token": _token(context),
        "has_mri": bool(case and (case.mri_expected or case.mri_received_at)),
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
    }


@register.inclusion_tag("reviews/_patient_consult.html", takes_context=True)
def patient_consult(context, reference):
    case = _case(reference)
    consult = consult_current(case.pk) if case and case.status == "consult_scheduled" else None
    return {"consult": consult, "token": _token(context), "clinic_phone": settings.INTAKE_CLINIC_PHONE}
