"""The two-way part of the patient's status page (questions, files, withdraw,
contact preferences): what intake's status view asks patientloop for, the one
entry from the request app into this app's pages. Reads and unbound forms
only; the actions post to patientloop.views."""

from django.conf import settings

from .forms import AnswerForm, ContactPreferencesForm
from .selectors import status_loop


def status_loop_context(request, case, token: str) -> dict:
    """What the status page's two-way part needs (intake's status view adds it)."""
    loop = status_loop(case)
    loop["answer_forms"] = [(r, AnswerForm(prefix_id=r.pk)) for r in loop["open_requests"]]
    loop["contact_form"] = ContactPreferencesForm(
        case=case,
        initial={
            "consent_email": case.consent_email,
            "consent_text": case.consent_text,
            "consent_phone": case.consent_phone,
            "contact_method": case.contact_method or "phone",
        },
    )
    loop["max_file_mb"] = settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024)
    return {"loop": loop, "token": token, "case": case}
