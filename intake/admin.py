from django.contrib import admin

from .models import ReviewRequest, RoutingRule, StaffQueue


@admin.register(StaffQueue)
class StaffQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "sla_hours", "is_urgent", "is_active"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["priority", "name", "target_queue", "is_active"]


@admin.register(ReviewRequest)
class ReviewRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "full_name", "queue", "status", "assigned_to", "created_at"]
    list_select_related = ["queue", "assigned_to"]
