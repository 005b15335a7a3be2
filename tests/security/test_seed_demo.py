"""Issue 22: `seed_demo` under the production settings created the demo staff
(coordinator, clinician, supervisor) with the password printed in the README."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from intake.seed import DEMO_STAFF
from tests.clinic.test_security import run_manage


def test_production_seed_demo_refuses_the_demo_staff_before_touching_the_database():
    # PROD_ENV's database host does not exist: the refusal comes first.
    result = run_manage("seed_demo")
    assert result.returncode != 0
    assert "will not create the demo staff" in result.stderr and "--no-staff" in result.stderr
    assert "demo-clinic-2026" not in result.stdout + result.stderr


@pytest.mark.django_db
def test_with_demo_staff_switched_off_no_account_is_made_and_no_staff_still_seeds(settings):
    settings.INTAKE_DEMO_STAFF_ALLOWED = False
    usernames = [username for username, *_ in DEMO_STAFF]
    with pytest.raises(CommandError, match="will not create the demo staff"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username__in=usernames).exists()
    call_command("seed_demo", "--no-staff")
    assert not get_user_model().objects.filter(username__in=usernames).exists()


@pytest.mark.django_db
def test_outside_production_the_demo_staff_are_still_made(settings):
    call_command("seed_demo")
    assert get_user_model().objects.filter(username__in=[u for u, *_ in DEMO_STAFF]).count() == len(DEMO_STAFF)
