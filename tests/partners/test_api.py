"""Keys, referrals with idempotency, status reads, problem details, throttling, audit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import AuditEntry
from intake.models import CaseEvent, Outbox, ReviewRequest
from partners.models import ApiKey, Referral, Scope

from .conftest import auth, make_key, make_partner

URL = "/api/v1/referrals/"
pytestmark = pytest.mark.django_db


def post(client, body, key, **extra):
    return client.post(URL, body, content_type="application/json", **auth(key), **extra)


def test_a_referral_makes_a_case_through_the_patient_forms_service(client, seeded, key_a, referral_body):
    response = post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="ref-0001")
    assert response.status_code == 201, response.content
    ref = response.json()["reference"]
    case = ReviewRequest.objects.get(reference=ref)
    assert response["Location"] == f"/api/v1/referrals/{ref}/"
    assert response.json()["stage"] == {
        "key": "submitted",
        "headline": "We have your request",
        "next_step": "A member of our team will look at it and contact you.",
    }
    # What the form's steps would have stored
    assert (case.first_name, case.phone, case.email) == ("Jordan", "+13125550142", "jordan.reyes@example.com")
    assert case.mri_taken_on.day == 1 and case.treatments == {"physical_therapy": "gt_3m", "medication": "6w_3m"}
    assert case.consent_privacy is True and case.consent_version and case.source == "doctor"
    assert case.submission_key.startswith("partner:")
    assert Outbox.objects.filter(case=case, state="pending").exists()
    referral = Referral.objects.get(case=case)
    assert referral.attested_by == "Dr Ana Ruiz, referring physician" and referral.attested_at is not None
    assert CaseEvent.objects.filter(case=case, kind="submitted").count() == 1


def test_red_flags_make_the_case_urgent_and_a_duplicate_is_flagged(client, seeded, key_a, referral_body):
    first = post(client, referral_body, key_a).json()["reference"]
    referral_body["red_flags"] = ["fever"]
    second = post(client, referral_body, key_a)
    assert second.status_code == 201
    case = ReviewRequest.objects.get(reference=second.json()["reference"])
    assert case.is_urgent and case.red_flags == ["fever"] and second.json()["urgent"] is True
    assert case.is_duplicate and case.duplicate_of.reference == first


def test_a_retry_with_the_same_idempotency_key_returns_the_first_case(client, seeded, key_a, referral_body):
    first = post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert ReviewRequest.objects.count() == 1 and Referral.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(client, seeded, key_a, referral_body):
    post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="abc-2")
    referral_body["severity"] = 9
    response = post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="abc-2")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in response.json()["detail"]
    assert ReviewRequest.objects.count() == 1


def test_the_same_idempotency_key_from_two_partners_makes_two_cases(client, seeded, key_a, referral_body):
    key_b = make_key(make_partner("Lakeshore Spine Partners"))[1]
    a = post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="same")
    b = post(client, referral_body, key_b, HTTP_IDEMPOTENCY_KEY="same")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["reference"] != b.json()["reference"]


def test_field_errors_are_problem_details_and_nothing_is_created(client, seeded, key_a, referral_body):
    referral_body.update(phone="123", severity=11, consent_attested=False, diagnoses=["none", "sciatica"])
    del referral_body["last_name"]
    response = post(client, referral_body, key_a)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["type"].endswith("/invalid-request")
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"#/phone", "#/severity", "#/consent_attested", "#/last_name"} <= pointers
    assert ReviewRequest.objects.count() == 0 and Referral.objects.count() == 0
    # Cross-field checks come after the fields are valid
    referral_body.update(phone="(312) 555-0142", severity=5, consent_attested=True, last_name="Reyes")
    response = post(client, referral_body, key_a)
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/diagnoses"}
    assert ReviewRequest.objects.count() == 0


def test_the_patient_forms_rules_hold(client, seeded, key_a, referral_body):
    referral_body.update(date_of_birth=str(timezone.localdate().replace(year=timezone.localdate().year - 10)))
    referral_body.update(contact_method="text", mri_taken_month="", diagnoses=["other"])
    response = post(client, referral_body, key_a)
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"#/submitted_by_guardian", "#/consent_text", "#/mri_taken_month", "#/diagnosis_other"}


def test_a_bad_idempotency_key_or_broken_json_is_a_400_problem(client, seeded, key_a, referral_body):
    assert post(client, referral_body, key_a, HTTP_IDEMPOTENCY_KEY="x" * 41).status_code == 400
    response = client.post(URL, "{not json", content_type="application/json", **auth(key_a))
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert ReviewRequest.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Token ck_00000000_x", "Bearer ck_00000000_wrong"],
)
def test_no_valid_key_is_a_401(client, seeded, key_a, referral_body, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(URL, referral_body, content_type="application/json", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["title"] == "No valid API key"
    assert ReviewRequest.objects.count() == 0


def test_a_wrong_secret_with_a_real_prefix_is_a_401(client, seeded, key_a, referral_body):
    prefix = key_a.split("_")[1]
    assert post(client, referral_body, f"ck_{prefix}_{'A' * 43}").status_code == 401


def test_revoked_and_expired_keys_and_inactive_partners_are_refused(client, seeded, partner_a, referral_body):
    key, full = make_key(partner_a)
    assert client.get(URL, **auth(full)).status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert client.get(URL, **auth(full)).status_code == 401
    key2, full2 = make_key(partner_a)
    ApiKey.objects.filter(pk=key2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(URL, **auth(full2)).status_code == 401
    key3, full3 = make_key(partner_a)
    assert client.get(URL, **auth(full3)).status_code == 200
    partner_a.is_active = False
    partner_a.save()
    assert client.get(URL, **auth(full3)).status_code == 401


def test_keys_are_stored_hashed(partner_a):
    key, full = make_key(partner_a)
    row = ApiKey.objects.get(pk=key.pk)
    secret = full.split("_", 2)[2]
    assert secret not in str(row.__dict__) and full not in str(row.__dict__)
    assert len(row.secret_hash) == 64


@pytest.mark.parametrize(
    ("scopes", "method", "path", "expected"),
    [
        ([Scope.REFERRALS_READ], "post", URL, 403),
        ([Scope.REFERRALS_WRITE], "get", URL, 403),
        ([Scope.REFERRALS_WRITE], "get", URL + "{ref}/", 403),
        ([Scope.REFERRALS_READ], "get", "/api/v1/cases/{ref}/fhir", 403),
        ([Scope.REFERRALS_READ], "get", URL + "{ref}/", 200),
        ([Scope.CASES_EXPORT], "get", "/api/v1/cases/{ref}/fhir", 200),
    ],
)
def test_scopes(client, seeded, partner_a, key_a, referral_body, scopes, method, path, expected):
    ref = post(client, referral_body, key_a).json()["reference"]
    full = make_key(partner_a, scopes=scopes)[1]
    call = getattr(client, method)
    response = call(
        path.format(ref=ref), referral_body if method == "post" else None, content_type="application/json", **auth(full)
    )
    assert response.status_code == expected
    if expected == 403:
        assert response["Content-Type"] == "application/problem+json"


def test_status_in_the_patients_plain_stage_and_nothing_clinical(client, seeded, key_a, referral_body):
    ref = post(client, referral_body, key_a).json()["reference"]
    body = client.get(f"{URL}{ref}/", **auth(key_a)).json()
    assert set(body) == {"reference", "stage", "promised_by", "urgent", "created_at", "updated_at"}
    assert body["stage"]["headline"] == "We have your request"
    # The phone as given and as stored (a bare "555" could match a timestamp's microseconds).
    for answer in ("Reyes", "herniated", "Lakeside", "555-0142", "5550142"):
        assert answer not in str(body)
    listing = client.get(URL, **auth(key_a)).json()
    assert listing["count"] == 1 and listing["results"][0]["reference"] == ref


def test_the_rate_limit_is_per_key(client, seeded, settings, partner_a, key_a):
    settings.INTAKE_API_RATE_LIMIT = "3/min"
    other = make_key(partner_a)[1]
    codes = [client.get(URL, **auth(key_a)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get(URL, **auth(key_a))
    assert limited["Content-Type"] == "application/problem+json" and int(limited["Retry-After"]) > 0
    assert client.get(URL, **auth(other)).status_code == 200  # another key has its own budget


def test_every_call_is_audited_without_health_data(client, seeded, key_a, referral_body):
    ref = post(client, referral_body, key_a).json()["reference"]
    client.get(f"{URL}{ref}/", **auth(key_a))
    client.get(URL, HTTP_AUTHORIZATION="Bearer ck_00000000_nope")
    entries = list(AuditEntry.objects.filter(object_type="partner_api").order_by("pk"))
    assert [(e.action, e.object_ref) for e in entries] == [("change", ref), ("view_case", ref), ("refused", "")]
    assert "201" in entries[0].summary and "key " in entries[0].summary
    text = " ".join(e.summary for e in entries)
    for answer in ("Jordan", "Reyes", "1971", "jordan.reyes", "herniated", "Lakeside"):
        assert answer not in text


def test_the_rate_limit_fails_open_when_the_cache_is_down(client, seeded, settings, key_a, monkeypatch):
    from django.core.cache import cache

    settings.INTAKE_API_RATE_LIMIT = "1/min"

    def down(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    assert [client.get(URL, **auth(key_a)).status_code for _ in range(3)] == [200, 200, 200]


def test_unknown_api_addresses_are_problem_404s(client, db):
    response = client.post("/api/v1/referrals", {}, content_type="application/json")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Add a slash at the end: /api/v1/referrals/"
    other = client.get("/api/v1/nothing-here")
    assert other.status_code == 404 and "/api/v1/schema/" in other.json()["detail"]


def test_a_referral_in_spanish_makes_a_spanish_case(client, seeded, key_a, referral_body):
    from django.core import mail
    from django.utils import translation

    from intake.services.notifications import notification_send

    body = {**referral_body, "language": "es", "contact_method": "email", "consent_email": True}
    response = post(client, body, key_a)
    assert response.status_code == 201, response.content
    case = ReviewRequest.objects.get(reference=response.json()["reference"])
    assert case.language == "es"
    assert case.consent_version.endswith("/es")
    # The patient's confirmation goes in Spanish, whoever sends it.
    with translation.override("en"):
        notification_send(notification_id=case.notifications.get().pk)
    [message] = mail.outbox
    assert "Recibimos su solicitud" in message.subject


def test_a_referral_without_a_language_is_english_and_an_unknown_one_is_refused(client, seeded, key_a, referral_body):
    english = post(client, referral_body, key_a)
    assert ReviewRequest.objects.get(reference=english.json()["reference"]).language == "en"
    refused = post(client, {**referral_body, "language": "fr"}, key_a)
    assert refused.status_code == 400
    assert "language" in str(refused.json())
    assert ReviewRequest.objects.count() == 1


def test_a_referral_for_a_patient_with_no_email_is_accepted(client, seeded, key_a, referral_body):
    """Issue 23: any one way to reach the patient is enough, through the API too."""
    del referral_body["email"]
    referral_body.update(contact_method="text", consent_text=True, consent_email=False)
    response = post(client, referral_body, key_a)
    assert response.status_code == 201, response.content
    case = ReviewRequest.objects.get(reference=response.json()["reference"])
    assert (case.email, case.phone, case.consent_text) == ("", "+13125550142", True)
    # The FHIR export of that case has a phone and no empty email.
    fhir = client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(key_a)).json()
    [patient] = [e["resource"] for e in fhir["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [t["system"] for t in patient["telecom"]] == ["phone"]


def test_a_referral_with_no_way_to_reach_the_patient_is_refused(client, seeded, key_a, referral_body):
    referral_body.update(email="", phone="", consent_email=True)
    response = post(client, referral_body, key_a)
    assert response.status_code == 400
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"#/email", "#/phone"} <= pointers
    assert ReviewRequest.objects.count() == 0
