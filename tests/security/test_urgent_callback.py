"""Red-team finding 11: /mri-review/urgent/ created an urgent case (and an
urgent staff email) with no red-flag answers and no minimum fill time."""

import pytest
from django.test import Client
from django.urls import reverse

from intake.models import ReviewRequest
from tests.intake.helpers import SAFETY_NO, step_url

pytestmark = pytest.mark.django_db
CALL_BACK = {"first_name": "Sam", "last_name": "Urgent", "phone": "(312) 555-0199", "consent_phone": "on"}


def test_a_call_back_without_the_safety_screen_is_sent_to_the_start(client, seeded):
    response = client.post(reverse("intake:urgent"), CALL_BACK, follow=True)
    assert response.redirect_chain[-1][0] == reverse("intake:start")
    assert "safety questions first" in response.content.decode()
    assert ReviewRequest.objects.count() == 0
    assert client.get(reverse("intake:urgent")).status_code == 302


def test_flags_from_another_session_do_not_count(client):
    Client().post(step_url("safety"), {**SAFETY_NO, "bladder_bowel": "yes"})
    assert client.post(reverse("intake:urgent"), CALL_BACK).status_code == 302
    assert ReviewRequest.objects.count() == 0


def test_a_call_back_sent_faster_than_a_person_makes_no_case(client, seeded, settings):
    settings.INTAKE_MIN_FILL_SECONDS = 3
    client.post(step_url("safety"), {**SAFETY_NO, "weakness": "yes"})
    response = client.post(reverse("intake:urgent"), CALL_BACK)
    assert response.status_code == 302 and response["Location"] == reverse("intake:thanks")
    assert ReviewRequest.objects.count() == 0


def test_a_call_back_at_a_persons_pace_keeps_its_flags(client, seeded, settings):
    settings.INTAKE_MIN_FILL_SECONDS = 3
    client.post(step_url("safety"), {**SAFETY_NO, "weakness": "yes", "cancer": "yes"})
    session = client.session  # the screen was answered half a minute ago
    session["intake_draft"] = {**session["intake_draft"], "started": session["intake_draft"]["started"] - 30}
    session.save()
    response = client.post(reverse("intake:urgent"), CALL_BACK)
    assert response.status_code == 200
    case = ReviewRequest.objects.get()
    assert case.kind == "urgent_callback"
    assert sorted(case.red_flags) == ["cancer", "weakness"]
