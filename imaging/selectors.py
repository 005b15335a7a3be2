"""Imaging reads: the header check beside the case, flags for the case page and list."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from intake.models import ReviewRequest

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


def _unconfirmed_mismatch() -> Q:
    return Q(confirmed_at__isnull=True) & (Q(name_matches=False) | Q(birth_date_matches=False))


def cases_with_imaging_flags(queryset: QuerySet, today: date | None = None) -> QuerySet:
    """Annotate ``imaging_mismatch`` (a study whose patient name or date of
    birth differs from the case, not confirmed by staff) and ``imaging_old``
    (the newest dated study is more than 12 months old): two EXISTS subqueries,
    for the case list's marker column."""
    cutoff = _cutoff(today or timezone.localdate())
    studies = ImagingStudy.objects.filter(case=OuterRef("pk"))
    return queryset.annotate(
        imaging_mismatch=Exists(studies.filter(_unconfirmed_mismatch())),
        imaging_old=Exists(studies.filter(study_date__lte=cutoff)) & ~Exists(studies.filter(study_date__gt=cutoff)),
    )


@dataclass
class ImagingFlags:
    mismatch: bool = False
    old_study: bool = False
    newest_study_date: date | None = None

    @property
    def any(self) -> bool:
        return self.mismatch or self.old_study


def case_imaging_flags(case: ReviewRequest, today: date | None = None) -> ImagingFlags:
    today = today or timezone.localdate()
    studies = list(
        ImagingStudy.objects.filter(case=case).only("study_date", "name_matches", "birth_date_matches", "confirmed_at")
    )
    dates = [s.study_date for s in studies if s.study_date]
    newest = max(dates) if dates else None
    return ImagingFlags(
        mismatch=any(s.patient_mismatch and s.confirmed_at is None for s in studies),
        old_study=checks.study_is_old(newest, today),
        newest_study_date=newest,
    )


def mri_age_months(case: ReviewRequest, today: date | None = None) -> int | None:
    """The MRI's age for the 12-month rule: the newest study date in the images
    when there is one, else the month the patient typed."""
    today = today or timezone.localdate()
    flags = case_imaging_flags(case, today)
    taken = flags.newest_study_date or case.mri_taken_on
    return checks.months_between(taken, today) if taken else None


def case_studies(case: ReviewRequest) -> list[ImagingStudy]:
    """Studies with their series (one query each), for the viewer page."""
    studies = list(ImagingStudy.objects.filter(case=case).prefetch_related("series"))
    today = timezone.localdate()
    for s in studies:
        s.is_old = checks.study_is_old(s.study_date, today)
    return studies


def visible_series(case: ReviewRequest, series_id: int) -> ImagingSeries:
    return ImagingSeries.objects.select_related("study__case").get(pk=series_id, study__case=case)
