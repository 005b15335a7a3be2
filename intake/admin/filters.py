"""Changelist filters for cases. Each one narrows on an indexed column
(see ReviewRequest.Meta.indexes); none costs a query per row."""

from django.contrib import admin
from django.db import connection
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from ..choices import MriStatus, Region
from ..transitions import OPEN, Status


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Any open status"), *Status.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(status__in=OPEN)
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    """The two ways to read the queue: newest first (the default) or the cases
    still waiting on the clinic, oldest first (see ReviewRequestAdmin.get_ordering)."""

    title = "order"
    parameter_name = "view"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting on us, oldest first")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Newest first",
        }
        yield from list(super().choices(changelist))[1:]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            # intake.sla owns "waiting on the clinic" (the dashboard asks the same).
            return queryset.waiting_on_clinic()
        return queryset


class AssignedToMeFilter(admin.SimpleListFilter):
    """A coordinator's own cases (``assigned_to``), a clinician's cases to read
    (``reader``, in review), and the cases nobody has."""

    title = "mine"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Assigned to me"),
            ("read", "In review, for me to read"),
            ("unassigned", "Unassigned"),
            ("no_reader", "In review, no reader"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "read":
            return queryset.filter(reader=request.user, status=Status.IN_REVIEW)
        if self.value() == "unassigned":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() == "no_reader":
            return queryset.filter(reader__isnull=True, status=Status.IN_REVIEW)
        return queryset


# patientloop's staff email when the patient answers the clinic's questions or
# sends files from the status page (a string kind: intake does not import patientloop).
PATIENT_ANSWERED_KIND = "staff_patient_answered"


def with_patient_answered(queryset):
    """Annotate ``patient_answered``: the patient answered or sent files on the
    status page since staff last did anything on the case (a timeline entry of
    theirs: a note, a call logged, a status change, a question). Subqueries on
    indexed columns, in the list's one query."""
    from ..models import CaseEvent, Notification

    staff_last = (
        CaseEvent.objects.filter(case=OuterRef("pk"), actor__isnull=False).order_by("-created_at").values("created_at")
    )
    answered = Notification.objects.filter(
        case=OuterRef("pk"), kind=PATIENT_ANSWERED_KIND, created_at__gt=OuterRef("staff_last_at")
    )
    return queryset.annotate(staff_last_at=Coalesce(Subquery(staff_last[:1]), F("created_at"))).annotate(
        patient_answered=Exists(answered)
    )


class PatientAnsweredFilter(admin.SimpleListFilter):
    title = "patient"
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("yes", "Answered or sent files (not acted on yet)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            from ..models import Notification

            # The few cases with such an email first, then the exact test.
            cases = Notification.objects.filter(kind=PATIENT_ANSWERED_KIND).values("case_id")
            return with_patient_answered(queryset.filter(pk__in=cases)).filter(patient_answered=True)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        # The same definition as the escalation task (ReviewRequest.objects.overdue),
        # which the partial index case_sla_due (sla_stopped = false) serves.
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.model.objects.overdue().values("pk"))
        return queryset


class UrgentFilter(admin.SimpleListFilter):
    title = "urgent"
    parameter_name = "urgent"

    def lookups(self, request, model_admin):
        return [("yes", "Urgent"), ("no", "Routine")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_urgent=self.value() == "yes")
        return queryset


class RegionFilter(admin.SimpleListFilter):
    title = "pain region"
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return Region.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in Region.values:
            return queryset
        if connection.vendor == "postgresql":
            # jsonb containment: what a GIN index on "regions" would serve.
            return queryset.filter(regions__contains=[value])
        # SQLite has no JSON containment lookup; the list is stored as JSON
        # text and the values are quoted slugs, so a quoted match is exact.
        return queryset.filter(regions__icontains=f'"{value}"')


class MriFilter(admin.SimpleListFilter):
    title = "MRI"
    parameter_name = "mri"

    def lookups(self, request, model_admin):
        return [("received", "MRI received"), ("expected", "Expected, not received yet"), *MriStatus.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "received":
            return queryset.filter(mri_received_at__isnull=False)
        if value == "expected":
            return queryset.filter(
                mri_status__in=[MriStatus.UPLOAD, MriStatus.CENTRE_SENDS], mri_received_at__isnull=True
            )
        if value in MriStatus.values:
            return queryset.filter(mri_status=value)
        return queryset


class QueueFilter(admin.RelatedFieldListFilter):
    """The queues the user works in (all for "view all cases"). Unlike
    RelatedOnlyFieldListFilter it never scans the cases for distinct values,
    which cost ~60 ms at 100,000 cases."""

    def field_choices(self, field, request, model_admin):
        from ..models import StaffQueue

        queues = StaffQueue.objects.order_by("name")
        user = request.user
        if not (user.is_superuser or user.has_perm("intake.view_all_cases")):
            queues = queues.filter(memberships__user=user)
        return [(q.pk, q.name) for q in queues.only("pk", "name")]


class AssigneeFilter(admin.RelatedFieldListFilter):
    """Staff who can hold cases the user sees: members of the user's queues
    (every staff member for "view all cases"); no scan of the cases."""

    def field_choices(self, field, request, model_admin):
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        user = request.user
        if not (user.is_superuser or user.has_perm("intake.view_all_cases")):
            users = users.filter(queue_memberships__queue__memberships__user=user).distinct()
        return [(u.pk, u.get_username()) for u in users.only("pk", "username")]
