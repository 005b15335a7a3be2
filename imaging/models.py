"""The index of a case's DICOM files: studies, series and instances.

Built once per stored file (``IndexedFile``) by a task after the file is
attached, or on first view. The header fields below (patient name, birth date,
institution) are health data kept on the server like the case's own fields:
never logged, never in a URL or a task argument.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from intake.models import MriFile, ReviewRequest


class IndexedFile(models.Model):
    """One MRI file read into the index (whatever its type), once."""

    class State(models.TextChoices):
        DONE = "done", "Indexed"
        FAILED = "failed", "Could not be read"

    mri_file = models.OneToOneField(MriFile, on_delete=models.CASCADE, related_name="imaging_index")
    state = models.CharField(max_length=8, choices=State.choices)
    # Plain words for staff, never health data ("not a ZIP", "integrity check failed").
    problem = models.CharField(max_length=200, blank=True)
    instances = models.PositiveIntegerField(default=0)
    # For reading one slice without decrypting the whole file (intake.storage.
    # iter_decrypted_chunks): the stored file's id (hex) when it was indexed.
    file_id = models.CharField(max_length=32, blank=True)
    indexed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"File #{self.mri_file_id}: {self.state}"


class IndexAttempts(models.Model):
    """Indexing attempts of one file that started and never finished: a worker
    process died on it (killed by the kernel, a hard time limit, a native
    abort). Counted in its own committed transaction before the work, reset
    when an attempt ends either way; the poison-message rule
    (``clinic.untrusted``, through ``imaging.tasks``) gives up on the file
    when it reaches two, so one file can never take down pool process after
    pool process."""

    mri_file = models.OneToOneField(MriFile, on_delete=models.CASCADE, related_name="imaging_attempts")
    unfinished = models.PositiveSmallIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "index attempts"

    def __str__(self):
        return f"File #{self.mri_file_id}: {self.unfinished} unfinished"


class ImagingStudy(models.Model):
    case = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="imaging_studies")
    study_uid = models.CharField(max_length=64)
    study_date = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    modality = models.CharField(max_length=16, blank=True)
    body_part = models.CharField(max_length=64, blank=True)
    institution = models.CharField(max_length=200, blank=True)
    accession_number = models.CharField(max_length=64, blank=True)
    # As the images record them (DICOM PN with ^ separators, and DA).
    patient_name = models.CharField(max_length=200, blank=True)
    patient_birth_date = models.DateField(null=True, blank=True)
    # Set at indexing against the case (None: the header does not record it).
    name_matches = models.BooleanField(null=True)
    birth_date_matches = models.BooleanField(null=True)
    # Staff looked at a mismatch and confirmed the images are this patient's.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-study_date", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "study_uid"], name="imaging_study_uniq")]
        verbose_name_plural = "imaging studies"

    def __str__(self):
        return f"Study #{self.pk} ({self.modality or '?'} {self.study_date or 'undated'})"

    @property
    def patient_mismatch(self) -> bool:
        return self.name_matches is False or self.birth_date_matches is False


class ImagingSeries(models.Model):
    class Plane(models.TextChoices):
        AXIAL = "axial", "Axial"
        SAGITTAL = "sagittal", "Sagittal"
        CORONAL = "coronal", "Coronal"
        OBLIQUE = "oblique", "Oblique"
        UNKNOWN = "", "Unknown"

    study = models.ForeignKey(ImagingStudy, on_delete=models.CASCADE, related_name="series")
    series_uid = models.CharField(max_length=64)
    number = models.IntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    modality = models.CharField(max_length=16, blank=True)
    plane = models.CharField(max_length=10, blank=True, choices=Plane.choices)
    rows = models.PositiveIntegerField(default=0)
    columns = models.PositiveIntegerField(default=0)
    slice_count = models.PositiveIntegerField(default=0)
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    transfer_syntax = models.CharField(max_length=64, blank=True)
    # MONOCHROME1 (the lowest value is white: X-ray films, some CR/DX): the
    # slices are windowed on their values, then inverted (dicom.window).
    inverted = models.BooleanField(default=False)
    # Empty when it decodes; else why not, in plain words ("JPEG-LS: no decoder").
    problem = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["number", "pk"]
        constraints = [models.UniqueConstraint(fields=["study", "series_uid"], name="imaging_series_uniq")]
        verbose_name_plural = "imaging series"

    def __str__(self):
        return f"Series #{self.pk} ({self.slice_count} slices)"

    @property
    def decodable(self) -> bool:
        return not self.problem


class ImagingInstance(models.Model):
    """One displayable slice: a frame of an object in a file (or a ZIP member)."""

    series = models.ForeignKey(ImagingSeries, on_delete=models.CASCADE, related_name="instances")
    mri_file = models.ForeignKey(MriFile, on_delete=models.CASCADE, related_name="imaging_instances")
    member = models.CharField(max_length=400, blank=True, help_text="Path inside the ZIP; empty for a single file.")
    frame = models.PositiveIntegerField(default=0)
    sop_uid = models.CharField(max_length=64, blank=True)
    instance_number = models.IntegerField(null=True, blank=True)
    # Millimetres along the slice normal (from ImagePositionPatient), else SliceLocation.
    position = models.FloatField(null=True, blank=True)
    index = models.PositiveIntegerField(default=0, help_text="Order in the stack, from 0.")
    # Where the object's bytes are in the stored file's plaintext: chunks
    # [chunk_first, chunk_first + chunk_count), then skip and length bytes
    # (raw deflate if ``deflated``). Null: read the whole file.
    chunk_first = models.PositiveIntegerField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    skip = models.BigIntegerField(default=0)
    length = models.BigIntegerField(default=0)
    deflated = models.BooleanField(default=False)

    class Meta:
        ordering = ["series", "index"]
        indexes = [models.Index(fields=["series", "index"], name="imaging_instance_order")]

    def __str__(self):
        return f"Slice {self.index + 1} of series #{self.series_id}"
