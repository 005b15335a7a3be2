"""A client generated from /api/v1/schema/ by openapi-python-client (issue 28,
point 3): made without a single warning, with enum members named from their
values, and used as a partner's developer would, against a live server."""

import copy
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from partners.serializers import ReferralSerializer

from .conftest import REFERRAL, make_key, make_partner

PACKAGE = "spine_clinic_partner_api_client"


@pytest.fixture(scope="module")
def served_schema(django_db_blocker) -> str:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(scope="module")
def generated(served_schema, tmp_path_factory):
    """(the generator's output, the folder holding the generated package)."""
    root = tmp_path_factory.mktemp("client")
    (root / "schema.yaml").write_text(served_schema)
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(  # noqa: S603  (our own venv's generator, fixed arguments)
        [str(bin_dir / "openapi-python-client"), "generate", "--path", "schema.yaml", "--meta", "none"],
        cwd=root,
        # ruff formats the generated code: the venv's own, so its absence is no warning either.
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output, root


def test_the_generator_prints_no_warning_about_the_schema(generated):
    output, root = generated
    assert (root / PACKAGE / "client.py").exists(), output
    assert "warning" not in output.lower() and "error" not in output.lower(), output
    assert output.strip() == f"Generating {root / PACKAGE}", output  # nothing else said at all


def test_the_generated_models_name_every_enum_member_and_declare_webhooks_and_headers(generated, served_schema):
    _, root = generated
    models = root / PACKAGE / "models"
    texts = {p.name: p.read_text() for p in models.glob("*.py")}
    assert not any("VALUE_" in t for t in texts.values()), [n for n, t in texts.items() if "VALUE_" in t]
    assert "blank_enum.py" not in texts and "null_enum.py" not in texts
    assert 'FROM_3_MONTHS_TO_12_MONTHS = "3m_12m"' in texts["pain_duration_enum.py"]
    assert 'PHYSICAL_THERAPY = "physical_therapy"' in texts["treatment_enum.py"]
    assert 'IN_REVIEW = "in_review"' in texts["stage_key_enum.py"]
    assert "physical_therapy: TreatmentDurationEnum | Unset" in texts["referral_request_treatments.py"]
    assert "mri_region: MriRegionEnum | None | Unset" in texts["referral_request.py"]
    assert "stage: Stage" in texts["stage_changed_event.py"]  # the webhook's payload, a model too
    schema = yaml.safe_load(served_schema)
    assert schema["openapi"].startswith("3.1")
    hook = schema["webhooks"]["referral.stage_changed"]["post"]
    assert hook["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/StageChangedEvent")
    create = schema["paths"]["/api/v1/referrals/"]["post"]["responses"]
    assert set(create["201"]["headers"]) == {"Location"}
    assert set(create["200"]["headers"]) == {"Location", "Idempotent-Replayed"}
    for path in schema["paths"].values():
        for op in path.values():
            if "429" in op["responses"]:
                assert "Retry-After" in op["responses"]["429"]["headers"]


def _validator(served_schema):
    doc = yaml.safe_load(served_schema)
    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": "urn:api#/components/schemas/ReferralRequest"}, registry=registry)


BROKEN = [
    # (what to change, the field the API names)
    ({"contact_method": "email", "consent_email": False}, "consent_email"),
    ({"contact_method": "text", "consent_text": False}, "consent_text"),
    ({"contact_method": "phone", "consent_phone": False}, "consent_phone"),
    ({"contact_method": "email", "email": ""}, "email"),  # any one way is enough, but the chosen way's
    ({"contact_method": "phone", "consent_phone": True, "phone": ""}, "phone"),
    ({"prior_surgery": True, "prior_surgery_details": "  "}, "prior_surgery_details"),
    ({"diagnoses": ["other"], "diagnosis_other": ""}, "diagnosis_other"),
    ({"diagnoses": ["none", "sciatica"]}, "diagnoses"),
    ({"diagnoses": ["none", "unsure"]}, "diagnoses"),
    ({"mri_region": None}, "mri_region"),
    ({"mri_taken_month": None}, "mri_taken_month"),
    ({"imaging_centre": ""}, "imaging_centre"),
]


@pytest.mark.parametrize(("change", "field"), BROKEN)
def test_the_schema_states_each_rule_the_api_enforces(served_schema, change, field):
    """The schema's if/then refuses exactly the bodies the serializer refuses."""
    validator = _validator(served_schema)
    good = copy.deepcopy(REFERRAL)
    assert list(validator.iter_errors(good)) == []
    assert ReferralSerializer(data=good).is_valid(), ReferralSerializer(data=good).errors
    bad = {**good, **change}
    serializer = ReferralSerializer(data=bad)
    assert not serializer.is_valid() and field in serializer.errors
    assert list(validator.iter_errors(bad)), f"the schema accepts {change}"


def test_no_mri_may_leave_the_mri_fields_out_or_null(served_schema):
    validator = _validator(served_schema)
    for body in (
        {**REFERRAL, "mri_status": "none", "mri_region": None, "mri_taken_month": None, "imaging_centre": ""},
        {k: v for k, v in {**REFERRAL, "mri_status": "none"}.items() if not k.startswith(("mri_t", "mri_r", "imag"))},
        {**REFERRAL, "mri_status": "none", "mri_region": "", "mri_taken_month": ""},  # older clients' blanks
    ):
        assert ReferralSerializer(data=body).is_valid(), ReferralSerializer(data=body).errors
        assert ReferralSerializer(data=body).is_valid() and ReferralSerializer(data=body).answers
    assert list(validator.iter_errors({**REFERRAL, "mri_region": ""}))  # "" is no member the schema offers


@pytest.fixture
def api(generated, monkeypatch):
    _, root = generated
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    return importlib.import_module(PACKAGE)


def test_a_referral_sent_replayed_refused_and_read_back_through_the_generated_client(api, live_server, seeded_tx):
    from spine_clinic_partner_api_client.api.referrals import referrals_create, referrals_retrieve
    from spine_clinic_partner_api_client.models import (
        ContactMethodEnum,
        ContactTimeEnum,
        DiagnosisEnum,
        LanguageEnum,
        MriRegionEnum,
        MriStatusEnum,
        PainDurationEnum,
        Problem,
        ReferralRequest,
        ReferralRequestTreatments,
        ReferralStatus,
        RegionEnum,
        SideEnum,
        StageKeyEnum,
        StateEnum,
        TreatmentDurationEnum,
    )

    partner = make_partner("Northside Family Practice")
    client = api.AuthenticatedClient(base_url=live_server.url, token=make_key(partner)[1])
    body = ReferralRequest(
        consent_attested=True,
        attested_by="Dr Ana Ruiz, referring physician",
        red_flags=[],
        first_name="Jordan",
        last_name="Reyes",
        date_of_birth=__import__("datetime").date(1971, 4, 2),
        email="jordan.reyes@example.com",
        phone="(312) 555-0142",
        postal_code="60614",
        state=StateEnum.IL,
        contact_method=ContactMethodEnum.PHONE,
        contact_time=ContactTimeEnum.ANY,
        consent_phone=True,
        regions=[RegionEnum.LOWER_BACK],
        side=SideEnum.LEFT,
        pain_duration=PainDurationEnum.FROM_3_MONTHS_TO_12_MONTHS,
        severity=6,
        radiating_pain=True,
        numbness=False,
        weakness=False,
        diagnoses=[DiagnosisEnum.HERNIATED_DISC],
        treatments=ReferralRequestTreatments(physical_therapy=TreatmentDurationEnum.OVER_3_MONTHS),
        prior_surgery=False,
        mri_status=MriStatusEnum.CENTRE_SENDS,
        mri_taken_month=REFERRAL["mri_taken_month"],
        mri_region=MriRegionEnum.LOWER_BACK,
        imaging_centre="Lakeside Imaging, Chicago",
        language=LanguageEnum.ES,
    )
    key = str(uuid.uuid4())
    created = referrals_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, ReferralStatus)
    reference = created.parsed.reference
    assert created.parsed.stage.key in (StageKeyEnum.SUBMITTED, StageKeyEnum.TRIAGE)
    assert created.headers["Location"] == f"/api/v1/referrals/{reference}/"

    replayed = referrals_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.parsed.reference == reference

    body.severity = 7
    conflict = referrals_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert conflict.status_code == 422 and isinstance(conflict.parsed, Problem)

    body.contact_method, body.consent_email = ContactMethodEnum.EMAIL, False
    refused = referrals_create.sync_detailed(client=client, body=body)
    assert refused.status_code == 400 and isinstance(refused.parsed, Problem)
    assert [e.pointer for e in refused.parsed.errors] == ["#/consent_email"]

    read = referrals_retrieve.sync_detailed(client=client, reference=reference)
    assert read.status_code == 200 and isinstance(read.parsed, ReferralStatus)
    assert read.parsed.reference == reference and isinstance(read.parsed.stage.key, StageKeyEnum)
    from intake.models import ReviewRequest

    case = ReviewRequest.objects.get(reference=reference)
    assert (case.pain_duration, case.treatments, case.language) == ("3m_12m", {"physical_therapy": "gt_3m"}, "es")
