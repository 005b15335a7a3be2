"""Supervisors manage partners, keys and webhooks (called by seed_demo)."""

from django.contrib.auth.models import Group, Permission

SUPERVISOR_PERMS = [
    "view_partner", "add_partner", "change_partner",
    "view_apikey", "add_apikey", "change_apikey",
    "view_referral",
    "view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint",
    "view_webhookdelivery", "change_webhookdelivery",
]  # fmt: skip


def seed_partner_permissions():
    group, _ = Group.objects.get_or_create(name="Supervisor")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="partners", codename__in=SUPERVISOR_PERMS))
