"""The loop back to the patient after the request: the clinic's questions and
the patient's answers, and every message to the patient by the channels the
patient agreed to (an email or a text through intake's Notification, or a
call task for a coordinator), combined when updates come close together.

None of these rows carries health data except ``PatientRequest.questions`` and
``answer`` (staff's and the patient's own words): they are shown on the case
page and the patient's verified status page only, never in a message, a log
or the audit trail.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import ReviewRequest


class PatientRequest(models.Model):
    """Questions the clinic asks the patient on the status page."""

    class Kind(models.TextChoices):
        INFORMATION = "information", _("More information")
        IMAGES = "images", _("MRI images")

    class State(models.TextChoices):
        OPEN = "open", "Waiting for the patient"
        ANSWERED = "answered", "Answered"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="patient_requests")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INFORMATION)
    questions = models.TextField(help_text="Shown to the patient on their status page, in plain words.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["case", "state"], name="ploop_request_case_state")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.case_id} ({self.state})"


class PendingUpdate(models.Model):
    """A status update for the patient, held for a few minutes so that updates
    close together reach the patient as one message (``services.updates``).
    At most one pending per case (the partial unique constraint)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DISPATCHED = "dispatched", "Dispatched"
        DROPPED = "dropped", "Dropped (nothing to tell)"

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="pending_updates")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    first_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField()
    combined = models.PositiveIntegerField(default=1, help_text="Updates this one message stands for.")
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(state="pending"), name="ploop_one_pending_update_per_case"
            )
        ]
        indexes = [models.Index(fields=["state", "send_after"], name="ploop_update_due")]

    def __str__(self):
        return f"Update for {self.case_id} ({self.state})"


class CallTask(models.Model):
    """A coordinator is to phone the patient: the patient allowed phone calls only."""

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="call_tasks")
    kind = models.CharField(max_length=24)
    dedupe_key = models.CharField(max_length=120, unique=True)
    reason = models.CharField(max_length=200, help_text="What to tell the patient. Never health data.")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["done_at", "created_at"]
        indexes = [models.Index(fields=["done_at", "created_at"], name="ploop_call_open")]

    def __str__(self):
        return f"Call {self.case_id}: {self.reason}"
