"""Imaging reads: the header check beside the case, flags for the case page and list.

Owner of "which studies are the MRI": a study counts as an MRI when one of its
series is Modality MR (the study row keeps the first object's modality, which
may be a localizer or a screenshot). Only those set the MRI age and the
12-month flag; any other study (CR, CT, US...) is flagged "not an MRI"."""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from intake.models import CaseEvent, MriFile, ReviewRequest

from . import checks
from .models import ImagingSeries, ImagingStudy


def _cutoff(today: date) -> date:
    """The day 12 months before ``today`` (a study on or before it is old)."""
    year, month = today.year - 1, today.month
    day = today.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 29 February
            day -= 1


MRI_MODALITY = "MR"


def _has_mr_series() -> Exists:
    """For a queryset of studies: one of its series is MR."""
    return Exists(ImagingSeries.objects.filter(study=OuterRef("pk"), modality=MRI_MODALITY))


def _unconfirmed_mismatch() -> Q:
    return Q(confirmed_at__isnull=True) & (Q(name_matches=False) | Q(birth_date_matches=False))


def cases_with_imaging_flags(queryset: QuerySet, today: date | None = None) -> QuerySet:
    """Annotate ``imaging_mismatch`` (a study whose patient name or date of
    birth differs from the case, not confirmed by staff),
    ``imaging_only_mismatch`` (every study is such a one), ``imaging_old``
    (the newest dated MRI study is more than 12 months old) and
    ``imaging_not_mri`` (a study with no MR series): EXISTS subqueries, for the
    case list's MRI column (intake's INTAKE_CASE_LIST_ANNOTATIONS)."""
    cutoff = _cutoff(today or timezone.localdate())
    studies = ImagingStudy.objects.filter(case=OuterRef("pk"))
    mri = studies.filter(_has_mr_series())
    return queryset.annotate(
        imaging_mismatch=Exists(studies.filter(_unconfirmed_mismatch())),
        # Every study on the case is someone else's (by name or date of birth,
        # not confirmed): the case has no MRI of its own, whatever was received.
        imaging_only_mismatch=Exists(studies) & ~Exists(studies.exclude(_unconfirmed_mismatch())),
        imaging_old=Exists(mri.filter(study_date__lte=cutoff)) & ~Exists(mri.filter(study_date__gt=cutoff)),
        imaging_not_mri=Exists(studies.filter(~_has_mr_series())),
    )


@dataclass
class ImagingFlags:
    mismatch: bool = False
    old_study: bool = False
    # The newest MRI study's date (other modalities never count).
    newest_study_date: date | None = None
    # Studies with no MR series: (date, modalities) for the coordinator.
    not_mri: list[tuple[date | None, str]] = field(default_factory=list)
    # MRI studies whose body part, or date, differs from what the patient said:
    # (study date, what the header says) and (study date, the patient's month).
    region_differs: list[tuple[date | None, str]] = field(default_factory=list)
    date_differs: list[tuple[date, date]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return self.mismatch or self.old_study or bool(self.not_mri) or bool(self.region_differs or self.date_differs)


def case_imaging_flags(case: ReviewRequest, today: date | None = None) -> ImagingFlags:
    today = today or timezone.localdate()
    studies = list(
        ImagingStudy.objects.filter(case=case)
        .only(
            "study_date", "modality", "name_matches", "birth_date_matches", "confirmed_at", "body_part", "description"
        )
        .annotate(is_mri=_has_mr_series())
    )
    dates = [s.study_date for s in studies if s.study_date and s.is_mri]
    newest = max(dates) if dates else None
    mri = [s for s in studies if s.is_mri]
    return ImagingFlags(
        mismatch=any(s.patient_mismatch and s.confirmed_at is None for s in studies),
        old_study=checks.study_is_old(newest, today),
        newest_study_date=newest,
        not_mri=[(s.study_date, s.modality or "?") for s in studies if not s.is_mri],
        region_differs=[
            (s.study_date, " / ".join(x for x in (s.body_part, s.description) if x))
            for s in mri
            if checks.region_matches(case.mri_region, s.body_part, s.description) is False
        ],
        date_differs=[
            (s.study_date, case.mri_taken_on)
            for s in mri
            if checks.study_month_matches(case.mri_taken_on, s.study_date) is False
        ],
    )


def mri_age_months(case: ReviewRequest, today: date | None = None) -> int | None:
    """The MRI's age for the 12-month rule: the newest MRI study's date in the
    images when there is one (an X-ray or CT never counts), else the month the
    patient typed."""
    today = today or timezone.localdate()
    flags = case_imaging_flags(case, today)
    taken = flags.newest_study_date or case.mri_taken_on
    return checks.months_between(taken, today) if taken else None


def case_studies(case: ReviewRequest) -> list[ImagingStudy]:
    """Studies with their series (one query each), for the viewer page."""
    studies = list(ImagingStudy.objects.filter(case=case).annotate(is_mri=_has_mr_series()).prefetch_related("series"))
    today = timezone.localdate()
    for s in studies:
        # Only an MRI is "over 12 months" for the rule; the date of an X-ray is just its date.
        s.is_old = s.is_mri and checks.study_is_old(s.study_date, today)
        s.modalities = ", ".join(dict.fromkeys(x.modality or "?" for x in s.series.all())) or s.modality or "?"
        # Against what the patient said (MRI studies only; None: nothing to compare).
        s.region_matches = checks.region_matches(case.mri_region, s.body_part, s.description) if s.is_mri else None
        s.date_matches = checks.study_month_matches(case.mri_taken_on, s.study_date) if s.is_mri else None
    return studies


def visible_series(case: ReviewRequest, series_id: int) -> ImagingSeries:
    return ImagingSeries.objects.select_related("study__case").get(pk=series_id, study__case=case)


# What the read audit's timeline rows say (imaging.services.imaging_series_open
# and imaging_file_view, intake.services.files.mri_file_open for a download).
_OPENED = re.compile(r"^MRI (?P<what>series|file) #(?P<pk>\d+) (viewed|opened)$")


def case_images_opened_by(*, case: ReviewRequest, user) -> bool:
    """Has ``user`` opened this case's images: a DICOM series in the viewer, a
    picture shown inline, or an image file (DICOM, ZIP, JPEG, PNG) downloaded?
    Read from the timeline rows every opening writes. A PDF report alone is
    not the images."""
    if user is None or not getattr(user, "pk", None):
        return False
    summaries = CaseEvent.objects.filter(case=case, actor=user, kind=CaseEvent.Kind.FILE_ACCESS).values_list(
        "summary", flat=True
    )
    file_ids = []
    for summary in summaries:
        match = _OPENED.match(summary)
        if match is None:
            continue
        if match["what"] == "series":
            return True
        file_ids.append(int(match["pk"]))
    return MriFile.objects.filter(case=case, pk__in=file_ids).exclude(file_type=MriFile.FileType.PDF).exists()
