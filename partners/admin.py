"""Supervisors manage partners, keys and webhook endpoints here.

A key or a signing secret is shown once, on the page the supervisor lands on
after making it, and never again: keys are stored hashed. It is kept for that
one page in the server-side session (``_shown_once_*``, read and deleted),
never in a message: messages travel in a signed but readable cookie. The admin
calls the services."""

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from . import services
from .models import ApiKey, Partner, Referral, Scope, WebhookDelivery, WebhookEndpoint

SHOWN_ONCE = "partners_shown_once"


def _shown_once_put(request, obj, *, label: str, value: str) -> None:
    """Keep ``value`` for the next view of ``obj``'s page, in the session (server side)."""
    once = dict(request.session.get(SHOWN_ONCE) or {})
    once[f"{obj._meta.model_name}:{obj.pk}"] = {"label": label, "value": value}
    request.session[SHOWN_ONCE] = once


def _shown_once_take(request, model_name: str, object_id) -> dict | None:
    """The value kept for this object's page, deleted as it is read."""
    once = dict(request.session.get(SHOWN_ONCE) or {})
    item = once.pop(f"{model_name}:{object_id}", None)
    if item is not None:
        request.session[SHOWN_ONCE] = once
    return item


class ShownOnceAdmin(admin.ModelAdmin):
    """After "add", the new object's page shows its secret once (see the module's docstring)."""

    change_form_template = "admin/partners/change_form_shown_once.html"

    def response_add(self, request, obj, post_url_continue=None):
        super().response_add(request, obj, post_url_continue)  # its "was added" message
        opts = obj._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if request.method == "GET":
            extra_context["shown_once"] = _shown_once_take(request, self.model._meta.model_name, object_id)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(min_value=1, max_value=730, initial=365, help_text="Days until the key expires.")

    class Meta:
        model = ApiKey
        fields = ["partner", "name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(ShownOnceAdmin):
    list_display = ["partner", "name", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["partner"]
    list_select_related = ["partner"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "name", "scopes", "days"]
        return ["partner", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["partner", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return  # a key does not change; revoke it and make a new one
        key, full = services.api_key_create(
            partner=form.cleaned_data["partner"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
        )
        obj.pk = key.pk
        _shown_once_put(request, obj, label="The new API key", value=full)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the referrals keep the key they came with

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key)
        self.message_user(request, f"{queryset.count()} key(s) revoked; they are refused from now on.")


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["case", "partner", "attested_by", "attested_at", "created_at"]
    list_filter = ["partner"]
    list_select_related = ["case", "partner"]
    fields = ["case", "partner", "api_key", "idempotency_key", "attested_by", "attested_at", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # referrals come through the API

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ShownOnceAdmin):
    list_display = ["partner", "url", "signing", "rotating_until", "is_active"]
    list_filter = ["signing", "is_active"]
    list_select_related = ["partner"]
    actions = ["rotate_secret", "end_rotation"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["partner", "url", "signing", "is_active"]
        return ["partner", "url", "signing", "previous_secret_until", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        # The scheme changes only with the secret (the "rotate" action): a
        # Standard Webhooks secret must be one, and the partner needs the overlap.
        return [] if obj is None else ["signing", "previous_secret_until"]

    @admin.display(description="rotating until")
    def rotating_until(self, obj):
        if not obj.previous_secret or obj.previous_secret_until is None:
            return None
        return date_format(timezone.localtime(obj.previous_secret_until), "SHORT_DATE_FORMAT")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        endpoint, secret = services.webhook_endpoint_create(partner=obj.partner, url=obj.url, signing=obj.signing)
        obj.pk = endpoint.pk
        _shown_once_put(request, obj, label="The endpoint's signing secret", value=secret)

    @admin.action(
        description="Rotate the signing secret (moves an old-scheme endpoint to the standard)",
        permissions=["change"],
    )
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select one endpoint: its new secret is shown once, on its page.", "warning")
            return None
        endpoint = queryset.get()
        secret = services.webhook_secret_rotate(endpoint=endpoint)
        _shown_once_put(
            request,
            endpoint,
            label="The endpoint's new signing secret (the old one also signs for 7 days)",
            value=secret,
        )
        return HttpResponseRedirect(reverse("admin:partners_webhookendpoint_change", args=[endpoint.pk]))

    @admin.action(description="End the rotation (the old secret stops signing now)", permissions=["change"])
    def end_rotation(self, request, queryset):
        for endpoint in queryset:
            services.webhook_rotation_end(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) now signed with their new secret only.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "stage",
        "endpoint",
        "state",
        "attempts",
        "outcome",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["state", "endpoint__partner"]
    list_select_related = ["endpoint__partner"]
    search_fields = ["reference", "=event_id"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["send_again"]

    @admin.display(description="last attempt")
    def outcome(self, obj):
        # Only "sent", "could not deliver" or why it was cancelled: never what
        # the far end answered, which would map ports (the cause is in the server log).
        if obj.state == WebhookDelivery.State.SENT:
            return "sent"
        return obj.last_error or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send again (same event id)", permissions=["change"])
    def send_again(self, request, queryset):
        n = sum(services.webhook_delivery_resend(delivery=d) for d in queryset)
        self.message_user(request, f"{n} delivery(ies) will be sent within a few seconds ({timezone.now():%H:%M}).")
