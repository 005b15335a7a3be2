"""The status page's review sections, placed by intake's status template:

    {% load reviews_patient %}{% patient_consult stage.reference %} ... {% patient_result stage.reference %}

and the consult line of the patient's result and update messages:

    {% consult_booked reference as consult %}{% if consult %}... {{ consult.date }} ...{% endif %}

Each reads through reviews.selectors and reviews.documents (one wording of the
consult and the letter for the page, the PDF and the messages) and renders its
include; nothing is shown until there is something to show. The status page
is rendered only after the date-of-birth check, so these never appear before it."""

from django import template
from django.conf import settings

from intake.models import ReviewRequest

from ..documents import booked_consult, consult_shown, letter_context
from ..selectors import letter_for_patient

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
    if version is None:
        return {"review": None}
    return {**letter_context(case, version), "token": _token(context)}


@register.inclusion_tag("reviews/_patient_consult.html", takes_context=True)
def patient_consult(context, reference):
    case = _case(reference)
    consult = booked_consult(case)
    return {
        "consult": consult_shown(consult),
        "reference": reference,
        "token": _token(context),
        "clinic_phone": settings.INTAKE_CLINIC_PHONE,
    }


@register.simple_tag
def consult_booked(reference):
    """The booked consult in words (reviews.documents.consult_shown), or None:
    for the patient's messages, which say that a consult is booked and when,
    never why. Formatted in the active language (the message's)."""
    return consult_shown(booked_consult(_case(reference)))
