"""Reads for the public pages and the previews.

Public reads see published content only. A preview (staff with the change
permission) passes ``include_unpublished=True`` to see a draft as it will look.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils.text import slugify

from .choices import SpineRegion
from .models import Condition, Routine, RoutineStep, Stretch


@dataclass(frozen=True)
class RegionSection:
    region: SpineRegion
    stretches: list[Stretch]

    @property
    def label(self) -> str:
        return self.region.label

    @property
    def anchor(self) -> str:
        # The same as ``{{ stretch.get_region_display|slugify }}`` in templates.
        return slugify(self.region.label)


def library_sections() -> list[RegionSection]:
    """Published stretches grouped by region, neck first; empty regions left out."""
    by_region: dict[int, list[Stretch]] = {}
    for stretch in Stretch.objects.published().order_by("region", "position", "name"):
        by_region.setdefault(stretch.region, []).append(stretch)
    return [RegionSection(region, by_region[region]) for region in SpineRegion if region in by_region]


def conditions_published() -> QuerySet[Condition]:
    return Condition.objects.published()


def routines_published() -> QuerySet[Routine]:
    return Routine.objects.published().prefetch_related(Prefetch("conditions", queryset=Condition.objects.published()))


def routine_stretches(routine: Routine, *, include_unpublished: bool = False) -> list[Stretch]:
    """The routine's stretches in the order they are done."""
    steps = RoutineStep.objects.filter(routine=routine).select_related("stretch").order_by("order")
    if not include_unpublished:
        steps = steps.filter(stretch__is_published=True)
    return [step.stretch for step in steps]


def routines_for(obj, *, include_unpublished: bool = False) -> QuerySet[Routine]:
    """Routines that use a stretch, or that are meant for a condition."""
    qs = obj.routines.all()
    return qs if include_unpublished else qs.filter(is_published=True)


def stretches_for_condition(condition: Condition, *, include_unpublished: bool = False) -> QuerySet[Stretch]:
    qs = condition.stretches.order_by("region", "position", "name")
    return qs if include_unpublished else qs.filter(is_published=True)


def conditions_for(obj, *, include_unpublished: bool = False) -> QuerySet[Condition]:
    qs = obj.conditions.all()
    return qs if include_unpublished else qs.filter(is_published=True)
