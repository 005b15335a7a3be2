"""The staff side: the Django admin as a UI over the intake services.

- cases.py: the case list, the case page, bulk actions (ReviewRequestAdmin)
- config.py: staff queues with their members, routing rules and the dry run
- views.py: the case page's small POST views, file downloads, the dashboard, the dry run
- forms.py, filters.py: what those views and the case list validate and filter with
- selectors.py: the dashboard's reads; charts.py: its SVG geometry
- export.py: the CSV export (recorded by intake.services.export)

The triage dashboard has no model, so it is registered with the clinic's
admin site (clinic.admin_site.ClinicAdminSite.register_page) at
/admin/intake/dashboard/ (``admin:intake_dashboard``).
"""

from django.contrib import admin

from . import views
from .cases import ReviewRequestAdmin
from .config import RoutingRuleAdmin, StaffQueueAdmin

__all__ = ["ReviewRequestAdmin", "RoutingRuleAdmin", "StaffQueueAdmin"]

admin.site.register_page("intake/dashboard/", views.dashboard_view, name="intake_dashboard")
