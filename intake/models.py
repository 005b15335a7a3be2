"""The case domain: staff queues, routing rules, review requests and their history."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from . import choices, sla
from .transitions import OPEN, Status

# Crockford-style alphabet: no 0/O, 1/I/L, U; easy to read out over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A short, random, non-sequential reference such as ``MR-7K3F9Q`` (30^6 ≈ 7e8)."""
    return "MR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


class StaffQueue(models.Model):
    """A queue of cases that a team of staff works (not a Celery queue)."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    sla_hours = models.PositiveIntegerField(help_text="Business hours to answer (round the clock if urgent).")
    is_urgent = models.BooleanField(default=False, help_text="Urgent queues run around the clock.")
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="QueueMembership", related_name="staff_queues")

    class Meta:
        ordering = ["-is_urgent", "name"]

    def __str__(self):
        return self.name


class QueueMembership(models.Model):
    queue = models.ForeignKey(StaffQueue, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    is_active = models.BooleanField(default=True, help_text="Inactive members keep access but get no new cases.")
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="uniq_queue_member")]

    def __str__(self):
        return f"{self.user} in {self.queue}"


class MriCondition(models.TextChoices):
    ANY = "", "Any"
    PROVIDED_OR_COMING = "provided_or_coming", "MRI uploaded or on its way"
    NONE = "none", "No MRI yet"


class RoutingRule(models.Model):
    """One routing rule. Conditions are typed fields, all of which must hold;
    a blank condition does not constrain. Rules are tried by priority (lowest
    first) and the first match wins. Nothing here is ever evaluated as code."""

    priority = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    target_queue = models.ForeignKey(StaffQueue, on_delete=models.PROTECT, related_name="rules")
    # Conditions
    if_red_flag = models.BooleanField(default=False, verbose_name="any red flag")
    if_duplicate = models.BooleanField(default=False, verbose_name="likely duplicate of an open case")
    if_mri = models.CharField(max_length=24, blank=True, choices=MriCondition.choices, verbose_name="MRI")
    if_mri_older_than_months = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="MRI older than (months)"
    )
    if_regions = models.JSONField(
        default=list, blank=True, verbose_name="any of these regions", help_text="Empty: any region."
    )
    if_pain_durations = models.JSONField(
        default=list, blank=True, verbose_name="pain duration is one of", help_text="Empty: any duration."
    )
    if_min_severity = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name="severity at least")
    # So Spanish requests can go to a queue with Spanish-speaking coordinators.
    if_language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES, verbose_name="language")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority"]

    def __str__(self):
        return f"{self.priority}. {self.name}"


class ReviewRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN)

    def visible_to(self, user):
        """Cases a staff member may see: their queues' cases, or all with the permission."""
        if user.is_superuser or user.has_perm("intake.view_all_cases"):
            return self
        return self.filter(queue__memberships__user=user)

    # The SLA conditions are intake.sla's; these only expose them.
    def overdue(self, now=None):
        return self.filter(sla.overdue_q(now or timezone.now()))

    def waiting_on_clinic(self):
        """Open cases whose clock runs: not paused, not stopped (admin filter and dashboard)."""
        return self.filter(sla.waiting_on_clinic_q())


