"""The patient's side: safety screen, the steps of the request, uploads,
confirmation and the status page. Views route; forms validate; services write."""

import secrets
import time
from datetime import date, datetime

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.dbretry import retry_once_on_db_blip

from . import choices
from .forms import STEP_FORMS, STEP_NAMES, StatusCheckForm, UploadForm, UrgentCallbackForm
from .models import MriFile, Notification
from .patient_session import patient_verified, patient_verify
from .ratelimit import client_address, limit_exceeded, too_many
from .selectors import patient_stage, promised_by
from .services.alerts import storage_failure_alert
from .services.files import mri_file_add, mri_file_remove_from_draft
from .services.notifications import patient_told_by
from .services.submission import case_for_submission, review_request_submit
from .status_links import (
    BirthDateCheck,
    TokenExpired,
    TokenInvalid,
    case_for_token,
    status_link,
    status_link_check_birth_date,
)
from .storage import StorageUnavailable
from .uploads import UploadRejected

SESSION_KEY = "intake_draft"


# --- The draft: server-side, in the session ---------------------------------
def _draft(request, create=True) -> dict:
    draft = request.session.get(SESSION_KEY)
    if draft is None and create:
        draft = {"key": secrets.token_hex(16), "started": time.time(), "raw": {}, "answers": {}}
        request.session[SESSION_KEY] = draft
    return draft


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _merged_answers(draft) -> dict:
    merged = {}
    for name in STEP_NAMES:
        merged.update(draft["answers"].get(name, {}))
    return merged


def _first_incomplete(draft) -> str | None:
    for name in STEP_NAMES:
        if name not in draft["answers"]:
            return name
    return None


def _skipped_to(draft, name) -> str | None:
    """The first unfinished step before ``name``, if the patient skipped ahead."""
    missing = _first_incomplete(draft)
    if missing is not None and STEP_NAMES.index(missing) < STEP_NAMES.index(name):
        return missing
    return None


def _step_url(name: str) -> str:
    return reverse("intake:start") if name == STEP_NAMES[0] else reverse("intake:step", args=[name])


def _draft_files(draft):
    return MriFile.objects.filter(draft_key=draft["key"], case__isnull=True)


def _form_kwargs(name, draft):
    kwargs = {"draft": _merged_answers(draft)}
    if name == "mri":
        kwargs["uploaded_count"] = _draft_files(draft).count()
    return kwargs


# Rendering a form costs several times a POST (PERFORMANCE.md): the blank
# form of each step is the same for every visitor, so render it once per
# process and language. Bound forms (with answers or errors) render normally.
_BLANK_FORM_HTML: dict[tuple[str, str], str] = {}


def _render_form(form, name, blank: bool) -> str:
    key = (name, translation.get_language())
    if blank and key in _BLANK_FORM_HTML:
        return _BLANK_FORM_HTML[key]
    from crispy_forms.utils import render_crispy_form

    html = render_crispy_form(form, form.helper)
    if blank and name != "mri":
        _BLANK_FORM_HTML[key] = html
    return html


def _render_step(request, name, form, draft, blank=False, status=200):
    index = STEP_NAMES.index(name)
    ctx = {
        "form": form,
        "form_html": mark_safe(_render_form(form, name, blank)),
        "step": name,
        "step_number": index + 1,
        "step_count": len(STEP_NAMES),
        "back_url": _step_url(STEP_NAMES[index - 1]) if index else None,
    }
    if name == "mri" and draft is not None:
        ctx["files"] = _draft_files(draft)
        ctx["upload_form"] = UploadForm()
        ctx["max_file_mb"] = settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024)
    return render(request, "intake/step.html", ctx, status=status)


def _bind(name, draft):
    raw = draft["raw"].get(name)
    if raw is None:
        return None
    return STEP_FORMS[name](data=MultiValueDict(raw), **_form_kwargs(name, draft))


