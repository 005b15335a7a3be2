"""The staff CSV export: which columns go out (no clinical free text, no names)
and how cells are written. Recording the export is a service's job
(intake.services.export)."""

import csv

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from clinic.templatetags.clinic_time import clinic_zone, clinic_zone_name

from ..services.export import cases_record_export
from ..transitions import Status

EXPORT_COLUMNS = [
    ("reference", "reference"),
    ("created", "created_at"),
    ("status", "status"),
    ("queue", "queue__name"),
    ("assignee", "assigned_to__username"),
    ("sla_due", "sla_due_at"),
    ("urgent", "is_urgent"),
    ("mri_status", "mri_status"),
    ("mri_received", "mri_received_at"),
    ("source", "source"),
]


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "astimezone"):
        # ISO 8601 in the clinic's zone, with its offset; the last column names the zone.
        return value.astimezone(clinic_zone()).isoformat(timespec="minutes")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # Spreadsheets run cells that start like a formula: defuse them.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def cases_export_csv(request, queryset) -> StreamingHttpResponse:
    """Export ``queryset`` (already scoped and filtered) as CSV without clinical
    free text or names; the service records it on every case and in the audit
    trail. One read, and the service's fixed number of writes."""
    if not request.user.has_perm("intake.export_cases"):
        raise PermissionDenied
    rows = list(queryset.order_by("-created_at").values_list("pk", *(f for _, f in EXPORT_COLUMNS)))
    cases_record_export(cases=[(r[0], r[1]) for r in rows], actor=request.user)
    writer = csv.writer(_Echo())
    status_labels = dict(Status.choices)
    # Appended last, so the columns before it keep their places for importers.
    zone = f"{clinic_zone_name()} ({settings.INTAKE_CLINIC_TIME_ZONE})"

    def lines():
        yield writer.writerow([name for name, _ in EXPORT_COLUMNS] + ["time_zone"])
        for r in rows:
            values = list(r[1:])
            values[2] = status_labels.get(values[2], values[2])
            yield writer.writerow([_cell(v) for v in values] + [zone])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        # Named by the clinic's wall clock, as every time staff read (not UTC).
        as_attachment=True,
        filename=f"cases-{timezone.now().astimezone(clinic_zone()):%Y%m%d-%H%M}.csv",
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
