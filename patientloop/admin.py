"""Staff side: ask the patient questions from the case page (a panel included
in the case template, posting to ``ask_view``), and the coordinators' list of
call tasks for patients who allowed phone calls only. A UI over services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from intake.models import ReviewRequest
from intake.services.errors import ServiceError

from .forms import TRIAGE_PERM, AskForm
from .models import CallTask, PatientRequest
from .services.contact import call_task_done
from .services.requests import patient_request_open


def _staff_case(request, case_id: int) -> ReviewRequest:
    if not request.user.has_perm(TRIAGE_PERM):
        raise PermissionDenied
    return get_object_or_404(ReviewRequest.objects.visible_to(request.user), pk=case_id)


class _StaffOnly:
    def has_module_permission(self, request):
        return request.user.has_perm(TRIAGE_PERM)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(TRIAGE_PERM)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        cases = ReviewRequest.objects.visible_to(request.user)
        return super().get_queryset(request).filter(case__in=cases).select_related("case")

    @admin.display(description="case")
    def case_link(self, obj):
        url = reverse("admin:intake_reviewrequest_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.reference)


@admin.register(PatientRequest)
class PatientRequestAdmin(_StaffOnly, admin.ModelAdmin):
    list_display = ["case_link", "kind", "state", "asked_by", "asked_at", "answered_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["case", "asked_by"]
    fields = ["case_link", "kind", "state", "questions", "answer", "asked_by", "asked_at", "answered_at"]
    readonly_fields = fields

    def get_urls(self):
        ask = self.admin_site.admin_view(require_POST(self.ask_view))
        return [path("ask/<int:case_id>/", ask, name="patientloop_patientrequest_ask"), *super().get_urls()]

    def ask_view(self, request, case_id: int):
        case = _staff_case(request, case_id)
        form = AskForm(request.POST)
        back = reverse("admin:intake_reviewrequest_change", args=[case.pk]) + "#patient-requests"
        if not form.is_valid():
            messages.error(request, "Choose what to ask for and write the questions.")
            return redirect(back)
        try:
            patient_request_open(case_id=case.pk, actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"The questions are on {case.reference}'s status page; the patient is told.")
        return redirect(back)


@admin.register(CallTask)
class CallTaskAdmin(_StaffOnly, admin.ModelAdmin):
    list_display = ["case_link", "call_on", "reason", "created_at", "done_at", "done_by"]
    list_filter = [("done_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "done_by"]
    fields = ["case_link", "call_on", "kind", "reason", "created_at", "done_at", "done_by"]
    readonly_fields = fields
    actions = ["mark_done"]

    @admin.display(description="call")
    def call_on(self, obj):
        """What the caller needs (issue 23): the number, when, and the patient's language."""
        from clinic.templatetags.phone import phone_display

        case = obj.case
        if not case.phone:
            return "no phone number"
        when = case.get_contact_time_display() or "any time"
        return f"{phone_display(case.phone)}, {when}, in {case.get_language_display()}"

    @admin.action(description="I made the call: mark done (logs the contact)")
    def mark_done(self, request, queryset):
        done = 0
        for task in queryset.filter(done_at__isnull=True):
            call_task_done(task_id=task.pk, actor=request.user)
            done += 1
        messages.success(request, f"{done} call task(s) marked done.")

    def has_change_permission(self, request, obj=None):
        # Actions need it; the form itself is read-only (readonly_fields).
        return request.user.has_perm(TRIAGE_PERM)
