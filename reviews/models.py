"""A case's structured review (every amendment kept) and its consult.

Written only by ``reviews.services``; read through ``reviews.selectors``.
A review is never edited in place: each save adds a ``ReviewVersion`` with its
own ``LevelFinding`` rows, so an amendment keeps who wrote what, and when.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language

from intake.models import ReviewRequest

from .choices import Decision, Grade, Level, Listhesis, Side


class Review(models.Model):
    """One per case: the head of its versions."""

    case = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="structured_review")
    # How many versions were saved: the version a form saw, for optimistic concurrency.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Review of {self.case_id}"

    @property
    def current(self):
        return self.versions.order_by("-number").first()


class ReviewVersion(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # What the patient reads in the letter (plain words) ...
    impression = models.TextField(help_text="Plain words: the patient reads this in their result letter.")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    decision_detail = models.TextField(
        blank=True,
        help_text="Not a candidate: the conservative-care plan. More information: what we need. "
        "New imaging: which imaging. Shown to the patient.",
    )
    next_step = models.TextField(help_text="The recommended next step, in plain words. Shown to the patient.")
    # ... and, when the patient reads another language than the clinic's, the
    # same three in the patient's language (the English above stays for the
    # clinical summary). ``patient_language``: the case's language when written.
    patient_language = models.CharField(max_length=8, blank=True)
    impression_patient = models.TextField(blank=True)
    decision_detail_patient = models.TextField(blank=True)
    next_step_patient = models.TextField(blank=True)
    # The decision rule (reviews.services): the author had opened the case's
    # images (the viewer's read audit), or said why they decided without them.
    images_opened = models.BooleanField(default=False)
    no_images_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["review", "number"]
        constraints = [models.UniqueConstraint(fields=["review", "number"], name="review_version_unique")]

    def __str__(self):
        return f"Review {self.review_id} v{self.number}"

    # What the patient's letter shows: the text written in the patient's
    # language when the letter is rendered in that language and it was
    # written, else the clinician's English.
    def _for_reader(self, field: str) -> str:
        translated = getattr(self, f"{field}_patient")
        language = (get_language() or "").split("-")[0]
        if translated and self.patient_language and language == self.patient_language:
            return translated
        return getattr(self, field)

    @property
    def letter_impression(self) -> str:
        return self._for_reader("impression")

    @property
    def letter_decision_detail(self) -> str:
        return self._for_reader("decision_detail")

    @property
    def letter_next_step(self) -> str:
        return self._for_reader("next_step")


class LevelFinding(models.Model):
    """What the MRI shows at one spinal level, for one version (clinical summary only)."""

    version = models.ForeignKey(ReviewVersion, on_delete=models.CASCADE, related_name="findings")
    level = models.CharField(max_length=6, choices=Level.choices)
    disc_bulge = models.BooleanField(default=False)
    herniation = models.BooleanField(default=False)
    herniation_side = models.CharField(max_length=8, blank=True, choices=Side.choices)
    central_stenosis = models.CharField(max_length=8, blank=True, choices=Grade.choices)
    foraminal_side = models.CharField(max_length=8, blank=True, choices=Side.choices)
    foraminal_grade = models.CharField(max_length=8, blank=True, choices=Grade.choices)
    spondylolisthesis = models.CharField(max_length=2, blank=True, choices=Listhesis.choices)
    other = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "level"], name="finding_level_unique")]

    def __str__(self):
        return self.level


class Consult(models.Model):
    """A candidate's consultation: when, where (a place or a video link) and with whom."""

    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="consults")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    place = models.CharField(max_length=300, blank=True)
    video_url = models.URLField(blank=True)
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The calendar entry's UID (RFC 5545): stable, and names no patient.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["starts_at"], name="consult_starts")]

    def __str__(self):
        return f"Consult {self.pk} for case {self.case_id}"
