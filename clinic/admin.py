"""The clinic's admin pages. The audit trail: read-only, for supervisors and superusers.

Visibility is permission-based (``clinic.view_auditentry``, which the
Supervisor group holds); nobody adds, changes or deletes an entry here, and
the model refuses it anyway (append-only, hash-chained).
"""

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .admin_audit import AuditedAdminMixin
from .models import AuditEntry, ClosureDay, StaffProfile


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "object_type", "object_ref", "summary", "ip"]
    list_filter = ["action", ("actor", admin.RelatedOnlyFieldListFilter), ("created_at", admin.DateFieldListFilter)]
    # Exact match on the indexed reference: the trail grows without bound.
    search_fields = ["=object_ref"]
    search_help_text = "A case reference (MR-…) or an object id, exactly."
    date_hierarchy = "created_at"
    ordering = ["-id"]
    list_per_page = 100
    show_full_result_count = False
    actions = None
    fields = ["created_at", "actor", "actor_label", "action", "object_type", "object_ref", "summary", "ip"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClosureDay)
class ClosureDayAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Days the clinic is closed beyond the public holidays: the SLA clock
    (intake.sla) skips them. Supervisors hold the add/change/delete permissions.

    A closure applies to cases routed or resumed after it is added; due times
    already set are not moved (the promise made to the patient stands)."""

    list_display = ["date", "weekday", "reason"]
    date_hierarchy = "date"
    ordering = ["-date"]
    search_fields = ["reason"]
    fields = ["date", "reason"]

    @admin.display(description="day")
    def weekday(self, obj):
        return f"{obj.date:%A}"


@admin.register(StaffProfile)
class StaffProfileAdmin(AuditedAdminMixin, TranslationAdmin):
    """How staff are named on result letters, consults and the clinical
    summary: a display name and credentials, in English and Spanish.
    Supervisors hold the add/change permissions (clinic.seed)."""

    list_display = ["display_name", "credentials", "user"]
    list_select_related = ["user"]
    search_fields = ["display_name", "user__username"]
    fields = ["user", "display_name", "credentials"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
