"""The spine-order rule and the hold-time bounds."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from education.choices import SpineRegion
from education.models import Routine, RoutineStep, Stretch
from education.services import routine_set_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def routine(db):
    return Routine.objects.create(name="Test routine", slug="test-routine", summary="A test.")


def test_routine_in_spine_order_is_saved(routine, make_stretch):
    neck = make_stretch("Neck one", SpineRegion.NECK)
    mid = make_stretch("Mid one", SpineRegion.MID_BACK)
    mid2 = make_stretch("Mid two", SpineRegion.MID_BACK)
    hips = make_stretch("Hips one", SpineRegion.HIPS_LEGS)

    routine_set_steps(routine=routine, stretches=[neck, mid2, mid, hips])

    assert [s.stretch.name for s in routine.steps.order_by("order")] == ["Neck one", "Mid two", "Mid one", "Hips one"]


def test_routine_out_of_spine_order_is_refused_naming_the_stretch(routine, make_stretch):
    neck = make_stretch("Chin nod", SpineRegion.NECK)
    lower = make_stretch("Knee hug", SpineRegion.LOWER_BACK)
    upper = make_stretch("Shoulder roll", SpineRegion.UPPER_BACK)

    with pytest.raises(ValidationError) as exc:
        routine_set_steps(routine=routine, stretches=[neck, lower, upper])

    message = " ".join(exc.value.messages)
    assert "“Shoulder roll”" in message
    assert "out of place" in message
    assert "Knee hug" in message  # what it wrongly follows
    assert not RoutineStep.objects.exists()


def test_refused_order_keeps_the_existing_steps(routine, make_stretch):
    neck = make_stretch("Chin nod", SpineRegion.NECK)
    hips = make_stretch("Hip opener", SpineRegion.HIPS_LEGS)
    routine_set_steps(routine=routine, stretches=[neck, hips])

    with pytest.raises(ValidationError):
        routine_set_steps(routine=routine, stretches=[hips, neck])

    assert [s.stretch for s in routine.steps.order_by("order")] == [neck, hips]


def test_moving_a_stretch_to_another_region_cannot_break_a_routine(routine, make_stretch):
    neck = make_stretch("Chin nod", SpineRegion.NECK)
    mid = make_stretch("Seated turn", SpineRegion.MID_BACK)
    routine_set_steps(routine=routine, stretches=[neck, mid])

    neck.region = SpineRegion.HIPS_LEGS
    with pytest.raises(ValidationError) as exc:
        neck.full_clean()
    assert "Test routine" in str(exc.value.message_dict["region"])
    assert "Chin nod" in str(exc.value.message_dict["region"])


@pytest.mark.parametrize("seconds", [19, 31])
def test_hold_time_outside_20_to_30_seconds_is_refused(make_stretch, seconds):
    with pytest.raises(ValidationError) as exc:
        make_stretch("Too short or long", hold_seconds=seconds)
    assert "hold_seconds" in exc.value.message_dict
    assert not Stretch.objects.exists()


@pytest.mark.parametrize("seconds", [20, 30])
def test_hold_time_of_20_and_30_seconds_is_accepted(make_stretch, seconds):
    stretch = make_stretch("Just right", hold_seconds=seconds)
    stretch.refresh_from_db()
    assert stretch.hold_seconds == seconds


def test_database_refuses_a_hold_time_out_of_range_even_without_validation(make_stretch):
    stretch = make_stretch("Direct write")
    with pytest.raises(IntegrityError):
        Stretch.objects.filter(pk=stretch.pk).update(hold_seconds=31)


def test_publishing_needs_a_clinical_review(make_stretch):
    with pytest.raises(ValidationError) as exc:
        make_stretch("Unreviewed", reviewed_by="", reviewed_on=None, is_published=True)
    assert "clinical reviewer" in " ".join(exc.value.messages)