def _safe_source_page(path: str) -> str:
    # Only a path on our own site, no query string: it must never carry answers.
    path = (path or "").split("?")[0].split("#")[0][:200]
    return path if path.startswith("/") and not path.startswith("//") else ""


@require_http_methods(["GET", "POST"])
@retry_once_on_db_blip
def step(request, name="safety"):
    if name not in STEP_FORMS:
        raise Http404
    form_class = STEP_FORMS[name]
    if request.method == "GET":
        draft = _draft(request, create=False)
        if draft is None:
            if name != STEP_NAMES[0]:
                return redirect("intake:start")
            source = _safe_source_page(request.GET.get("from", ""))
            if source:
                request.session["intake_source_page"] = source
            # A blank first step for a new visitor: no session write, cached HTML.
            return _render_step(request, name, form_class(), None, blank=True)
        if missing := _skipped_to(draft, name):
            return redirect(_step_url(missing))
        form = _bind(name, draft)
        blank = form is None
        if blank:
            form = form_class(**_form_kwargs(name, draft))
        return _render_step(request, name, form, draft, blank=blank)

    draft = _draft(request)
    if missing := _skipped_to(draft, name):
        return redirect(_step_url(missing))
    form = form_class(data=request.POST, **_form_kwargs(name, draft))
    if not form.is_valid():
        # Nothing from a failed step is kept.
        return _render_step(request, name, form, draft, status=200)
    draft["raw"][name] = {k: request.POST.getlist(k) for k in form.fields if k in request.POST}
    draft["answers"][name] = _jsonable(form.answers())
    request.session.modified = True

    if name == "safety" and form.red_flags():
        request.session["intake_red_flags"] = form.red_flags()
        # Named now, saved with this response: a call-back resent after an
        # error page is found by it (see urgent()).
        request.session.setdefault("intake_urgent_key", secrets.token_hex(16))
        return redirect("intake:urgent")
    if name != STEP_NAMES[-1]:
        return redirect(_step_url(STEP_NAMES[STEP_NAMES.index(name) + 1]))
    return _submit(request, draft, form)