class ReviewRequest(models.Model):
    """A patient's request for an MRI review (or an urgent call-back): the case."""

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    # One per patient draft (or urgent call-back form): resending the final
    # step after a failure finds this case instead of creating a second one.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=choices.Kind.choices, default=choices.Kind.REVIEW)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    # Bumped by every write through the services: optimistic concurrency.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Routing (intake.rules decides, intake.services.routing records)
    queue = models.ForeignKey(StaffQueue, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    matched_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL)
    routing_reason = models.CharField(max_length=300, blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_cases"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Who reads the MRI (a clinician of the queue): picked when the case goes
    # to review, kept while it comes back to review. ``assigned_to`` stays the
    # coordinator who works the patient's side (README, "Who does what").
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases_to_read"
    )
    is_urgent = models.BooleanField(default=False)
    red_flags = models.JSONField(default=list, blank=True)
    is_duplicate = models.BooleanField(default=False)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # SLA: due time in business hours; paused while waiting on others.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_stopped = models.BooleanField(default=False)
    escalated_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    mri_received_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=32, blank=True, choices=choices.DecisionReason.choices)

    # Contact
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    postal_code = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=2, blank=True, choices=choices.US_STATES)
    contact_method = models.CharField(max_length=10, blank=True, choices=choices.ContactMethod.choices)
    contact_time = models.CharField(max_length=10, blank=True, choices=choices.ContactTime.choices)
    submitted_by_guardian = models.BooleanField(default=False)
    # The language the patient used; every message to them goes in it.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en", db_index=True)

    # Pain
    regions = models.JSONField(default=list, blank=True)
    side = models.CharField(max_length=8, blank=True, choices=choices.Side.choices)
    pain_duration = models.CharField(max_length=8, blank=True, choices=choices.PainDuration.choices)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    radiating_pain = models.BooleanField(null=True, blank=True)
    numbness = models.BooleanField(null=True, blank=True)
    weakness = models.BooleanField(null=True, blank=True)

    # History
    diagnoses = models.JSONField(default=list, blank=True)
    diagnosis_other = models.CharField(max_length=200, blank=True)
    treatments = models.JSONField(default=dict, blank=True, help_text="treatment -> duration")
    prior_surgery = models.BooleanField(null=True, blank=True)
    prior_surgery_details = models.CharField(max_length=300, blank=True)

    # MRI
    mri_status = models.CharField(max_length=16, blank=True, choices=choices.MriStatus.choices)
    mri_taken_on = models.DateField(null=True, blank=True, help_text="First day of the month it was taken.")
    mri_region = models.CharField(max_length=16, blank=True, choices=choices.MriRegion.choices)
    imaging_centre = models.CharField(max_length=200, blank=True)

    # Where they came from (no health data: a path of our own site)
    source = models.CharField(max_length=16, blank=True, choices=choices.Source.choices)
    source_page = models.CharField(max_length=200, blank=True)

    # Consent, exactly as given
    consent_privacy = models.BooleanField(default=False)
    consent_phone = models.BooleanField(default=False)
    consent_text = models.BooleanField(default=False)
    consent_email = models.BooleanField(default=False)
    # "<version>/<language>": the consent text's version and the language it was shown in.
    consent_version = models.CharField(max_length=20, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_user_agent = models.CharField(max_length=300, blank=True)

    # Retention: personal data removed, an anonymous stub kept for the funnel.
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("view_all_cases", "Can view cases of every queue"),
            ("record_decision", "Can record a clinical decision"),
            ("export_cases", "Can export case lists"),
        ]
        indexes = [
            models.Index(fields=["queue", "status", "-created_at"], name="case_queue_status_new"),
            models.Index(fields=["status", "created_at"], name="case_status_created"),
            models.Index(fields=["assigned_to", "status"], name="case_assignee_status"),
            models.Index(fields=["reader", "status"], name="case_reader_status"),
            models.Index(fields=["-created_at"], name="case_newest"),
            models.Index(fields=["sla_due_at"], name="case_sla_due", condition=Q(sla_stopped=False)),
            models.Index(fields=["email", "date_of_birth"], name="case_dupe_email"),
            models.Index(fields=["phone", "date_of_birth"], name="case_dupe_phone"),
            models.Index(fields=["is_urgent", "status"], name="case_urgent_status"),
            models.Index(fields=["mri_status"], name="case_mri_status"),
            models.Index(fields=["source"], name="case_source"),
            models.Index(fields=["last_name", "first_name"], name="case_name"),
            models.Index(fields=["mri_status", "mri_received_at"], name="case_mri_received"),
            models.Index(fields=["first_contact_at"], name="case_first_contact"),
            models.Index(fields=["decided_at"], name="case_decided"),
            models.Index(fields=["status", "mri_received_at"], name="case_status_mri"),
        ]

    def __str__(self):
        return self.reference

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def mri_expected(self):
        return self.mri_status in (choices.MriStatus.UPLOAD, choices.MriStatus.CENTRE_SENDS)


