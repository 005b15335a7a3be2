"""Fixtures for the reviews tests: the intake admin tests' staff and cases."""

import pytest

from intake.transitions import Status
from tests.intake.test_admin_support import make_case, make_staff


@pytest.fixture
def staff(seeded):
    return make_staff()


@pytest.fixture
def in_review(staff):
    return make_case(staff.queue_a, status=Status.IN_REVIEW)


def review_data(decision="candidate", **overrides):
    data = {
        "impression": "Wear and tear of the lowest discs, pressing on the left nerve.",
        "decision": decision,
        "decision_detail": {
            "candidate": "",
            "not_candidate": "Physical therapy twice a week for eight weeks, and walking every day.",
            "needs_more_info": "The date and result of your last nerve test.",
            "new_imaging": "A new MRI of the lower back, without contrast.",
        }[decision],
        "next_step": "Book a consultation with our spine surgeon.",
        "findings": [
            {"level": "L4-5", "disc_bulge": True, "herniation": True, "herniation_side": "left"},
            {"level": "L5-S1", "central_stenosis": "moderate", "foraminal_side": "both", "foraminal_grade": "mild"},
        ],
        # The fixtures' cases hold no files: a decision then says why it was
        # made without the images (reviews.services.review_save's rule).
        "no_images_reason": "No images sent with this request.",
    }
    data.update(overrides)
    return data