def _submit(request, draft, consent_form):
    if consent_form.is_bot() or time.time() - draft["started"] < settings.INTAKE_MIN_FILL_SECONDS:
        request.session.pop(SESSION_KEY, None)
        return redirect("intake:thanks")
    # Sent before? (An error page after the case was saved, then "send" again.)
    # Then this is the same request: show its confirmation, make nothing new.
    if (case := case_for_submission(draft["key"])) is not None:
        return _submitted(request, case)
    if limit_exceeded("submit", client_address(request), settings.INTAKE_SUBMIT_LIMIT_PER_HOUR):
        return too_many(request, _("requests"))
    # The step view saw every earlier step complete before it got here.
    # Every step's answers were validated when the step was sent, and the draft
    # lives on the server where the browser cannot alter it, so the answers are
    # used as stored (the model's full_clean still checks every field). One
    # thing can have changed since: files removed after the MRI step.
    answers = {**_merged_answers(draft), **consent_form.answers()}
    if answers.get("mri_status") == choices.MriStatus.UPLOAD and not _draft_files(draft).exists():
        draft["answers"].pop("mri", None)
        request.session.modified = True
        messages.error(
            request, _("Your MRI file is no longer uploaded. Please upload it again, or choose another option.")
        )
        return redirect(_step_url("mri"))
    answers["source_page"] = request.session.get("intake_source_page", "")
    answers["language"] = translation.get_language()
    case = review_request_submit(
        answers=answers,
        draft_key=draft["key"],
        submission_key=draft["key"],
        ip=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return _submitted(request, case)


def _submitted(request, case):
    request.session.pop(SESSION_KEY, None)
    request.session["intake_submitted"] = case.pk
    return redirect("intake:submitted")


def submitted(request):
    from .models import ReviewRequest

    case_id = request.session.get("intake_submitted")
    case = ReviewRequest.objects.filter(pk=case_id).first() if case_id else None
    if case is None:
        return redirect("intake:start")
    ctx = {
        "case": case,
        "promised": promised_by(case),
        "status_url": request.build_absolute_uri(status_link(case)),
        "mri_expected": case.mri_status == choices.MriStatus.CENTRE_SENDS,
        # The ways the confirmation really went (email, text, a coordinator's call), from the rows.
        "told_by": patient_told_by(case, kind=Notification.Kind.PATIENT_CONFIRMATION, occasion="confirmation"),
    }
    return render(request, "intake/submitted.html", ctx)


def thanks(request):
    return render(request, "intake/thanks.html")


@require_http_methods(["GET", "POST"])
def urgent(request):
    """Urgent-care advice for any red flag, with an urgent call-back.

    Only after the safety screen, in this session: an urgent case pages staff
    around the clock, so it needs the red flags the patient reported (they go
    with the call-back), and a person's pace, not a script's."""
    flags = request.session.get("intake_red_flags", [])
    if not flags:
        messages.info(request, _("Please answer the safety questions first, so we know how soon to call you."))
        return redirect("intake:start")
    flag_set = set(flags)
    emergency = bool(flag_set & {f.value for f in choices.EMERGENCY_FLAGS})
    form = UrgentCallbackForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        draft = _draft(request, create=False) or {}
        too_fast = time.time() - draft.get("started", 0) < settings.INTAKE_MIN_FILL_SECONDS
        if form.cleaned_data.get("website") or too_fast:
            return redirect("intake:thanks")
        # One key per call-back form, as for the request's draft: a resend
        # after an error page returns the call-back already booked.
        key = request.session.setdefault("intake_urgent_key", secrets.token_hex(16))
        if (case := case_for_submission(key)) is not None:
            return _urgent_done(request, case, emergency)
        if limit_exceeded("submit", client_address(request), settings.INTAKE_SUBMIT_LIMIT_PER_HOUR):
            return too_many(request, _("requests"))
        answers = {k: form.cleaned_data[k] for k in ("first_name", "last_name", "phone", "consent_phone")}
        answers.update(
            red_flags=flags, contact_method="phone", consent_privacy=True, language=translation.get_language()
        )
        case = review_request_submit(
            answers=answers,
            kind=choices.Kind.URGENT_CALLBACK,
            submission_key=key,
            ip=client_address(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return _urgent_done(request, case, emergency)
    ctx = {
        "form": form,
        "flags": [choices.RedFlag(f).label for f in flags if f in choices.RedFlag.values],
        "emergency": emergency,
    }
    return render(request, "intake/urgent.html", ctx)


def _urgent_done(request, case, emergency):
    for key in ("intake_red_flags", "intake_urgent_key", SESSION_KEY):
        request.session.pop(key, None)
    return render(request, "intake/urgent_done.html", {"case": case, "emergency": emergency})


# --- Uploads -----------------------------------------------------------------
def _wants_json(request):
    return request.headers.get("Accept", "").startswith("application/json")


@require_POST
def upload(request):
    """One MRI file for the patient's draft. JSON for the progress-bar script,
    a redirect back to the MRI step without it."""
    draft = _draft(request, create=False)
    if draft is None:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": _("Your session has ended. Please start again.")}, status=400)
        return redirect("intake:start")
    if limit_exceeded("upload", client_address(request), settings.INTAKE_UPLOAD_LIMIT_PER_HOUR):
        if _wants_json(request):
            error = _("We have received many files from your connection in a short time. Please try again in an hour.")
            return JsonResponse({"ok": False, "error": error}, status=429)
        return too_many(request, _("uploads"))
    # Refuse an oversized body before reading it (the JS path sends one file per request).
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.INTAKE_MAX_REQUEST_BYTES + 64 * 1024 or (
        _wants_json(request) and length > settings.INTAKE_MAX_FILE_BYTES + 64 * 1024
    ):
        limit_mb = settings.INTAKE_MAX_FILE_BYTES // (1024 * 1024)
        results = [(None, None, f"This upload is too large; each file can be at most {limit_mb} MB.")]
    else:
        results = []
        try:
            files = request.FILES.getlist("file")
            if getattr(request, "upload_storage_error", None) is not None:
                raise StorageUnavailable("upload temporary file") from request.upload_storage_error
            if not files:
                results.append((None, None, _("Please choose a file to upload.")))
            for uploaded in files:
                try:
                    results.append((uploaded.name, mri_file_add(uploaded=uploaded, draft_key=draft["key"]), None))
                except UploadRejected as exc:
                    results.append((uploaded.name, None, str(exc)))
        except (StorageUnavailable, OSError) as exc:
            return _storage_failed(request, exc)
    if _wants_json(request):
        name, f, error = results[0]
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        row = render_to_string("intake/_file_row.html", {"f": f}, request=request)
        return JsonResponse({"ok": True, "id": f.pk, "html": row})
    for name, f, error in results:
        if error:
            messages.error(request, f"{name}: {error}" if name else error)
        else:
            messages.success(request, f"{f.original_name} was uploaded.")
    return redirect(reverse("intake:step", args=["mri"]) + "#files")


def _storage_failed(request, exc):
    """Our disk or bucket failed, not the patient's file: say so, offer the
    other way, and tell staff once (not once per patient)."""
    storage_failure_alert(exc)
    message = _(
        "We could not save your file because of a problem on our side, not with your file. "
        "Nothing was kept. You can try again later, or choose “My imaging centre will send it” "
        "and continue: we will get the images from them."
    )
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": False,
                "error": message,
                "offer_centre_sends": True,
                "centre_sends_label": _("My imaging centre will send it"),
                "retry_label": _("Try again"),
            },
            status=503,
        )
    messages.error(request, message)
    return redirect(reverse("intake:step", args=["mri"]) + "#files")


@require_POST
def upload_remove(request, file_id: int):
    draft = _draft(request, create=False)
    try:
        if draft and mri_file_remove_from_draft(draft_key=draft["key"], file_id=file_id):
            messages.success(request, _("The file was removed."))
    except StorageUnavailable:
        messages.error(
            request,
            _("We could not remove the file just now because of a problem on our side. Please try again shortly."),
        )
    return redirect(reverse("intake:step", args=["mri"]) + "#files")


# --- Status page ---------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def status(request, token: str):
    if limit_exceeded("status", client_address(request), settings.INTAKE_STATUS_LIMIT_PER_HOUR):
        return too_many(request, _("status look-ups"))
    try:
        case = case_for_token(token)
    except TokenExpired:
        return render(request, "intake/status_invalid.html", {"expired": True}, status=410)
    except TokenInvalid:
        return render(request, "intake/status_invalid.html", {"expired": False}, status=404)
    if request.method == "GET" and patient_verified(request, case):
        return _status_page(request, case, token)
    form = StatusCheckForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Wrong answers for one link are limited separately from the address.
        check = status_link_check_birth_date(case=case, date_of_birth=form.cleaned_data["date_of_birth"])
        if check is BirthDateCheck.LOCKED:
            return too_many(request, _("attempts for this link"))
        if check is BirthDateCheck.RIGHT:
            # This browser passed the check for this case: the status page's
            # downloads (result letter PDFs, consult .ics: reviews.views) and
            # actions (patientloop.views) ask for it; intake.patient_session owns the mark.
            patient_verify(request, case)
            return _status_page(request, case, token)
        form.add_error(
            "date_of_birth", _("That date of birth does not match our records. Please check it and try again.")
        )
    return render(request, "intake/status_check.html", {"form": form})


def _status_page(request, case, token):
    """The status page after the date-of-birth check: the stage, and the
    two-way part (patientloop: questions, files, withdraw, contact)."""
    from patientloop.status_page import status_loop_context

    ctx = {"stage": patient_stage(case), **status_loop_context(request, case, token)}
    return render(request, "intake/status.html", ctx)
