"""The retention purge takes the structured review and the consult with the
patient's data (INTAKE_PURGE_HOOKS)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.services.retention import case_purge
from intake.transitions import Status
from reviews.models import Consult, LevelFinding, Review, ReviewVersion
from reviews.services import consult_schedule, review_save
from tests.intake.test_admin_support import make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db


def test_the_purge_removes_the_review_and_the_consult_of_that_case_only(staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    consult_schedule(
        case=in_review,
        actor=staff.coord_a,
        starts_at=timezone.now() + timedelta(days=2),
        clinician=staff.clinician,
        place="Room 4",
    )
    other = make_case(staff.queue_a, status=Status.IN_REVIEW)
    review_save(case=other, author=staff.clinician, data=review_data("not_candidate"), expected_version=0)

    assert case_purge(case_id=in_review.pk) is True

    assert not Review.objects.filter(case=in_review).exists()
    assert not Consult.objects.filter(case=in_review).exists()
    assert list(ReviewVersion.objects.values_list("review__case_id", flat=True)) == [other.pk]
    assert LevelFinding.objects.filter(version__review__case=other).count() == 2
    in_review.refresh_from_db()
    assert in_review.status == Status.CONSULT_SCHEDULED and in_review.purged_at is not None
