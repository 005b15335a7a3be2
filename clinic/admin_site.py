"""The staff admin site. With INTAKE_REQUIRE_OTP (production) a signed-in
user must also have passed a TOTP second factor (django-otp)."""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.urls import path


class ClinicAdminSite(AdminSite):
    def __init__(self, name="admin"):
        super().__init__(name)
        self._pages = {}

    def register_page(self, route: str, view, *, name: str):
        """Serve ``view`` (request -> response) at /admin/<route> as ``admin:<name>``,
        behind the admin's sign-in and permission checks. For staff pages that
        belong to no model (the triage dashboard); apps call it from their
        admin module, which autodiscover imports before the URLs are built."""
        self._pages[name] = (route, view)

    def get_urls(self):
        pages = [path(route, self.admin_view(view), name=name) for name, (route, view) in self._pages.items()]
        return [*pages, *super().get_urls()]

    def autocomplete_view(self, request):
        """Autocomplete is a search too (a case picked by a patient's name):
        recorded like the list's searches (clinic.admin_audit), by a keyed
        hash of the term, never the term."""
        response = super().autocomplete_view(request)
        term = request.GET.get("term", "").strip()
        if term and response.status_code == 200:
            from .models import AuditEntry, audit_fingerprint, audit_record

            source = f"{request.GET.get('app_label', '')}.{request.GET.get('model_name', '')}"[:60]
            field = request.GET.get("field_name", "")[:40]
            audit_record(
                action=AuditEntry.Action.VIEW_LIST,
                summary=f"Autocomplete for {source}.{field} (term hash {audit_fingerprint('search', term)})",
                actor=request.user,
                request=request,
                object_type="autocomplete",
            )
        return response

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        if settings.INTAKE_REQUIRE_OTP:
            return bool(getattr(request.user, "is_verified", lambda: False)())
        return True

    @property
    def login_form(self):
        if settings.INTAKE_REQUIRE_OTP:
            from .admin_login import UniformOTPAdminAuthenticationForm

            return UniformOTPAdminAuthenticationForm
        from django.contrib.admin.forms import AdminAuthenticationForm

        return AdminAuthenticationForm

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.INTAKE_REQUIRE_OTP else None


class ClinicAdminConfig(AdminConfig):
    """Installs ClinicAdminSite as the default admin site (settings.INSTALLED_APPS)."""

    default_site = "clinic.admin_site.ClinicAdminSite"
