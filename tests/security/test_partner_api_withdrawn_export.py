"""Third review, informational: a withdrawn case was still exported in full
over FHIR, to the referring partner and to the EHR. Now the export answers
410 Gone with a problem body and no health data, also once the withdrawn
case is closed."""

import pytest

from clinic.models import AuditEntry
from intake.models import ReviewRequest
from intake.services.lifecycle import case_transition
from intake.transitions import Status
from partners.models import Partner
from patientloop.services.requests import patient_withdraw
from tests.partners.conftest import REFERRAL, auth, make_key, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(client, seeded):
    practice_key = make_key(make_partner("Northside Family Practice"))[1]
    ehr_key = make_key(make_partner("Clinic EHR", kind=Partner.Kind.EHR))[1]
    ref = client.post("/api/v1/referrals/", REFERRAL, content_type="application/json", **auth(practice_key)).json()[
        "reference"
    ]
    assert client.get(f"/api/v1/cases/{ref}/fhir", **auth(practice_key)).status_code == 200
    case = ReviewRequest.objects.get(reference=ref)
    patient_withdraw(case_id=case.pk)
    return case, practice_key, ehr_key


def _assert_gone(response):
    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 410 and body["type"].endswith("/gone")
    text = response.content.decode()
    for value in ("Jordan", "Reyes", "1971", "jordan.reyes", "555-0142", "60614", "Lakeside"):
        assert value not in text


def test_the_referring_partner_gets_410_gone(client, withdrawn):
    case, practice_key, _ = withdrawn
    _assert_gone(client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(practice_key)))
    entry = AuditEntry.objects.filter(object_type="partner_api", object_ref=case.reference).latest("id")
    assert "410" in entry.summary


def test_the_ehr_gets_410_gone(client, withdrawn):
    case, _, ehr_key = withdrawn
    _assert_gone(client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(ehr_key)))


def test_still_gone_once_the_withdrawn_case_is_closed(client, withdrawn):
    case, practice_key, ehr_key = withdrawn
    case_transition(case_id=case.pk, to_status=Status.CLOSED)
    _assert_gone(client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(practice_key)))
    _assert_gone(client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(ehr_key)))
