"""Staff side of the DICOM node: the "unmatched imaging" list.

Studies that matched no open case, or several, wait here with their header
as the images record it. A coordinator with "Can attach received imaging to
a case" ticks one, types the case reference and runs the action, which calls
``services.received_study_attach`` (the same fetch, checks, storage, status
change and audit entry as an automatic match).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils.html import format_html

from clinic.models import AuditEntry, audit_record
from intake.services.errors import ServiceError

from .models import ReceivedStudy
from .services import received_study_attach, received_study_dismiss

S = ReceivedStudy.State


class StateFilter(admin.SimpleListFilter):
    """Unmatched by default: the list is a coordinator's to-do list."""

    title = "state"
    parameter_name = "state"
    DEFAULT = S.UNMATCHED

    def lookups(self, request, model_admin):
        return [
            (S.UNMATCHED, "Unmatched (needs a person)"),
            (S.FAILED, "Fetch failed (retrying)"),
            (S.REJECTED, "Refused by the file checks"),
            (S.NEW, "New"),
            (S.ATTACHED, "Attached"),
            (S.DISMISSED, "Dismissed"),
            ("all", "All"),
        ]

    def value(self):
        return super().value() or self.DEFAULT

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value == "all" else queryset.filter(state=value)


class AttachActionForm(helpers.ActionForm):
    case_reference = forms.CharField(
        required=False, max_length=12, label="Case", widget=forms.TextInput(attrs={"placeholder": "MR-…", "size": 10})
    )


@admin.register(ReceivedStudy)
class ReceivedStudyAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "state",
        "study_date",
        "study_description",
        "modalities",
        "patient_name",
        "patient_birth_date",
        "patient_id",
        "accession_number",
        "instance_count",
        "case_link",
        "note",
    ]
    list_display_links = None
    list_filter = [StateFilter]
    list_select_related = ["case"]
    ordering = ["-received_at", "-id"]
    list_per_page = 100
    show_full_result_count = False
    action_form = AttachActionForm
    actions = ["attach_to_case", "dismiss"]

    def has_add_permission(self, request):
        return False  # studies arrive from Orthanc

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the header is as recorded; attaching goes through the action

    def has_match_permission(self, request):
        return request.user.has_perm("dicomnode.match_receivedstudy")

    @admin.display(description="case")
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        url = reverse("admin:intake_reviewrequest_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.reference)

    @admin.display(description="note")
    def note(self, obj):
        return obj.last_error or obj.match_note or "—"

    def changelist_view(self, request, extra_context=None):
        # The list shows patients' names and birth dates: each look is recorded.
        if request.method == "GET":
            audit_record(
                action=AuditEntry.Action.VIEW_LIST,
                summary="Listed received imaging studies",
                actor=request.user,
                request=request,
                object_type="received_study",
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Attach to the case named", permissions=["match"])
    def attach_to_case(self, request, queryset):
        reference = (request.POST.get("case_reference") or "").strip()
        if not reference:
            self.message_user(
                request, "Type the case reference (MR-…) to attach to. Nothing was changed.", messages.ERROR
            )
            return
        for rs in queryset.order_by("pk"):
            try:
                rs = received_study_attach(received_study_id=rs.pk, case_reference=reference, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"Study #{rs.pk}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"Study #{rs.pk} attached to {rs.case.reference}.", messages.SUCCESS)

    @admin.action(description="Dismiss: not for any case here", permissions=["match"])
    def dismiss(self, request, queryset):
        for rs in queryset.order_by("pk"):
            try:
                received_study_dismiss(received_study_id=rs.pk, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"Study #{rs.pk}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"Study #{rs.pk} dismissed.", messages.SUCCESS)
