"""review_save: versions, amendments (who changed what), permissions, and the
case's move through the lifecycle."""

import pytest

from intake.models import CaseEvent, Notification
from intake.services.errors import CaseConflict, IllegalTransition, ServiceError
from intake.transitions import Status
from patientloop.models import PatientRequest, PendingUpdate
from reviews.models import LevelFinding, Review, ReviewVersion
from reviews.selectors import review_current, review_history
from reviews.services import review_save
from tests.factories import MembershipFactory, UserFactory
from tests.intake.test_admin_support import make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db


def test_first_review_saves_findings_and_moves_the_case_to_candidate(staff, in_review):
    version = review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)

    assert version.number == 1 and version.author == staff.clinician
    assert [(f.level, f.herniation_side) for f in version.findings.all().order_by("pk")] == [
        ("L4-5", "left"),
        ("L5-S1", ""),
    ]
    in_review.refresh_from_db()
    assert in_review.status == Status.CANDIDATE
    assert in_review.decision_reason == "procedure_candidate"
    event = in_review.events.get(kind=CaseEvent.Kind.STATUS, to_status=Status.CANDIDATE)
    assert event.actor == staff.clinician and "Structured review version 1" in event.body
    # The patient hears through intake's notify_patient (channels and combining are patientloop's).
    assert PendingUpdate.objects.filter(case=in_review).count() == 1


def test_an_amendment_keeps_the_earlier_version_and_shows_who_changed_what(staff, in_review, monkeypatch):
    told = []
    monkeypatch.setattr("reviews.services.notify_patient", lambda case, kind, occasion: told.append((kind, occasion)))
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    second = UserFactory(username="clinician_b", groups=["Clinician"])
    MembershipFactory(queue=staff.queue_a, user=second)
    changed = review_data(impression="Worn discs; the left nerve is pinched at L4-5.")
    changed["findings"][0]["herniation_side"] = "right"
    changed["findings"] = changed["findings"][:1] + [{"level": "L3-4", "disc_bulge": True}]

    review_save(case=in_review, author=second, data=changed, expected_version=1)

    assert ReviewVersion.objects.filter(review__case=in_review).count() == 2
    assert LevelFinding.objects.filter(version__review__case=in_review).count() == 4  # 2 + 2, none overwritten
    history = review_history(in_review.pk)
    assert [h["version"].author.username for h in history] == ["clinician_b", "clinician_a"]
    changes = history[0]["changes"]
    assert any(c.startswith("Impression:") and "pinched" in c for c in changes)
    assert "L4-5 herniation side: left → right" in changes
    assert "L3-4: added" in changes and "L5-S1: removed" in changes
    assert history[1]["changes"] == ["First version"]
    assert review_current(in_review.pk).impression.startswith("Worn discs")
    in_review.refresh_from_db()
    assert in_review.status == Status.CANDIDATE  # same decision: no second move
    # The letter changed without a new decision: the patient is told once, by the new version.
    assert told == [(Notification.Kind.PATIENT_STATUS, f"result:{history[0]['version'].pk}")]


def test_a_coordinator_is_refused_and_nothing_is_written(staff, in_review):
    with pytest.raises(ServiceError, match="Only clinicians"):
        review_save(case=in_review, author=staff.coord_a, data=review_data(), expected_version=0)

    assert not Review.objects.filter(case=in_review).exists()
    in_review.refresh_from_db()
    assert in_review.status == Status.IN_REVIEW


def test_a_stale_form_is_refused(staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    with pytest.raises(CaseConflict):
        review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    assert ReviewVersion.objects.filter(review__case=in_review).count() == 1


@pytest.mark.parametrize(
    ("decision", "status", "reason", "asked"),
    [
        ("not_candidate", Status.NOT_CANDIDATE, "conservative_care", None),
        ("needs_more_info", Status.NEEDS_MORE_INFO, "needs_information", "information"),
        # The decision is "needs more information" (imaging reason); the patient is
        # then asked for the images, which moves the case on to "awaiting MRI".
        ("new_imaging", Status.AWAITING_MRI, "imaging_insufficient", "images"),
    ],
)
def test_each_decision_moves_the_case_with_its_reason(staff, in_review, decision, status, reason, asked):
    review_save(case=in_review, author=staff.clinician, data=review_data(decision), expected_version=0)
    in_review.refresh_from_db()
    assert (in_review.status, in_review.decision_reason) == (status, reason)
    decided = in_review.events.get(to_status__in=[Status.NOT_CANDIDATE, Status.NEEDS_MORE_INFO])
    assert decided.reason_category == reason and decided.actor == staff.clinician
    requests = list(PatientRequest.objects.filter(case=in_review).values_list("kind", "questions", "state"))
    if asked is None:
        assert requests == []
    else:
        assert requests == [(asked, review_data(decision)["decision_detail"], "open")]


def test_a_decision_the_table_does_not_allow_rolls_the_version_back(staff, in_review):
    review_save(case=in_review, author=staff.clinician, data=review_data(), expected_version=0)
    with pytest.raises(IllegalTransition):
        review_save(case=in_review, author=staff.clinician, data=review_data("not_candidate"), expected_version=1)
    assert ReviewVersion.objects.filter(review__case=in_review).count() == 1
    assert Review.objects.get(case=in_review).version == 1


def test_written_from_mri_received_the_case_passes_through_in_review(staff):
    case = make_case(staff.queue_a, status=Status.MRI_RECEIVED)
    review_save(case=case, author=staff.clinician, data=review_data(), expected_version=0)
    moves = list(case.events.filter(kind=CaseEvent.Kind.STATUS).values_list("to_status", flat=True))
    assert moves == [Status.IN_REVIEW, Status.CANDIDATE]


@pytest.mark.parametrize(
    ("finding", "message"),
    [
        ({"level": "L4-5", "herniation": True}, "needs its side"),
        ({"level": "L4-5", "foraminal_side": "left"}, "both a side and a grade"),
        ({"level": "L9-10", "disc_bulge": True}, "L9-10"),
    ],
)
def test_incomplete_findings_are_refused(staff, in_review, finding, message):
    with pytest.raises(ServiceError, match=message):
        review_save(case=in_review, author=staff.clinician, data=review_data(findings=[finding]), expected_version=0)
    assert not ReviewVersion.objects.exists()
