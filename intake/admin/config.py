"""Settings data that supervisors edit: staff queues, memberships, routing rules.

Editing is permission-based (the Supervisor group holds add/change/delete;
coordinators and clinicians hold view only), and every change is recorded in
the audit trail alongside Django's own admin log.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.urls import path, reverse

from clinic.admin_audit import AuditedAdminMixin

from ..choices import PainDuration, Region
from ..models import QueueMembership, RoutingRule, StaffQueue
from ..transitions import OPEN
from . import views
from .forms import RoutingRuleForm


class QueueMembershipInline(admin.TabularInline):
    model = QueueMembership
    fields = ["user", "is_active", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    extra = 0
    verbose_name = "member"
    verbose_name_plural = "members"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StaffQueue)
class StaffQueueAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "sla_hours", "is_urgent", "is_active", "active_members", "open_cases"]
    list_filter = ["is_active", "is_urgent"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [QueueMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_members=Count("memberships", filter=Q(memberships__is_active=True), distinct=True),
                n_open=Count("cases", filter=Q(cases__status__in=OPEN), distinct=True),
            )
        )

    @admin.display(description="active members", ordering="n_members")
    def active_members(self, obj):
        return obj.n_members

    @admin.display(description="open cases", ordering="n_open")
    def open_cases(self, obj):
        return obj.n_open

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._audit(request, obj, "Added")
        for obj, fields in formset.changed_objects:
            self._audit(request, obj, "Changed", fields)
        for obj in formset.deleted_objects:
            self._audit(request, obj, "Deleted")


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["priority", "name", "target_queue", "conditions", "is_active"]
    list_display_links = ["priority", "name"]
    list_select_related = ["target_queue"]
    list_filter = ["is_active", "target_queue"]
    ordering = ["priority"]
    change_list_template = "admin/intake/routingrule/change_list.html"
    fieldsets = [
        (None, {"fields": ["priority", "name", "is_active", "target_queue"]}),
        (
            "Conditions (all must hold; a blank one does not constrain)",
            {
                "fields": [
                    "if_red_flag",
                    "if_duplicate",
                    ("if_mri", "if_mri_older_than_months"),
                    "if_regions",
                    "if_pain_durations",
                    "if_min_severity",
                    "if_language",
                ]
            },
        ),
    ]

    class Media:
        css = {"all": ["admin-extra/admin-extra.css"]}

    @admin.display(description="conditions")
    def conditions(self, rule):
        parts = []
        if rule.if_red_flag:
            parts.append("any red flag")
        if rule.if_duplicate:
            parts.append("likely duplicate")
        if rule.if_mri:
            parts.append(rule.get_if_mri_display())
        if rule.if_mri_older_than_months is not None:
            parts.append(f"MRI older than {rule.if_mri_older_than_months} months")
        if rule.if_regions:
            regions = dict(Region.choices)
            parts.append("region: " + ", ".join(str(regions.get(r, r)) for r in rule.if_regions))
        if rule.if_pain_durations:
            durations = dict(PainDuration.choices)
            parts.append("pain: " + ", ".join(str(durations.get(d, d)) for d in rule.if_pain_durations))
        if rule.if_min_severity is not None:
            parts.append(f"severity ≥ {rule.if_min_severity}")
        if rule.if_language:
            parts.append(f"language: {rule.get_if_language_display()}")
        return "; ".join(parts) or "anything"

    def get_urls(self):
        view = self.admin_site.admin_view(lambda request: views.routing_dry_run_view(request, self))
        return [path("dry-run/", view, name="intake_routingrule_dry_run"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dry_run_url": reverse("admin:intake_routingrule_dry_run")}
        return super().changelist_view(request, extra_context)
