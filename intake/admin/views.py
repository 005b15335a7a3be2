"""Staff views that live inside the admin: they check permissions, hand cleaned
data to one service call and redirect with a message. A GET never changes a
case; it may write the audit trail (viewing and downloading are recorded).

Each case view looks the case up through the admin's ``get_queryset`` (which is
``visible_to(user)``), so a case outside the user's queues is a 404 here too.
The case page's POST views share ``case_form_post`` (scope, triage permission,
form, one service call, messages, redirect): each names only its form, its
service call with the success message, and where to go afterwards.
The case views are wired in ReviewRequestAdmin.get_urls, the dry run in
RoutingRuleAdmin.get_urls, the dashboard through the admin site
(intake/admin/__init__.py).
"""

from collections import Counter
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from clinic.templatetags.clinic_time import STAFF_FORMAT, format_clinic_time

from ..models import MriFile, ReviewRequest, RoutingRule
from ..rules import CaseFacts, decide
from ..services.contact import case_log_contact
from ..services.errors import ServiceError
from ..services.files import mri_file_open
from ..services.lifecycle import case_add_note, case_assign, case_move_queue, case_set_reader, case_transition
from ..storage import FileIntegrityError, StorageUnavailable
from ..transitions import Status
from .charts import duration_words, funnel_bars
from .export import cases_export_csv
from .forms import AssignForm, ContactForm, MoveQueueForm, NoteForm, ReaderForm, TransitionForm
from .selectors import WINDOW_DAYS, dashboard_for

CONTENT_TYPES = {
    MriFile.FileType.PDF: ("application/pdf", "pdf"),
    MriFile.FileType.JPEG: ("image/jpeg", "jpg"),
    MriFile.FileType.PNG: ("image/png", "png"),
    MriFile.FileType.DICOM: ("application/dicom", "dcm"),
    MriFile.FileType.ZIP: ("application/zip", "zip"),
}


def visible_case(request, model_admin, object_id) -> ReviewRequest:
    case = model_admin.get_object(request, str(object_id))
    if case is None:
        raise Http404("No such case in your queues.")
    return case


def case_url(case) -> str:
    return reverse("admin:intake_reviewrequest_change", args=[case.pk])


def timeline_url(case) -> str:
    return case_url(case) + "#timeline"


def _form_errors(form) -> str:
    return " ".join(f"{e}" for errors in form.errors.values() for e in errors)


def case_form_post(
    request,
    model_admin,
    object_id,
    form: forms.Form,
    change: Callable[[ReviewRequest, dict], str],
    *,
    next_url: Callable[[ReviewRequest], str] = case_url,
) -> HttpResponseRedirect:
    """What every POST from the case page does, in this order:

    1. the case, through the admin's queryset (``visible_to(user)``): a case
       outside the user's queues is a 404, as on the case page; then, without
       the triage permission, a 403;
    2. ``form`` (already bound) is validated: if invalid, "Not saved:" with its
       errors, nothing is called, and back to the top of the case page;
    3. ``change(case, cleaned_data)`` makes the one service call and returns the
       success message; the service's refusal (a ServiceError, CaseConflict
       included) becomes "Not saved: …" instead;
    4. a redirect to ``next_url(case)``, the case page unless the view says.
    """
    case = visible_case(request, model_admin, object_id)
    if not model_admin.has_triage_permission(request):
        raise PermissionDenied
    if not form.is_valid():
        messages.error(request, f"Not saved: {_form_errors(form)}")
        return HttpResponseRedirect(case_url(case))
    try:
        success = change(case, form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, f"Not saved: {exc}")
    else:
        messages.success(request, success)
    return HttpResponseRedirect(next_url(case))


# --- Case page: lifecycle, assignment, queue, notes, contact ----------------------
@require_POST
def case_transition_view(request, model_admin, object_id):
    def transition(case, data):
        case_transition(
            case_id=case.pk,
            to_status=data["to_status"],
            actor=request.user,
            expected_version=data["version"],
            reason_category=data["reason_category"],
            note=data["note"],
        )
        return f"{case.reference} is now “{Status(data['to_status']).label}”."

    return case_form_post(request, model_admin, object_id, TransitionForm(request.POST), transition)


