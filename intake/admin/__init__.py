"""The staff side: the Django admin as a UI over the intake services.

- cases.py: the case list, the case page, bulk actions (ReviewRequestAdmin)
- config.py: staff queues with their members, routing rules and the dry run
- the triage dashboard at /admin/intake/dashboard/ (``admin:intake_dashboard``)
"""

from django.contrib import admin
from django.urls import path

from .. import admin_views
from .cases import ReviewRequestAdmin
from .config import RoutingRuleAdmin, StaffQueueAdmin

__all__ = ["ReviewRequestAdmin", "RoutingRuleAdmin", "StaffQueueAdmin"]


def _with_dashboard(get_urls):
    """Put the dashboard at /admin/intake/dashboard/ on the default admin site.

    AdminSite has no hook for extra pages besides get_urls; a project-wide
    AdminSite subclass (clinic/apps.py, ``default_site``) would be the
    alternative. Prepended so it is matched before the site's catch-all.
    """

    def urls():
        dashboard = admin.site.admin_view(admin_views.dashboard_view)
        return [path("intake/dashboard/", dashboard, name="intake_dashboard"), *get_urls()]

    return urls


if not getattr(admin.site.get_urls, "with_intake_dashboard", False):
    admin.site.get_urls = _with_dashboard(admin.site.get_urls)
    admin.site.get_urls.with_intake_dashboard = True
