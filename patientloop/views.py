"""The patient's actions on the status page: answer the clinic's questions,
send more files, withdraw, change contact preferences.

Each needs this browser to have passed the date-of-birth check for this case
in the last INTAKE_PATIENT_VERIFIED_MINUTES (intake.patient_session); each is a
POST (CSRF-protected by Django's middleware), rate-limited per address and
per case, and hands its data to one service."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from intake.patient_session import patient_verified
from intake.ratelimit import client_address, limit_exceeded, too_many
from intake.services.alerts import storage_failure_alert
from intake.services.errors import ServiceError
from intake.status_links import TokenExpired, TokenInvalid, case_for_token
from intake.storage import StorageUnavailable
from intake.uploads import UploadRejected

from .forms import AnswerForm, ContactPreferencesForm, WithdrawForm
from .services.requests import patient_contact_change, patient_file_add, patient_request_answer, patient_withdraw


def _status_url(token: str, anchor: str = "") -> str:
    return reverse("intake:status", args=[token]) + (f"#{anchor}" if anchor else "")


def _case(request, token: str):
    """The case of a valid link whose date-of-birth check this browser passed, or None."""
    try:
        case = case_for_token(token)
    except (TokenExpired, TokenInvalid):
        raise Http404 from None
    return case if patient_verified(request, case) else None


def _limited(request, case) -> bool:
    limit = settings.INTAKE_PATIENT_ACTION_LIMIT_PER_HOUR
    return limit_exceeded("patient-action", client_address(request), limit) or limit_exceeded(
        "patient-action-case", str(case.pk), limit
    )


def _ask_again(request, token):
    messages.info(request, _("For your privacy, please confirm your date of birth again."))
    return redirect(_status_url(token))


def _wants_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@require_POST
def answer(request, token: str, request_id: int):
    case = _case(request, token)
    if case is None:
        return _ask_again(request, token)
    if _limited(request, case):
        return too_many(request, _("actions on your request"))
    form = AnswerForm(request.POST, prefix_id=request_id)
    if form.is_valid():
        try:
            patient_request_answer(case_id=case.pk, request_id=request_id, answer=form.cleaned_data["answer"])
        except ServiceError as exc:
            messages.error(request, str(exc))
            return redirect(_status_url(token, f"request-{request_id}"))
        messages.success(request, _("Thank you. Your answer was sent to the clinic."))
        return redirect(_status_url(token, "messages"))
    messages.error(request, _("Your answer is too long. Please shorten it to 4,000 characters."))
    return redirect(_status_url(token, f"request-{request_id}"))


@require_POST
def upload(request, token: str):
    """One or more files: JSON for the progress-bar script (static/js/uploads.js),
    a redirect back to the status page without it."""
    case = _case(request, token)
    if case is None:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": _("Please confirm your date of birth again.")}, status=403)
        return _ask_again(request, token)
    if _limited(request, case) or limit_exceeded(
        "upload", client_address(request), settings.INTAKE_UPLOAD_LIMIT_PER_HOUR
    ):
        if _wants_json(request):
            error = _("We have received many files from your connection in a short time. Please try again in an hour.")
            return JsonResponse({"ok": False, "error": error}, status=429)
        return too_many(request, _("uploads"))
    results = []
    try:
        files = request.FILES.getlist("file")
        if getattr(request, "upload_storage_error", None) is not None:
            raise StorageUnavailable("upload temporary file") from request.upload_storage_error
        if not files:
            results.append((None, None, _("Please choose a file to upload.")))
        for uploaded in files:
            try:
                results.append((uploaded.name, patient_file_add(case_id=case.pk, uploaded=uploaded), None))
            except (UploadRejected, ServiceError) as exc:
                results.append((uploaded.name, None, str(exc)))
    except (StorageUnavailable, OSError) as exc:
        storage_failure_alert(exc)
        error = _("We could not save your file because of a problem on our side, not with your file. Please try later.")
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": error}, status=503)
        messages.error(request, error)
        return redirect(_status_url(token, "files"))
    if _wants_json(request):
        _name, f, error = results[0]
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        row = render_to_string(
            "patientloop/_file_row.html", {"f": {"label": f.get_file_type_display(), "at": f.uploaded_at}}
        )
        return JsonResponse({"ok": True, "id": f.pk, "html": row})
    for name, _f, error in results:
        if error:
            messages.error(request, f"{name}: {error}" if name else error)
        else:
            messages.success(request, _("Your file was uploaded."))
    return redirect(_status_url(token, "files"))


@require_http_methods(["GET", "POST"])
def withdraw(request, token: str):
    case = _case(request, token)
    if case is None:
        return _ask_again(request, token)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST":
        if _limited(request, case):
            return too_many(request, _("actions on your request"))
        if form.is_valid():
            try:
                patient_withdraw(case_id=case.pk)
            except ServiceError as exc:
                messages.error(request, str(exc))
                return redirect(_status_url(token))
            messages.success(request, _("Your request was withdrawn. You are welcome to send a new one at any time."))
            return redirect(_status_url(token, "messages"))
    return render(request, "patientloop/withdraw.html", {"form": form, "case": case, "token": token})


@require_POST
def contact(request, token: str):
    case = _case(request, token)
    if case is None:
        return _ask_again(request, token)
    if _limited(request, case):
        return too_many(request, _("actions on your request"))
    form = ContactPreferencesForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(request, _("Please choose the way you prefer us to contact you."))
        return redirect(_status_url(token, "contact"))
    try:
        patient_contact_change(case_id=case.pk, **form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(_status_url(token, "contact"))
    messages.success(request, _("Thank you. We will contact you only the ways you allow."))
    return redirect(_status_url(token, "messages"))