@require_POST
def case_assign_view(request, model_admin, object_id):
    def assign(case, data):
        case_assign(case_id=case.pk, user=data["user"], actor=request.user, expected_version=data["version"])
        return f"{case.reference} is assigned to {data['user'].get_username()}."

    data = request.POST.copy()
    if "assign_to_me" in data:
        data["user"] = str(request.user.pk)
    form = AssignForm(data)  # any active staff: the service checks queue membership
    return case_form_post(request, model_admin, object_id, form, assign)


@require_POST
def case_reader_view(request, model_admin, object_id):
    def set_reader(case, data):
        case_set_reader(case_id=case.pk, user=data["user"], actor=request.user, expected_version=data["version"])
        return f"{case.reference} is to be read by {data['user'].get_username()}."

    data = request.POST.copy()
    if "read_it_myself" in data:
        data["user"] = str(request.user.pk)
    return case_form_post(request, model_admin, object_id, ReaderForm(data), set_reader)


@require_POST
def case_move_queue_view(request, model_admin, object_id):
    def move(case, data):
        moved = case_move_queue(
            case_id=case.pk,
            queue=data["queue"],
            actor=request.user,
            expected_version=data["version"],
            new_promise=data["new_promise"],
        )
        if data["new_promise"]:
            return f"{case.reference} moved to {data['queue']}; the patient's date is now the new queue's."
        if moved.sla_due_at is None:
            return f"{case.reference} moved to {data['queue']}."
        due = format_clinic_time(moved.sla_due_at, STAFF_FORMAT)
        return f"{case.reference} moved to {data['queue']}; the date promised to the patient stays {due}."

    def case_or_list(case):
        # After a move the case may be outside the user's queues: go back to the list.
        if not model_admin.get_queryset(request).filter(pk=case.pk).exists():
            return reverse("admin:intake_reviewrequest_changelist")
        return case_url(case)

    return case_form_post(request, model_admin, object_id, MoveQueueForm(request.POST), move, next_url=case_or_list)


@require_POST
def case_note_view(request, model_admin, object_id):
    def add_note(case, data):
        case_add_note(case_id=case.pk, actor=request.user, body=data["body"])
        return "Note added."

    return case_form_post(request, model_admin, object_id, NoteForm(request.POST), add_note, next_url=timeline_url)


@require_POST
def case_contact_view(request, model_admin, object_id):
    def log_contact(case, data):
        case_log_contact(
            case_id=case.pk,
            method=data["method"],
            actor=request.user,
            note=data["note"],
            expected_version=data["version"],
        )
        return "Contact logged."

    form = ContactForm(request.POST)
    return case_form_post(request, model_admin, object_id, form, log_contact, next_url=timeline_url)


# --- MRI files ---------------------------------------------------------------
def _file_error(request, case, text: str, *, status: int) -> HttpResponse:
    """An error page, not a redirect: the case page's file links carry
    ``download``, and a browser would save a redirected page as the "file".
    The message also waits for the case page's next load."""
    messages.error(request, text)
    body = format_html(
        '<!doctype html><html lang="en"><title>MRI file not served</title><h1>MRI file not served</h1>'
        '<p role="alert">{}</p><p><a href="{}">Back to the case</a></p></html>',
        text,
        case_url(case) + "#mri-files",
    )
    return HttpResponse(body, status=status)


def mri_file_download_view(request, model_admin, object_id, file_id):
    """Stream one decrypted MRI file to a permitted member of staff; each access
    is recorded (audit entry and timeline) by ``mri_file_open``."""
    case = visible_case(request, model_admin, object_id)
    if not request.user.has_perm("intake.view_mrifile"):
        raise PermissionDenied
    mri_file = get_object_or_404(MriFile, pk=file_id, case=case)
    content_type, ext = CONTENT_TYPES.get(mri_file.file_type, ("application/octet-stream", "bin"))
    try:
        # Checks the whole file before the first byte goes out (see mri_file_open).
        chunks = mri_file_open(mri_file=mri_file, user=request.user, request=request)
    except FileIntegrityError:
        text = f"MRI file #{mri_file.pk} failed its integrity check and was not served. Supervisors have been alerted."
        return _file_error(request, case, text, status=500)
    except StorageUnavailable:
        text = "The file storage is not answering. Please try again in a minute."
        return _file_error(request, case, text, status=503)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    # A neutral name: the patient's own file name may carry their name.
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{case.reference}-mri-{mri_file.pk}.{ext}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def case_export_view(request, model_admin):
    """The changelist's "Export this list" button: the current filters and search
    (carried in the query string), every page of them."""
    if not model_admin.has_export_permission(request):
        raise PermissionDenied
    changelist = model_admin.get_changelist_instance(request)
    return cases_export_csv(request, changelist.get_queryset(request))


# --- Dashboard -----------------------------------------------------------------
def dashboard_view(request):
    if not (request.user.is_active and request.user.is_staff and request.user.has_perm("intake.view_reviewrequest")):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in WINDOW_DAYS:
        days = 30
    board = dashboard_for(request.user, days=days)
    context = {
        **admin.site.each_context(request),
        "title": "Triage dashboard",
        "board": board,
        "chart": funnel_bars(board.funnel),
        "median_first_contact": duration_words(board.median_first_contact),
        "median_decision": duration_words(board.median_decision),
        "windows": WINDOW_DAYS,
        "changelist_url": reverse("admin:intake_reviewrequest_changelist"),
    }
    return TemplateResponse(request, "admin/intake/dashboard.html", context)


# --- Routing rules: dry run ------------------------------------------------------
def _rules_with_edit(request, model_admin):
    """The active rules, with the rule being edited on the change form (POSTed
    here by its "Dry run with these changes" button) put in its place, unsaved.
    Returns (rules, edited rule or None, form errors or None)."""
    rules = list(
        RoutingRule.objects.filter(is_active=True, target_queue__is_active=True).select_related("target_queue")
    )
    if request.method != "POST":
        return rules, None, None
    original = RoutingRule.objects.filter(pk=request.GET.get("rule") or None).first()
    form = model_admin.get_form(request, original, change=original is not None)(request.POST, instance=original)
    if not form.is_valid():
        return rules, None, form.errors
    edited = form.save(commit=False)  # never saved: commit=False, and no save() below
    rules = [r for r in rules if original is None or r.pk != original.pk]
    if edited.is_active and edited.target_queue.is_active:
        rules.append(edited)
    return rules, edited, None


def routing_dry_run_view(request, model_admin):
    """Where the last 100 visible cases would go under the rules as they stand
    now, or as edited on a rule's form, next to where they are. Reads only:
    nothing is written."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if request.method == "POST" and not model_admin.has_change_permission(request):
        raise PermissionDenied
    rules, edited, errors = _rules_with_edit(request, model_admin)
    cases = list(
        ReviewRequest.objects.visible_to(request.user)
        .filter(purged_at__isnull=True)
        .select_related("queue", "matched_rule")
        .order_by("-created_at")[:100]
    )
    today = timezone.localdate()
    rows = []
    for case in cases:
        decision = decide(CaseFacts.of(case, today=today), rules)
        moves = decision.queue is not None and decision.queue.pk != case.queue_id
        rows.append({"case": case, "decision": decision, "moves": moves})
    moving = Counter(
        (str(r["case"].queue or "Not routed"), str(r["decision"].queue or "No rule matched"))
        for r in rows
        if r["moves"] or r["decision"].queue is None
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Routing rules: dry run",
        "opts": model_admin.opts,
        "rules": sorted(rules, key=lambda r: r.priority),
        "edited": edited,
        "errors": errors,
        "rows": rows,
        "changed": sum(1 for r in rows if r["moves"]),
        "unmatched": sum(1 for r in rows if r["decision"].queue is None),
        "moving": sorted(moving.items(), key=lambda kv: -kv[1]),
    }
    return TemplateResponse(request, "admin/intake/routingrule/dry_run.html", context)