class CaseEvent(models.Model):
    """One entry in a case's timeline. Written by services; never edited."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ROUTED = "routed", "Routed"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Waiting for a free team member"
        STATUS = "status", "Status changed"
        NOTE = "note", "Note"
        NOTIFICATION = "notification", "Notification"
        ESCALATED = "escalated", "Escalated"
        DUPLICATE = "duplicate", "Possible duplicate"
        FILE = "file", "MRI file"
        FILE_ACCESS = "file_access", "MRI file opened"
        EXPORTED = "exported", "Exported"
        MOVED = "moved", "Moved to another queue"
        PURGED = "purged", "Personal data removed"

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    # A short, PHI-free summary ("Routed to MRI review: cervical by rule 4").
    summary = models.CharField(max_length=300)
    reason_category = models.CharField(max_length=32, blank=True, choices=choices.DecisionReason.choices)
    # Staff's own words (notes, decision notes): internal, never emailed or logged.
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_time"),
            # The dashboard's funnel asks "did this case ever reach status X?"
            models.Index(fields=["to_status", "case"], name="event_to_status_case"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"


class Outbox(models.Model):
    """Work promised in the same transaction as the case: routing it.

    The view enqueues the task after commit; a sweeper re-enqueues rows still
    pending, so a broker outage delays a case but never loses it."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    case = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="outbox")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    # When the latest delivery started: while its retry chain may still be
    # alive the sweeper leaves the row alone (intake.services.dispatch).
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="outbox_state_created")]

    def __str__(self):
        return f"Routing of {self.case_id}: {self.state}"


class Notification(models.Model):
    """A message to send, an email or a text, recorded once per (case,
    purpose, channel) by its dedupe key and sent at most once
    (intake.services.notifications.notification_send)."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        TEXT = "text", "Text message"

    class Kind(models.TextChoices):
        PATIENT_CONFIRMATION = "patient_confirmation", "Patient: request received"
        PATIENT_STATUS = "patient_status", "Patient: status update"
        STAFF_NEW_CASE = "staff_new_case", "Staff: new case in queue"
        STAFF_URGENT = "staff_urgent", "Staff: urgent case"
        SUPERVISOR_UNASSIGNED = "supervisor_unassigned", "Supervisor: no one to assign"
        SUPERVISOR_OVERDUE = "supervisor_overdue", "Supervisor: case overdue"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        # Claimed by a sender and committed before the mail is handed over:
        # a crash after this point can lose the email but never send it twice.
        SENDING = "sending", "Sending (unconfirmed)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    dedupe_key = models.CharField(max_length=120, unique=True)
    # An email address, or a phone number (E.164) for a text.
    recipient = models.CharField(max_length=254)
    status_shown = models.CharField(max_length=24, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    duplicate_requests = models.PositiveIntegerField(default=0, help_text="Times it was asked for again.")
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the latest attempt claimed it: while its retry chain may still be
    # alive the sweeper leaves the row alone (intake.services.dispatch).
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True, help_text="The SMS provider's id for a text.")

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="notif_state_created")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.state})"


class MriFile(models.Model):
    """An MRI file a patient uploaded: random name, private path, encrypted."""

    class FileType(models.TextChoices):
        # Translated: the patient reads them on the status page ("ZIP of DICOM images: received").
        PDF = "pdf", pgettext_lazy("file kind", "PDF report")
        JPEG = "jpeg", pgettext_lazy("file kind", "JPEG image")
        PNG = "png", pgettext_lazy("file kind", "PNG image")
        DICOM = "dicom", pgettext_lazy("file kind", "DICOM image")
        ZIP = "zip", pgettext_lazy("file kind", "ZIP of DICOM images")

    case = models.ForeignKey(ReviewRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    # Uploads made before the request is sent belong to the patient's draft.
    draft_key = models.CharField(max_length=64, blank=True, db_index=True)
    original_name = models.CharField(max_length=200)
    stored_name = models.CharField(max_length=64, unique=True)
    file_type = models.CharField(max_length=8, choices=FileType.choices)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Found by the upload check (intake.uploads.check_upload): the modalities
    # of the file's images ("MR", "CR,DX"), and a ZIP's entries that are not
    # images (a disc's README, AUTORUN.INF, viewer program), each as
    # [name, reason], for staff to see what was left out of the viewer.
    modalities = models.CharField(max_length=64, blank=True)
    left_out = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.get_file_type_display()} ({self.size} bytes)"

    @property
    def not_mri(self) -> bool:
        """Every image's modality is known and none is MR (an X-ray, a CT):
        the patient is told at upload and may still send it."""
        known = {m for m in self.modalities.split(",") if m}
        return bool(known) and "MR" not in known


class SystemAlert(models.Model):
    """A problem on the clinic's side that staff must hear about once, not per
    patient it affects (a full MRI disk, say). ``key`` names the problem and
    its period; the unique constraint makes "once" hold across processes."""

    key = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="What happened and what to do. Never health data.")
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject
