"""Third review, low: a deeply nested JSON body gave a 500 HTML page and an
error mail (RecursionError in DRF's JSONParser). Now the nesting is checked
before the decoder runs: a 400 problem, nothing created, nothing mailed."""

import pytest
from django.core import mail

from intake.models import ReviewRequest
from partners.parsers import MAX_DEPTH, json_depth_exceeds
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def key_a(db):
    return make_key(make_partner("Northside Family Practice"))[1]


@pytest.fixture
def referral_body():
    return dict(REFERRAL)


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_a_deeply_nested_body_is_a_400_problem(client, key_a, opener, closer):
    body = opener * 100_000 + "1" + closer * 100_000
    response = client.post("/api/v1/referrals/", body, content_type="application/json", **auth(key_a))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "nests more than" in response.json()["detail"]
    assert ReviewRequest.objects.count() == 0
    assert mail.outbox == []


def test_a_nested_extra_field_in_an_otherwise_valid_referral_is_refused(client, key_a, referral_body):
    referral_body["extra"] = [[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]
    response = client.post("/api/v1/referrals/", referral_body, content_type="application/json", **auth(key_a))
    assert response.status_code == 400
    assert ReviewRequest.objects.count() == 0


def test_a_normal_referral_still_goes_through(client, key_a, referral_body):
    referral_body["attested_by"] = 'Dr "[[[[[[[[[[[[[[[[[[[[[[[[[ brackets in a string" do not nest'
    response = client.post("/api/v1/referrals/", referral_body, content_type="application/json", **auth(key_a))
    assert response.status_code == 201


def test_the_depth_check():
    assert not json_depth_exceeds("[" * MAX_DEPTH + "]" * MAX_DEPTH, MAX_DEPTH)
    assert json_depth_exceeds("[" * (MAX_DEPTH + 1), MAX_DEPTH)
    assert not json_depth_exceeds('["' + "[" * 50 + '"]', MAX_DEPTH)
    assert not json_depth_exceeds('["\\"' + "[" * 50 + '"]', MAX_DEPTH)
    assert json_depth_exceeds('["\\\\"' + "[" * 50, MAX_DEPTH)
    assert not json_depth_exceeds('"\\"\\"\\"' * 100_000, MAX_DEPTH)  # unterminated: left to the decoder
