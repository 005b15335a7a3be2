"""Fixtures shared by the intake tests."""

import pytest


@pytest.fixture
def staff(seeded):
    """Two staff queues (A and B) with coordinators, a clinician, a supervisor
    and a superuser: ``test_admin_support.make_staff``."""
    from .test_admin_support import make_staff

    return make_staff()
