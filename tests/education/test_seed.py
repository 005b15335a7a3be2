import pytest

from education.models import Condition, Routine, RoutineStep, Stretch
from education.rules import check_spine_order
from education.seed import seed_content

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Condition, Stretch, Routine, RoutineStep)]


def test_seed_is_idempotent_and_keeps_edits():
    seed_content()
    before = counts()
    Stretch.objects.filter(slug="chin-tuck").update(summary="Edited by a supervisor.")
    seed_content()
    assert counts() == before
    assert Stretch.objects.get(slug="chin-tuck").summary == "Edited by a supervisor."


def test_seeded_routines_run_in_spine_order_and_are_reviewed():
    seed_content()
    for routine in Routine.objects.all():
        check_spine_order([step.stretch for step in routine.steps.order_by("order")])
        assert routine.is_published and routine.reviewed_by and routine.reviewed_on
        assert routine.conditions.exists()


def test_seed_demo_command_loads_the_content(seeded):
    from django.core.management import call_command

    call_command("seed_demo", "--no-staff")
    assert Routine.objects.published().count() == 3
