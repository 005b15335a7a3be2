"""The patient's downloads from the status page: the result letter and the
clinical summary (PDF) and the consult (.ics). Only for the session that
passed the date-of-birth check (reviews.access); never cached; each recorded
in the audit trail. The URL holds the signed status token only."""

from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from clinic.models import AuditEntry, audit_record
from intake.ratelimit import downloads_limited, too_many_downloads

from . import documents
from .access import verified_case
from .selectors import consult_current, letter_for_patient


def _send(request, case, body, content_type: str, filename: str, what: str) -> HttpResponse:
    audit_record(
        action=AuditEntry.Action.VIEW_CASE,
        summary=f"Patient downloaded the {what} from the status page",
        request=request,
        object_type="case",
        object_ref=case.reference,
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _case_and_review(request, token):
    case = verified_case(request, token)
    if case is None:
        raise Http404("Open your status page and enter your date of birth first.")
    version = letter_for_patient(case)
    if version is None:
        raise Http404("No result yet.")
    return case, version


@require_GET
def letter_pdf(request, token: str):
    case, version = _case_and_review(request, token)
    if downloads_limited(request, case):
        return too_many_downloads(request, case)
    # The language the case's pages speak (intake.status_links.CaseLanguageMiddleware).
    pdf = documents.letter_pdf(case, version, language=get_language())
    return _send(request, case, pdf, "application/pdf", f"result-{case.reference}.pdf", "result letter")


@require_GET
def summary_pdf(request, token: str):
    case, version = _case_and_review(request, token)
    if downloads_limited(request, case):
        return too_many_downloads(request, case)
    pdf = documents.summary_pdf(case, version)
    return _send(request, case, pdf, "application/pdf", f"summary-{case.reference}.pdf", "clinical summary")


@require_GET
def consult_ics(request, token: str):
    case = verified_case(request, token)
    consult = consult_current(case.pk) if case else None
    if consult is None:
        raise Http404("No consultation booked.")
    ics = documents.consult_ics(consult)
    return _send(request, case, ics, "text/calendar; charset=utf-8", "consultation.ics", "consult calendar file")
