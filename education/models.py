"""Stretching content: conditions, stretches and routines.

Every item has a slug for its URL, a published flag and a clinical review
(who reviewed it, and when), which each public page shows. Bodies are
Markdown, rendered through ``education.markdown`` (never trusted as HTML).
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from .choices import HOLD_MAX_SECONDS, HOLD_MIN_SECONDS, SpineRegion
from .illustrations import has_drawing
from .validators import validate_illustration


class ContentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Content(models.Model):
    """What every piece of content has: a name, an address, a review, a flag."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True, help_text="The last part of the page's address.")
    summary = models.CharField(
        max_length=160,
        help_text="One or two plain sentences: shown in lists and to search engines (at most 160 characters).",
    )
    is_published = models.BooleanField(
        "published", default=False, db_index=True, help_text="Only published content is shown to the public."
    )
    reviewed_by = models.CharField(
        "clinical reviewer", max_length=120, blank=True, help_text="For example: Spine team (PT, DPT)."
    )
    reviewed_on = models.DateField("clinical review date", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        # Patients are told each page was reviewed by a clinician; that must
        # be true of everything they can see.
        if self.is_published and not (self.reviewed_by and self.reviewed_on):
            raise ValidationError("Add the clinical reviewer and review date before publishing.", code="unreviewed")

    def get_preview_url(self):
        return reverse("education:preview", kwargs={"kind": self._meta.model_name, "pk": self.pk})

    @property
    def translation_missing(self) -> bool:
        """True when the reader's language is not English and a main field has
        no text in it, so the page shows the English (education/translation.py)."""
        from django.utils.translation import get_language

        from .translation import MAIN_FIELDS

        language = get_language()
        if not language or language == "en":
            return False
        fields = MAIN_FIELDS.get(self._meta.concrete_model, ())
        return any(not getattr(self, f"{name}_{language}", None) for name in fields)


class Condition(Content):
    body = models.TextField(help_text="Markdown. What the condition is, in plain words, and how stretching may help.")

    class Meta:
        ordering = ["name"]

    def get_absolute_url(self):
        return reverse("education:condition", kwargs={"slug": self.slug})


class Stretch(Content):
    region = models.PositiveSmallIntegerField(choices=SpineRegion.choices, db_index=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order within its region in the library (smaller first)."
    )
    helps = models.TextField("what it helps", help_text="Markdown. Who may find this stretch useful, and why.")
    steps = models.TextField(help_text="Markdown. A numbered list of short steps works best.")
    hold_seconds = models.PositiveSmallIntegerField(
        "hold time (seconds)",
        default=HOLD_MAX_SECONDS,
        validators=[MinValueValidator(HOLD_MIN_SECONDS), MaxValueValidator(HOLD_MAX_SECONDS)],
        help_text=f"Between {HOLD_MIN_SECONDS} and {HOLD_MAX_SECONDS} seconds.",
    )
    repetitions = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(10)], help_text="How many holds (1 to 10)."
    )
    per_side = models.BooleanField(default=False, help_text="Done on each side in turn.")
    breathing_cue = models.CharField(max_length=200, help_text="One short sentence about breathing during the hold.")
    cautions = models.TextField(blank=True, help_text="Markdown. Who should skip or change this stretch.")
    illustration = models.ImageField(
        upload_to="stretches/",
        blank=True,
        validators=[validate_illustration],
        help_text="Optional. PNG, JPEG or WebP, at most 5 MB and 25 megapixels.",
    )
    illustration_alt = models.CharField(
        "illustration description",
        max_length=200,
        blank=True,
        help_text="What the picture shows, for people who cannot see it.",
    )
    conditions = models.ManyToManyField(Condition, blank=True, related_name="stretches")

    class Meta:
        ordering = ["region", "position", "name"]
        verbose_name_plural = "stretches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hold_seconds__gte=HOLD_MIN_SECONDS, hold_seconds__lte=HOLD_MAX_SECONDS),
                name="stretch_hold_20_to_30_seconds",
            )
        ]

    def get_absolute_url(self):
        return reverse("education:stretch", kwargs={"slug": self.slug})

    @property
    def picture_url(self) -> str | None:
        """Staff's own upload if there is one, else the drawing made for this stretch."""
        from .illustrations import drawing_url

        if self.illustration:
            return self.illustration.url
        return drawing_url(self.slug)

    @property
    def picture_is_drawing(self) -> bool:
        return not self.illustration and self.picture_url is not None

    @property
    def holds(self) -> int:
        """How many holds the stretch takes in all (each side counts)."""
        return self.repetitions * (2 if self.per_side else 1)

    def clean(self):
        super().clean()
        if (self.illustration or has_drawing(self.slug)) and not self.illustration_alt:
            raise ValidationError({"illustration_alt": "Describe the picture for people who use a screen reader."})
        if self.pk is not None:
            self._check_routines_keep_spine_order()

    def _check_routines_keep_spine_order(self):
        # Moving a stretch to another region could put routines that use it
        # out of spine order; refuse that here rather than break them silently.
        from .rules import check_spine_order

        for routine in Routine.objects.filter(steps__stretch=self).distinct():
            stretches = [
                self if s.stretch_id == self.pk else s.stretch for s in routine.steps.select_related("stretch")
            ]
            try:
                check_spine_order(stretches)
            except ValidationError as err:
                raise ValidationError(
                    {"region": [f"This would put the routine “{routine.name}” out of spine order. {err.messages[0]}"]}
                )


class Routine(Content):
    description = models.TextField(blank=True, help_text="Markdown. Who the routine is for and how often to do it.")
    conditions = models.ManyToManyField(Condition, blank=True, related_name="routines")
    stretches = models.ManyToManyField(Stretch, through="RoutineStep", related_name="routines")

    class Meta:
        ordering = ["name"]

    def get_absolute_url(self):
        return reverse("education:routine", kwargs={"slug": self.slug})


class RoutineStep(models.Model):
    routine = models.ForeignKey(Routine, on_delete=models.CASCADE, related_name="steps")
    # PROTECT: deleting a stretch must not quietly shorten a routine.
    stretch = models.ForeignKey(Stretch, on_delete=models.PROTECT, related_name="routine_steps")
    order = models.PositiveSmallIntegerField(help_text="Smaller first. The routine must run from the neck down.")

    class Meta:
        ordering = ["routine", "order", "pk"]
        # No unique constraints on (routine, order) or (routine, stretch): the
        # admin saves inline rows one at a time, so swapping two rows would
        # collide half-way. The admin formset and the service check the
        # finished set instead.

    def __str__(self):
        return f"{self.order}. {self.stretch}"
