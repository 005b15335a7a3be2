"""The staff page: clinicians write, coordinators read, other queues get 404,
the history shows who changed what, and a coordinator books the consult."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry
from intake.transitions import Status
from reviews.models import Consult, ReviewVersion
from reviews.services import review_save
from tests.intake.test_admin_support import change_url, make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db


def url(case):
    return reverse("admin:reviews_case_review", args=[case.pk])


def post_data(version=0, decision="candidate", **extra):
    data = {
        "version": version,
        "impression": "Worn discs at the bottom of the back.",
        "decision": decision,
        "decision_detail": "",
        "next_step": "A consultation with our surgeon.",
        "f-TOTAL_FORMS": "3",
        "f-INITIAL_FORMS": "0",
        "f-MIN_NUM_FORMS": "0",
        "f-MAX_NUM_FORMS": "23",
        "f-0-level": "L4-5",
        "f-0-herniation": "on",
        "f-0-herniation_side": "left",
        "f-1-level": "",
        "f-2-level": "",
        # The fixture's cases hold no files: the decision says so (reviews.services' images rule).
        "no_images_reason": "No images sent with this request.",
    }
    data.update(extra)
    return data


def test_the_case_page_links_to_the_review(client, staff, in_review):
    client.force_login(staff.coord_a)
    assert url(in_review) in client.get(change_url(in_review)).content.decode()


def test_a_clinician_saves_a_review_from_the_page(client, staff, in_review):
    client.force_login(staff.clinician)
    response = client.post(url(in_review), post_data())
    assert response.status_code == 302
    version = ReviewVersion.objects.get(review__case=in_review)
    assert version.author == staff.clinician
    assert [(f.level, f.herniation, f.herniation_side) for f in version.findings.all()] == [("L4-5", True, "left")]
    in_review.refresh_from_db()
    assert in_review.status == Status.CANDIDATE


def test_a_coordinator_reads_but_cannot_write(client, staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    client.force_login(staff.coord_a)
    page = client.get(url(in_review)).content.decode()
    assert "Wear and tear of the lowest discs" in page and 'id="review-form"' not in page
    assert AuditEntry.objects.filter(object_ref=in_review.reference, summary="Viewed the structured review").exists()
    assert client.post(url(in_review), post_data(version=1)).status_code == 403
    assert ReviewVersion.objects.filter(review__case=in_review).count() == 1


def test_another_queues_staff_get_404(client, staff, in_review):
    client.force_login(staff.coord_b)
    assert client.get(url(in_review)).status_code == 404


def test_the_history_shows_who_changed_what(client, staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    client.force_login(staff.clinician)
    client.post(url(in_review), post_data(version=1, impression="Changed words."))
    page = client.get(url(in_review)).content.decode()
    assert "Version 2</strong> by clinician_a" in page
    assert "Impression: “Wear and tear" in page and "“Changed words.”" in page
    assert "L5-S1: removed" in page


def test_a_stale_form_is_not_saved_and_says_why(client, staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    client.force_login(staff.clinician)
    response = client.post(url(in_review), post_data(version=0), follow=True)
    assert "changed by someone else" in response.content.decode()
    assert ReviewVersion.objects.filter(review__case=in_review).count() == 1


def test_a_coordinator_books_the_consult(client, staff):
    case = make_case(staff.queue_a, status=Status.CANDIDATE)
    client.force_login(staff.coord_a)
    assert 'id="consult-form"' in client.get(url(case)).content.decode()
    day = timezone.localdate() + timedelta(days=5)
    response = client.post(
        reverse("admin:reviews_case_consult", args=[case.pk]),
        {
            "version": case.version,
            "day": day.isoformat(),
            "time": "14:30",
            "duration_minutes": "30",
            "place": "Room 4",
            "video_url": "",
            "clinician": staff.clinician.pk,
        },
    )
    assert response.status_code == 302
    consult = Consult.objects.get(case=case)
    local = timezone.localtime(consult.starts_at)
    assert (local.date(), local.hour, local.minute) == (day, 14, 30)
    case.refresh_from_db()
    assert case.status == Status.CONSULT_SCHEDULED
