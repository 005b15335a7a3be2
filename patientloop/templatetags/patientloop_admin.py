"""The case page's panel: the clinic's questions to the patient, open call tasks,
and the form to ask (included in admin/intake/reviewrequest/case.html)."""

from django import template

from ..forms import TRIAGE_PERM, AskForm

register = template.Library()


@register.inclusion_tag("patientloop/_case_panel.html", takes_context=True)
def patientloop_case_panel(context, case):
    request = context["request"]
    return {
        "case": case,
        "requests": list(case.patient_requests.select_related("asked_by")),
        "calls": list(case.call_tasks.filter(done_at__isnull=True)),
        "can_ask": request.user.has_perm(TRIAGE_PERM),
        "ask_form": AskForm(),
        "csrf_token": context.get("csrf_token"),
    }
