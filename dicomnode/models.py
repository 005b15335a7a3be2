"""Where the node stands in Orthanc's change feed, and every study it received."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from intake.models import MriFile, ReviewRequest


class ChangeCursor(models.Model):
    """The last sequence number of Orthanc's change feed already recorded:
    one row, read and moved under ``select_for_update`` so two pollers never
    record the same page twice (the unique study id is the second guard)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="dicomnode_one_cursor")]

    def __str__(self):
        return f"Orthanc change feed at {self.last_seq}"


class ReceivedStudy(models.Model):
    """One study Orthanc received (its Orthanc id, unique) and what became of it."""

    class State(models.TextChoices):
        NEW = "new", "New"
        ATTACHED = "attached", "Attached to a case"
        UNMATCHED = "unmatched", "Unmatched: waiting for a coordinator"
        FAILED = "failed", "Fetch failed: will be tried again"
        REJECTED = "rejected", "Refused by the file checks"
        DISMISSED = "dismissed", "Dismissed by a coordinator"

    orthanc_id = models.CharField(max_length=44, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    received_at = models.DateTimeField(default=timezone.now)

    # The header, as the images record it (health data: never logged).
    study_date = models.DateField(null=True, blank=True)
    study_description = models.CharField(max_length=200, blank=True)
    modalities = models.CharField(max_length=60, blank=True)
    accession_number = models.CharField(max_length=64, blank=True)
    patient_id = models.CharField("patient ID", max_length=64, blank=True)
    patient_name = models.CharField(max_length=200, blank=True, help_text="As the images record it (LAST^FIRST).")
    patient_birth_date = models.DateField("date of birth", null=True, blank=True)
    series_count = models.PositiveIntegerField(default=0)
    instance_count = models.PositiveIntegerField(default=0)

    # The outcome.
    case = models.ForeignKey(
        ReviewRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="received_studies"
    )
    mri_file = models.OneToOneField(
        MriFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="received_study"
    )
    match_note = models.CharField(max_length=80, blank=True, help_text="How it was matched, or why it was not.")
    attached_at = models.DateTimeField(null=True, blank=True)
    attached_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # The Orthanc instance ids already attached, so images that arrive after
    # the study was attached (a series sent later) are attached too, once.
    attached_instances = models.JSONField(default=list, blank=True)
    more_images = models.BooleanField(
        default=False, help_text="Orthanc has marked it stable again since it was attached."
    )

    # The work: a claim (token and lease) while one worker fetches it, retries after a failure.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, help_text="The reason, never health data.")
    # Attempts begun and never ended: worker processes that died on this study
    # (clinic.untrusted's poison rule; cleared whenever an attempt ends).
    unfinished_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "received imaging study"
        verbose_name_plural = "received imaging studies"
        ordering = ["-received_at", "-id"]
        permissions = [("match_receivedstudy", "Can attach received imaging to a case")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="dicomnode_study_due")]

    def __str__(self):
        return f"Received study #{self.pk}"


S = ReceivedStudy.State
# The study's state machine: one table, checked by dicomnode.services.
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.ATTACHED, S.UNMATCHED, S.FAILED, S.REJECTED},
    S.FAILED: {S.ATTACHED, S.UNMATCHED, S.FAILED, S.REJECTED},
    # A coordinator attaches an unmatched study by hand (or the checks refuse it).
    S.UNMATCHED: {S.ATTACHED, S.REJECTED, S.DISMISSED},
    # More images of an attached study: attached in their own ZIP.
    S.ATTACHED: {S.ATTACHED},
    # Set aside by a coordinator: not for any case here (a wrong clinic, a duplicate).
    S.REJECTED: {S.DISMISSED},
    S.DISMISSED: set(),
}
# What the poller picks up by itself.
PENDING = {S.NEW, S.FAILED}
