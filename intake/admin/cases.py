"""The case list and the case page: a UI over the lifecycle services.

Nobody edits a case through a Django form here: the patient's answers are
read-only for everyone, and every change (status, assignee, queue, note) is a
POST to a small view that makes one service call (intake.admin.views).
"""

import phonenumbers
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import ShowFacets
from django.contrib.admin.templatetags.admin_list import _boolean_icon
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.module_loading import import_string
from django.utils.timesince import timesince

from clinic.admin_audit import AuditedReadsMixin
from clinic.models import AuditEntry, audit_record
from clinic.templatetags.clinic_time import STAFF_FORMAT, format_clinic_time

from ..choices import Diagnosis, RedFlag, Region, Treatment, TreatmentDuration
from ..models import REFERENCE_ALPHABET, Notification, ReviewRequest
from ..services.bulk import cases_bulk_assign, cases_bulk_move_queue, cases_bulk_transition
from ..sla import State as SlaState
from ..sla import state as sla_state
from ..transitions import DECISIONS, Status, allowed_next
from . import filters, views
from .export import cases_export_csv
from .forms import AssignForm, BulkActionForm, ContactForm, DecisionForm, MoveQueueForm, NoteForm, ReaderForm

FIELDSETS = [
    (
        "Case",
        {
            "fields": (
                ("reference", "kind", "status"),
                ("queue", "assigned_to", "reader", "sla"),
                ("created_at_local", "first_contact_at_local", "decided_at_local", "decision_reason"),
                "routing_reason",
                ("is_duplicate", "duplicate_of_case"),
            )
        },
    ),
    # The patient's answers, in the order the steps ask them (safety first).
    ("Red flags", {"fields": ("red_flags_answered", "is_urgent")}),
    (
        "Contact",
        {
            "fields": (
                ("first_name_shown", "last_name_shown", "date_of_birth"),
                ("email", "phone_link"),
                ("postal_code", "state"),
                ("contact_method", "contact_time", "language"),
                "submitted_by_guardian",
            )
        },
    ),
    (
        "Pain",
        {
            "fields": (
                "regions_answered",
                ("side", "pain_duration", "severity"),
                ("radiating_pain", "numbness", "weakness"),
            )
        },
    ),
    (
        "History",
        {
            "fields": (
                "diagnoses_answered",
                "diagnosis_other",
                "treatments_answered",
                ("prior_surgery", "prior_surgery_details"),
            )
        },
    ),
    (
        "MRI",
        {
            "fields": (
                ("mri_status_shown", "mri_received_at_local"),
                ("mri_taken_on_shown", "mri_region_shown"),
                "imaging_centre",
            )
        },
    ),
    (
        "Source and consent",
        {
            "fields": (
                ("source", "source_page"),
                ("consent_privacy", "consent_phone", "consent_text", "consent_email"),
                ("consent_version", "consented_at_local"),
            )
        },
    ),
]


READONLY_FIELDS = [
    name
    for _, options in FIELDSETS
    for line in options["fields"]
    for name in (line if isinstance(line, tuple) else (line,))
]


def _clinic_time_field(name: str, label: str):
    """A read-only case-page field showing ``name`` in the clinic's zone, named."""

    @admin.display(description=label, ordering=name)
    def shown(self, obj):
        return format_clinic_time(getattr(obj, name), STAFF_FORMAT) or self.get_empty_value_display()

    return shown


def _labels(values, vocabulary) -> str:
    lookup = dict(vocabulary.choices)
    return ", ".join(str(lookup.get(v, v)) for v in values or ()) or "—"


class CaseChangeList(ChangeList):
    """The case list, its rows annotated by INTAKE_CASE_LIST_ANNOTATIONS (other
    apps' facts about a case, e.g. imaging's ``imaging_only_mismatch``),
    without intake importing them."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        for annotate in settings.INTAKE_CASE_LIST_ANNOTATIONS:
            queryset = import_string(annotate)(queryset)
        return queryset


@admin.register(ReviewRequest)
class ReviewRequestAdmin(AuditedReadsMixin, admin.ModelAdmin):
    # Seven narrow columns so the list fits a 1280 px screen beside the filters
    # (admin-extra.css): urgency is marked on the case's own cell and row, and
    # the time waiting sits under the SLA badge, rather than columns of their own.
    list_display = ["case", "sla", "patient", "status_shown", "queue", "who", "mri_received"]
    list_display_links = ["case", "patient"]
    list_select_related = ["queue", "assigned_to", "reader"]
    list_filter = [
        filters.WaitingFilter,
        ("queue", filters.QueueFilter),
        filters.StatusFilter,
        ("assigned_to", filters.AssigneeFilter),
        filters.AssignedToMeFilter,
        filters.PatientAnsweredFilter,
        filters.OverdueFilter,
        filters.UrgentFilter,
        filters.RegionFilter,
        filters.MriFilter,
        "source",
        "language",
    ]
    # The box searches by exact reference, email or phone, or by the start of a
    # name (see get_search_results): never a scan for a substring.
    search_fields = ["reference", "first_name", "last_name", "email", "phone"]
    search_help_text = "Reference (MR-…), email, phone, or the start of a first or last name."
    ordering = ["-created_at", "-pk"]
    list_per_page = 100
    list_max_show_all = 200
    # One COUNT rather than two, and no per-option counts: both scan the table.
    show_full_result_count = False
    show_facets = ShowFacets.NEVER
    fieldsets = FIELDSETS
    action_form = BulkActionForm
    actions = ["assign_to_me", "reassign", "move_to_queue", "mark_no_response", "export_csv"]
    change_form_template = "admin/intake/reviewrequest/case.html"
    change_list_template = "admin/intake/reviewrequest/change_list.html"

    class Media:
        css = {"all": ["admin-extra/admin-extra.css"]}

    # --- Permissions ---------------------------------------------------------
    def get_queryset(self, request):
        cases = ReviewRequest.objects.visible_to(request.user).select_related("queue", "assigned_to", "reader")
        return filters.with_patient_answered(cases)

    def get_ordering(self, request):
        if request.GET.get(filters.WaitingFilter.parameter_name) == "waiting":
            return ["created_at", "pk"]
        return ["-created_at", "-pk"]

    def has_add_permission(self, request):
        return False  # cases come from patients, through the public form

    def has_delete_permission(self, request, obj=None):
        return False  # retention purges; nobody deletes a case by hand

    def has_change_permission(self, request, obj=None):
        # The case page never saves a form: the answers are read-only for
        # everyone and changes go through the lifecycle views. The list-level
        # permission still gates the bulk actions.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def has_triage_permission(self, request):
        return request.user.has_perm("intake.change_reviewrequest")

    def has_export_permission(self, request):
        return request.user.has_perm("intake.export_cases")

    def get_readonly_fields(self, request, obj=None):
        return READONLY_FIELDS

    # --- Times, in the clinic's zone with its name ----------------------------
    created_at_local = _clinic_time_field("created_at", "created at")
    first_contact_at_local = _clinic_time_field("first_contact_at", "first contact at")
    decided_at_local = _clinic_time_field("decided_at", "decided at")
    mri_received_at_local = _clinic_time_field("mri_received_at", "MRI received at")
    consented_at_local = _clinic_time_field("consented_at", "consented at")

    # --- List columns ---------------------------------------------------------
    @admin.display(description="case", ordering="created_at")
    def case(self, obj):
        # The "urgent-flag" also marks the whole row (admin-extra.css, :has()).
        if obj.is_urgent:
            return format_html(
                '<span class="case-ref">{}</span> <span class="urgent-flag">Urgent</span>', obj.reference
            )
        return format_html('<span class="case-ref">{}</span>', obj.reference)

    @admin.display(description="patient", ordering="last_name")
    def patient(self, obj):
        return display_name(obj.first_name, obj.last_name) if obj.purged_at is None else "(removed)"

    @admin.display(description="SLA", ordering="sla_due_at")
    def sla(self, obj):
        state = sla_state(obj)
        title = f"due {format_clinic_time(obj.sla_due_at, STAFF_FORMAT)}" if obj.sla_due_at else ""
        waiting = timesince(obj.created_at, timezone.now(), depth=1)
        return format_html(
            '<span class="sla-badge sla-{}" title="{}">{}</span><span class="case-age">{} old</span>',
            state.replace("_", "-"),
            title,
            SlaState.LABELS[state],
            waiting,
        )

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj):
        # The marker staff act on: the patient answered or sent files since
        # staff last did anything on the case (filters.with_patient_answered).
        if getattr(obj, "patient_answered", False):
            return format_html(
                '{}<br><span class="patient-answered" title="{}">Patient answered</span>',
                obj.get_status_display(),
                "The patient answered or sent files on the status page since staff last acted on the case",
            )
        return obj.get_status_display()

    @admin.display(description="assigned to", ordering="assigned_to__username")
    def who(self, obj):
        # The coordinator who works the case, and under it the clinician who reads.
        assignee = obj.assigned_to.get_username() if obj.assigned_to_id else "—"
        if obj.reader_id is None:
            return assignee
        return format_html('{}<br><span class="case-reader">reads: {}</span>', assignee, obj.reader.get_username())

    @admin.display(description="MRI", ordering="mri_received_at")
    def mri_received(self, obj):
        # Images that are someone else's (imaging's annotation, see CaseChangeList)
        # are not the case's MRI: a warning instead of the tick.
        if getattr(obj, "imaging_only_mismatch", False):
            return format_html(
                '<span class="mri-wrong-patient" title="{}">Not this patient\'s</span>',
                "The images' name or date of birth differs from the case: check them in the viewer",
            )
        icon = _boolean_icon(obj.mri_received_at is not None)
        if getattr(obj, "imaging_mismatch", False):
            return format_html(
                '{} <span class="mri-wrong-patient" title="{}">Check patient</span>',
                icon,
                "Some images' name or date of birth differs from the case",
            )
        return icon

    # --- The case page's fields, for reading --------------------------------------
    @admin.display(description="first name")
    def first_name_shown(self, obj):
        return _name_shown(obj.first_name) or self.get_empty_value_display()

    @admin.display(description="last name")
    def last_name_shown(self, obj):
        return _name_shown(obj.last_name) or self.get_empty_value_display()

    @admin.display(description="phone")
    def phone_link(self, obj):
        if not obj.phone:
            return self.get_empty_value_display()
        return format_html('<a href="tel:{}" class="phone-link">{}</a>', obj.phone, phone_shown(obj.phone))

    @admin.display(description="duplicate of")
    def duplicate_of_case(self, obj):
        if obj.duplicate_of_id is None:
            return self.get_empty_value_display()
        reference = getattr(obj, "duplicate_reference", None)
        if reference is None:  # not looked up by get_object: say nothing about it
            return self.get_empty_value_display()
        if getattr(obj, "duplicate_visible", False):
            url = reverse("admin:intake_reviewrequest_change", args=[obj.duplicate_of_id])
            return format_html('<a href="{}">{}</a>', url, reference)
        # A link would answer 404 (the other case is outside the user's queues):
        # say why instead, and give the reference to ask a supervisor about.
        return format_html(
            '<span class="case-ref">{}</span> <span class="quiet">(in a queue you do not work)</span>', reference
        )

    @admin.display(description="MRI status")
    def mri_status_shown(self, obj):
        return obj.get_mri_status_display() or self.get_empty_value_display()

    @admin.display(description="MRI taken")
    def mri_taken_on_shown(self, obj):
        # Stored as the first day of the month the patient gave.
        return obj.mri_taken_on.strftime("%B %Y") if obj.mri_taken_on else self.get_empty_value_display()

    @admin.display(description="MRI region")
    def mri_region_shown(self, obj):
        return obj.get_mri_region_display() or self.get_empty_value_display()

    # --- Read-only answers, in words ------------------------------------------
    @admin.display(description="red flags reported")
    def red_flags_answered(self, obj):
        if not obj.red_flags:
            return "None"
        return format_html_join(
            "", '<span class="red-flag">{}</span><br>', ((_labels([f], RedFlag),) for f in obj.red_flags)
        )

    @admin.display(description="pain regions")
    def regions_answered(self, obj):
        return _labels(obj.regions, Region)

    @admin.display(description="diagnoses they were told")
    def diagnoses_answered(self, obj):
        return _labels(obj.diagnoses, Diagnosis)

    @admin.display(description="treatments tried")
    def treatments_answered(self, obj):
        if not obj.treatments:
            return "None"
        treatment, duration = dict(Treatment.choices), dict(TreatmentDuration.choices)
        return "; ".join(f"{treatment.get(t, t)} ({duration.get(d, d)})" for t, d in obj.treatments.items())

    # --- Search ----------------------------------------------------------------
    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(_search_q(term)), False

    # --- Case page ----------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, unquote(object_id))
        if case is None:
            # Outside the user's queues (or no such case): the same answer.
            raise Http404("No such case in your queues.")
        if not self.has_view_permission(request, case):
            return super().change_view(request, object_id, form_url, extra_context)  # raises PermissionDenied
        if request.method == "GET":
            audit_record(
                action=AuditEntry.Action.VIEW_CASE,
                summary="Viewed the case page",
                actor=request.user,
                request=request,
                object_type="case",
                object_ref=case.reference,
            )
        extra_context = {**(extra_context or {}), **self.case_context(request, case)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        case = super().get_object(request, object_id, from_field)
        if case is not None and case.duplicate_of_id is not None:
            # For the "duplicate of" field: link only to a case the user may open.
            case.duplicate_reference = (
                ReviewRequest.objects.filter(pk=case.duplicate_of_id).values_list("reference", flat=True).first()
            )
            case.duplicate_visible = self.get_queryset(request).filter(pk=case.duplicate_of_id).exists()
        return case

    def history_view(self, request, object_id, extra_context=None):
        # Admin form history is empty by design; the timeline is the history.
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404("No such case in your queues.")
        return HttpResponseRedirect(reverse("admin:intake_reviewrequest_change", args=[case.pk]))

    def case_context(self, request, case):
        user = request.user
        can_triage = self.has_triage_permission(request)
        can_decide = user.is_superuser or user.has_perm("intake.record_decision")
        nexts = allowed_next(case.status)
        moves = [(s, Status(s).label) for s in nexts if s not in DECISIONS]
        decisions = [(s, Status(s).label) for s in nexts if s in DECISIONS]
        timeline = [
            {"at": e.created_at, "kind": e.get_kind_display(), "event": e, "who": e.actor}
            for e in case.events.select_related("actor")
        ] + [
            {"at": n.created_at, "kind": "Email", "notification": n, "words": email_words(n), "who": None}
            for n in case.notifications.all()
        ]
        timeline.sort(key=lambda item: item["at"])
        return {
            "case": case,
            "sla_state": sla_state(case),
            "sla_label": SlaState.LABELS[sla_state(case)],
            "can_triage": can_triage,
            "can_decide": can_decide,
            "moves": moves if can_triage else [],
            "decisions": decisions if can_triage and can_decide else [],
            "decision_form": DecisionForm(initial={"version": case.version}),
            "assign_form": AssignForm(case=case, initial={"version": case.version}),
            "move_form": MoveQueueForm(initial={"version": case.version}),
            "reader_form": ReaderForm(case=case, initial={"version": case.version}),
            # A clinician of the case's queue can take the reading on themselves.
            "can_read_it": can_decide
            and case.reader_id != user.pk
            and case.queue_id is not None
            and case.queue.memberships.filter(user=user, is_active=True).exists(),
            "note_form": NoteForm(),
            "contact_form": ContactForm(initial={"version": case.version}),
            "files": list(case.files.all()) if user.has_perm("intake.view_mrifile") else [],
            "can_files": user.has_perm("intake.view_mrifile"),
            "timeline": timeline,
            "show_save": False,
            "show_save_and_continue": False,
            "show_close": True,
        }

    # --- URLs ------------------------------------------------------------------------
    def get_urls(self):
        def wrap(view):
            def inner(request, *args, **kwargs):
                return view(request, self, *args, **kwargs)

            return self.admin_site.admin_view(inner)

        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("export/", wrap(views.case_export_view), name=f"{prefix}_export"),
            path("<path:object_id>/transition/", wrap(views.case_transition_view), name=f"{prefix}_transition"),
            path("<path:object_id>/assign/", wrap(views.case_assign_view), name=f"{prefix}_assign"),
            path("<path:object_id>/move/", wrap(views.case_move_queue_view), name=f"{prefix}_move"),
            path("<path:object_id>/reader/", wrap(views.case_reader_view), name=f"{prefix}_reader"),
            path("<path:object_id>/note/", wrap(views.case_note_view), name=f"{prefix}_note"),
            path("<path:object_id>/contact/", wrap(views.case_contact_view), name=f"{prefix}_contact"),
            path(
                "<path:object_id>/files/<int:file_id>/",
                wrap(views.mri_file_download_view),
                name=f"{prefix}_file",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            # The list needs the width more than the app menu, which the
            # breadcrumbs repeat: without it all seven columns fit at 1280 px.
            "is_nav_sidebar_enabled": False,
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)

    # --- Bulk actions: loops over the single-case services ------------------------------
    def _report(self, request, result, done):
        level = messages.WARNING if result.skipped else messages.SUCCESS
        self.message_user(request, result.summary(done), level)

    @admin.action(description="Assign to me", permissions=["triage"])
    def assign_to_me(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        self._report(request, cases_bulk_assign(case_ids=ids, user=request.user, actor=request.user), "assigned to you")

    @admin.action(description="Reassign to the person chosen", permissions=["triage"])
    def reassign(self, request, queryset):
        user = _action_target(request, "assignee")
        if user is None:
            self.message_user(request, "Choose who to reassign the cases to. Nothing was changed.", messages.ERROR)
            return
        ids = list(queryset.values_list("pk", flat=True))
        result = cases_bulk_assign(case_ids=ids, user=user, actor=request.user)
        self._report(request, result, f"reassigned to {user.get_username()}")

    @admin.action(description="Move to the queue chosen", permissions=["triage"])
    def move_to_queue(self, request, queryset):
        queue = _action_target(request, "target_queue")
        if queue is None:
            self.message_user(request, "Choose the queue to move the cases to. Nothing was changed.", messages.ERROR)
            return
        ids = list(queryset.values_list("pk", flat=True))
        self._report(request, cases_bulk_move_queue(case_ids=ids, queue=queue, actor=request.user), f"moved to {queue}")

    @admin.action(description="Mark as no response", permissions=["triage"])
    def mark_no_response(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        result = cases_bulk_transition(case_ids=ids, to_status=Status.NO_RESPONSE, actor=request.user)
        self._report(request, result, "marked “No response”")

    @admin.action(description="Export selected to CSV (no clinical details)", permissions=["export"])
    def export_csv(self, request, queryset):
        return cases_export_csv(request, queryset)


# The timeline's words for each email, as staff say them: never the raw kind
# (patientloop's and the lifecycle's kinds are strings, not Notification.Kind).
EMAIL_WORDS = {
    "staff_patient_answered": "Staff told: the patient answered or sent files",
    "staff_to_read": "Clinician told: ready to read",
    "patient_result": "Patient told: the result is ready",
    Notification.Kind.PATIENT_CONFIRMATION: "Patient told: request received",
    Notification.Kind.PATIENT_STATUS: "Patient told: there is an update",
    Notification.Kind.STAFF_NEW_CASE: "Staff told: new case in the queue",
    Notification.Kind.STAFF_URGENT: "Staff told: urgent call-back",
    Notification.Kind.SUPERVISOR_UNASSIGNED: "Supervisors told: no one to take it",
    Notification.Kind.SUPERVISOR_OVERDUE: "Supervisors told: past its SLA",
}


def email_words(n) -> str:
    words = EMAIL_WORDS.get(n.kind) or n.kind.replace("_", " ").capitalize()
    if not n.kind.startswith("patient"):
        words += f" ({n.recipient})"  # which member of staff; the patient's address is on the page
    return words


def _name_shown(typed: str) -> str:
    """A name as staff read it: typed all in one case ("maria lopez", "LOPEZ")
    it is shown in title case; typed in mixed case ("McDonald", "de Souza") it
    is shown as typed. The stored value is always what the patient typed."""
    if typed and (typed.islower() or typed.isupper()):
        return typed.title()
    return typed


def display_name(first: str, last: str) -> str:
    return f"{_name_shown(first)} {_name_shown(last)}".strip()


def phone_shown(e164: str) -> str:
    """ "+13125550142" as "(312) 555-0142"; a number outside North America in
    international form; anything unparsable as stored."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def _action_target(request, name):
    """The user or queue chosen in the action bar, validated by its form field."""
    try:
        return BulkActionForm.base_fields[name].clean(request.POST.get(name) or None)
    except ValidationError:
        return None


def _search_q(term: str) -> Q:
    """Index-friendly search: exact reference, email or phone; name prefixes."""
    compact = term.upper().replace(" ", "")
    bare = compact.removeprefix("MR-").removeprefix("MR")
    looks_like_reference = len(bare) == 6 and set(bare) <= set(REFERENCE_ALPHABET)
    if looks_like_reference and compact.startswith("MR"):
        return Q(reference=f"MR-{bare}")
    if "@" in term:
        return Q(email=term.lower())  # stored lower-cased by the intake form
    digits = "".join(c for c in term if c.isdigit())
    if len(digits) >= 7 and not any(c.isalpha() for c in term):
        try:
            number = phonenumbers.parse(term, "US")
            return Q(phone=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            return Q(phone=f"+{digits}")
    words = term.replace(",", " ").split()
    if len(words) >= 2:
        a, b = words[0], words[-1]
        by_name = Q(first_name__istartswith=a, last_name__istartswith=b) | Q(
            last_name__istartswith=a, first_name__istartswith=b
        )
    else:
        by_name = Q(last_name__istartswith=term) | Q(first_name__istartswith=term)
    if looks_like_reference:
        by_name |= Q(reference=f"MR-{bare}")
    return by_name
