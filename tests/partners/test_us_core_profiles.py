"""Issue 28, points 1 and 2: the FHIR export checked against the US Core 6.1.0
profiles themselves (tests/partners/us_core_6_1_0/, from the published package),
not against a list written from memory.

One test per profile. Each runs on the Bundles of every kind of case: one sent
from the patient form (in Spanish, with red flags), one a partner referred, one
with DICOM images, one decided with a structured review (the result letter, the
clinical summary, the DiagnosticReport) and one the patient withdrew (the staff
export: the API refuses it with 410). For every resource claiming the profile:

- every element the profile makes required (min >= 1) is there wherever its
  parent is;
- every must-support element is sent by at least one of the Bundles, or is in
  NOT_SENT with the reason the clinic has no such data;
- a coded element bound required or extensible uses the systems of its value
  set (and, where the value set lists its codes, one of those codes); an
  extensible binding may be text alone, as US Core allows;
- slices (category:us-core, extension:assertedDate) are filled as they define;
- every reference resolves inside the Bundle, to a resource claiming one of the
  profiles the element allows.

Every Bundle is also validated by fhir.resources' R4B models. The official R4
JSON schema (hl7.org/fhir/R4/fhir.schema.json) could not be had from here: the
FHIR site is not reachable and no package on PyPI or npm ships the 4.0.1 file
(docs/partners.md says so).
"""

import base64
import json
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from fhir.resources.R4B.bundle import Bundle

from imaging.models import ImagingSeries, ImagingStudy
from intake.models import ReviewRequest
from intake.services.submission import review_request_submit
from partners import fhir_codes
from partners.models import Partner
from tests.factories import UserFactory

from .conftest import auth, make_key, make_partner

pytestmark = pytest.mark.django_db

HERE = Path(__file__).parent / "us_core_6_1_0"
KINDS = ["web", "partner", "images", "decided", "withdrawn"]
SLICES_OF: dict = {}  # element id -> its slices' elements, for the profile being checked

# Value sets from FHIR R4 core (not in the US Core package) that the profiles bind
# required or extensible: their code systems and, for code lists, their codes
# (FHIR R4 4.0.1, the value sets' own pages).
CORE_VALUE_SETS = {
    "http://hl7.org/fhir/ValueSet/administrative-gender": ("", {"male", "female", "other", "unknown"}),
    "http://hl7.org/fhir/ValueSet/contact-point-system": (
        "",
        {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ),
    "http://hl7.org/fhir/ValueSet/contact-point-use": ("", {"home", "work", "temp", "old", "mobile"}),
    "http://hl7.org/fhir/ValueSet/request-status": (
        "",
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ),
    "http://hl7.org/fhir/ValueSet/request-intent": (
        "",
        {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order"}
        | {"instance-order", "option"},
    ),
    "http://hl7.org/fhir/ValueSet/questionnaire-answers-status": (
        "",
        {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    ),
    "http://hl7.org/fhir/ValueSet/document-reference-status": ("", {"current", "superseded", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/diagnostic-report-status": (
        "",
        {"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled"}
        | {"entered-in-error", "unknown"},
    ),
    "http://hl7.org/fhir/ValueSet/observation-status": (
        "",
        {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"},
    ),
    "http://hl7.org/fhir/ValueSet/mimetypes": ("", None),  # any MIME type (BCP 13)
    "http://hl7.org/fhir/ValueSet/identifier-use": ("", {"usual", "official", "temp", "secondary", "old"}),
    "http://hl7.org/fhir/ValueSet/name-use": (
        "",
        {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"},
    ),
    "http://hl7.org/fhir/ValueSet/address-use": ("", {"home", "work", "temp", "old", "billing"}),
    "http://hl7.org/fhir/ValueSet/address-type": ("", {"postal", "physical", "both"}),
    "http://hl7.org/fhir/ValueSet/request-priority": ("", {"routine", "urgent", "asap", "stat"}),
    "http://hl7.org/fhir/ValueSet/identifier-type": ("http://terminology.hl7.org/CodeSystem/v2-0203", None),
    "http://hl7.org/fhir/ValueSet/condition-clinical": (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        {"active", "recurrence", "relapse", "inactive", "remission", "resolved"},
    ),
    "http://hl7.org/fhir/ValueSet/condition-ver-status": (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"},
    ),
    "http://hl7.org/fhir/ValueSet/condition-category": (
        "http://terminology.hl7.org/CodeSystem/condition-category",
        {"problem-list-item", "encounter-diagnosis"},
    ),
    "http://hl7.org/fhir/ValueSet/servicerequest-category": ("http://snomed.info/sct", None),
    # IHE format codes (US Core's dependency ihe.formatcode.fhir), extensible.
    "http://hl7.org/fhir/ValueSet/formatcodes": ("http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", None),
    "http://hl7.org/fhir/ValueSet/data-absent-reason": (
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
        None,
    ),
    "http://hl7.org/fhir/ValueSet/observation-codes": ("http://loinc.org", None),
}

# Must-support elements no Bundle sends, each with why. A new must-support element
# in a profile fails the test until it is sent or named here.
NOT_SENT = {
    "Patient.address.line": "the request asks for the ZIP code and state only",
    "Patient.address.city": "the request asks for the ZIP code and state only",
    "ServiceRequest.occurrence[x]": "the review has no planned date when it is requested",
    "Condition.abatement[x]": "the clinic records no end to a reported condition",
    "Condition.category:screening-assessment": "no screening assessment is made",
    "QuestionnaireResponse.questionnaire.extension:questionnaireDisplay": "the canonical is enough: it is served",
    "QuestionnaireResponse.questionnaire.extension:url": "the canonical is enough: it is served",
    "QuestionnaireResponse.item.answer.item": "the Questionnaire has no nested questions",
    "QuestionnaireResponse.item.item": "the Questionnaire has no groups",
    "DocumentReference.content.attachment.url": "the PDF is sent inline (data), never as a link",
    "DocumentReference.context.encounter": "a review request has no encounter",
    "DocumentReference.context.period": "a letter covers no period of care",
    "DiagnosticReport.encounter": "a review request has no encounter",
    "DiagnosticReport.media": "key images stay in the clinic's viewer; the summary PDF carries them",
    "DiagnosticReport.media.link": "no media (see DiagnosticReport.media)",
    "Organization.identifier:NPI": "partners and the clinic are not registered with their NPI here",
    "Organization.address": "the clinic's and partners' addresses are not kept",
    "Organization.address.line": "no address kept",
    "Organization.address.city": "no address kept",
    "Organization.address.state": "no address kept",
    "Organization.address.postalCode": "no address kept",
    "Organization.address.country": "no address kept",
    "Observation.dataAbsentReason": "every level has a value",
}


def _load(name):
    return json.loads((HERE / name).read_text())


def _profile_sd(resource_type):
    url = fhir_codes.PROFILE[resource_type]
    return _load(f"StructureDefinition-{url.rsplit('/', 1)[1]}.json")


def _value_set(url):
    url = url.split("|")[0]
    if url in CORE_VALUE_SETS:
        system, codes = CORE_VALUE_SETS[url]
        return {system: codes}
    path = HERE / f"ValueSet-{url.rsplit('/', 1)[1]}.json"
    assert path.exists(), f"value set {url} is bound to an element the export sends: add it here"
    vs = json.loads(path.read_text())
    allowed = {}
    for inc in vs["compose"]["include"]:
        for nested in inc.get("valueSet", []):
            for system, codes in _value_set(nested).items():
                allowed[system] = None if codes is None else (allowed.get(system) or set()) | codes
        if "system" in inc:
            listed = {c["code"] for c in inc.get("concept", [])}
            if not listed or inc.get("filter"):
                allowed[inc["system"]] = None  # all of the system, or a filter we cannot expand here
            elif allowed.get(inc["system"], set()) is not None:
                allowed[inc["system"]] = allowed.get(inc["system"], set()) | listed
    return allowed


# --- walking a resource by an element id ---------------------------------------------------
def _children(node, name):
    """The values of ``name`` under ``node`` (a choice ``x[x]`` matches xString, xDateTime ...)."""
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        stem = name[:-3]
        values = [v for k, v in node.items() if k.startswith(stem) and k[len(stem) : len(stem) + 1].isupper()]
    else:
        values = [node[name]] if name in node else []
    out = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return out


def _slice_filter(element_id, slice_name, values, sd_elements):
    """The items of a sliced element that belong to the slice."""
    slice_el = sd_elements[element_id]
    if element_id.endswith(f"extension:{slice_name}"):
        url = slice_el["type"][0]["profile"][0]
        return [v for v in values if v.get("url") == url]
    binding = slice_el.get("binding")
    if binding:
        return [v for v in values if _in_value_set(v, binding["valueSet"])]
    if element_id.endswith(f"identifier:{slice_name}"):  # NPI
        return [v for v in values if v.get("system") == "http://hl7.org/fhir/sid/us-npi"]
    return values


def _in_value_set(concept, vs_url):
    allowed = _value_set(vs_url)
    for coding in concept.get("coding", []):
        if coding.get("system") in allowed:
            codes = allowed[coding["system"]]
            if codes is None or coding.get("code") in codes:
                return True
    return False


def _nodes(resource, element_id, sd_elements):
    """Every value in ``resource`` at ``element_id`` (e.g. 'Condition.category:us-core.coding')."""
    parts = element_id.split(".")[1:]
    nodes = [resource]
    walked = [element_id.split(".")[0]]
    for part in parts:
        name, _, slice_name = part.partition(":")
        walked.append(part)
        found = []
        for node in nodes:
            values = _children(node, name)
            if slice_name:
                values = _slice_filter(".".join(walked), slice_name, values, sd_elements)
            found.extend(values)
        nodes = found
    return nodes


def _parent_id(element_id):
    return element_id.rsplit(".", 1)[0]


# --- the Bundles ------------------------------------------------------------------------------
def _web_case():
    answers = {
        "first_name": "María José",
        "last_name": "Núñez",
        "date_of_birth": date(1968, 9, 14),
        "email": "mj.nunez@example.com",
        "phone": "+13125550199",
        "postal_code": "60608",
        "state": "IL",
        "contact_method": "text",
        "contact_time": "morning",
        "language": "es",
        "regions": ["neck", "upper_back"],
        "side": "right",
        "pain_duration": "lt_6w",
        "severity": 8,
        "radiating_pain": True,
        "numbness": True,
        "weakness": True,
        "diagnoses": ["spinal_stenosis", "other"],
        "diagnosis_other": "Cervical radiculopathy",
        "treatments": {"medication": "lt_6w"},
        "prior_surgery": False,
        "mri_status": "upload",
        "mri_taken_on": date(2026, 6, 1),
        "mri_region": "neck",
        "consent_privacy": True,
        "consent_text": True,
        "red_flags": ["fever", "weight_loss", "bladder_bowel"],
    }
    return review_request_submit(answers=answers)


def _add_images(case):
    study = ImagingStudy.objects.create(
        case=case,
        study_uid="1.2.826.0.1.3680043.8.498.10",
        study_date=date(2026, 6, 3),
        modality="MR",
        description="MR LUMBAR SPINE WO",
        accession_number="ACC-2026-0042",
    )
    ImagingSeries.objects.create(
        study=study, series_uid="1.2.826.0.1.3680043.8.498.11", number=1, modality="MR", description="SAG T2"
    )
    ImagingSeries.objects.create(
        study=study,
        series_uid="1.2.826.0.1.3680043.8.498.12",
        number=2,
        modality="MR",
        description="AX T2",
        slice_count=24,
    )
    return study


def _decide(case):
    from reviews.models import LevelFinding, Review, ReviewVersion

    review = Review.objects.create(case=case, version=1)
    version = ReviewVersion.objects.create(
        review=review,
        number=1,
        author=UserFactory(),
        impression="Your MRI shows a disc that presses on a nerve at the bottom of your back.",
        decision="candidate",
        decision_detail="Findings fit a procedure we offer.",
        next_step="We will call you to book a consult.",
    )
    LevelFinding.objects.create(
        version=version, level="L4-5", disc_bulge=True, central_stenosis="moderate", foraminal_side="left"
    )
    LevelFinding.objects.create(
        version=version, level="L5-S1", herniation=True, herniation_side="left", foraminal_grade="mild"
    )
    ReviewRequest.objects.filter(pk=case.pk).update(status="candidate")


@pytest.fixture
def bundles(client, seeded, referral_body):
    pytest.importorskip("reviews.documents", reason="the reviews app's documents are not in this checkout")
    partner = make_partner("Northside Family Practice")
    key = make_key(partner)[1]
    ehr_key = make_key(make_partner("Clinic EHR", kind=Partner.Kind.EHR))[1]

    def referred(**changes):
        body = dict(referral_body, **changes)
        response = client.post("/api/v1/referrals/", body, content_type="application/json", **auth(key))
        assert response.status_code == 201, response.content
        return ReviewRequest.objects.get(reference=response.json()["reference"])

    def export(case):
        response = client.get(f"/api/v1/cases/{case.reference}/fhir", **auth(ehr_key))
        assert response.status_code == 200, response.content
        return response.json()

    out = {"web": export(_web_case()), "partner": export(referred())}
    with_images = referred(email="img@example.com", phone="(312) 555-0170", first_name="Alex")
    _add_images(with_images)
    out["images"] = export(with_images)
    decided = referred(email="decided@example.com", phone="(312) 555-0171", first_name="Sam")
    _add_images(decided)
    _decide(decided)
    out["decided"] = export(decided)
    withdrawn = referred(email="gone@example.com", phone="(312) 555-0172", first_name="Kim")
    ReviewRequest.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
    assert client.get(f"/api/v1/cases/{withdrawn.reference}/fhir", **auth(ehr_key)).status_code == 410
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(supervisor)
    response = client.get(f"/api/v1/staff/cases/{withdrawn.pk}/fhir")
    assert response.status_code == 200
    out["withdrawn"] = response.json()
    client.logout()
    return out


def _resources(bundle, resource_type=None):
    return [
        e["resource"]
        for e in bundle["entry"]
        if resource_type is None or e["resource"]["resourceType"] == resource_type
    ]


def _check_profile(bundles, resource_type, expected_kinds):
    sd = _profile_sd(resource_type)
    assert sd["version"] == fhir_codes.US_CORE_VERSION
    elements = {e["id"]: e for e in sd["snapshot"]["element"]}
    claimed = {
        kind: [r for r in _resources(b, resource_type) if sd["url"] in r.get("meta", {}).get("profile", [])]
        for kind, b in bundles.items()
    }
    for kind in expected_kinds:
        assert claimed[kind], f"no {resource_type} claims {sd['url']} in the {kind} case's Bundle"
    for kind in bundles:
        unclaimed = [r["id"] for r in _resources(bundles[kind], resource_type) if r not in claimed[kind]]
        assert not unclaimed, f"{resource_type} without meta.profile in the {kind} Bundle"

    SLICES_OF.clear()
    for element_id, el in elements.items():
        base, _, slice_name = element_id.rpartition(":")
        if slice_name and "." not in slice_name:
            SLICES_OF.setdefault(base, {})[element_id] = el
    problems = []
    sent = set()
    for kind, resources in claimed.items():
        for resource in resources:
            for element_id, el in elements.items():
                if "." not in element_id:
                    continue
                nodes = _nodes(resource, element_id, elements)
                if nodes:
                    sent.add(element_id)
                # Required: present under every parent that is there.
                if el.get("min", 0) > 0:
                    parent_id = _parent_id(element_id)
                    parents = [resource] if "." not in parent_id else _nodes(resource, parent_id, elements)
                    name, _, slice_name = element_id.rsplit(".", 1)[1].partition(":")
                    for parent in parents:
                        values = _children(parent, name)
                        if slice_name:
                            values = _slice_filter(element_id, slice_name, values, elements)
                        if not values:
                            problems.append(f"{kind}: {resource_type}/{resource['id']} lacks required {element_id}")
                # Bound codes: the value set's systems (and codes where it lists them).
                binding = el.get("binding")
                if binding and binding["strength"] in ("required", "extensible") and nodes:
                    problems += _binding_problems(kind, resource, element_id, el, binding, nodes)
    must_support = {i for i, e in elements.items() if e.get("mustSupport") and "." in i}
    missing = sorted(must_support - sent - set(NOT_SENT))
    assert not missing, f"{resource_type}: must-support elements no Bundle sends: {missing}"
    assert not problems, "\n".join(problems)
    return claimed


def _binding_problems(kind, resource, element_id, el, binding, nodes):
    allowed = _value_set(binding["valueSet"])
    # An extensible binding admits a code from elsewhere; the profile's slices say which
    # (Condition.category: US Core's health-concern through category:us-core).
    for slice_id, slice_el in SLICES_OF.get(element_id, {}).items():
        if slice_el.get("binding", {}).get("strength") == "required":
            for system, codes in _value_set(slice_el["binding"]["valueSet"]).items():
                allowed[system] = (
                    None
                    if codes is None or allowed.get(system, set()) is None
                    else (allowed.get(system, set()) | codes)
                )
    types = {t["code"] for t in el.get("type", [])}
    out = []
    for node in nodes:
        where = f"{kind}: {resource['resourceType']}/{resource['id']} {element_id}"
        if isinstance(node, str):  # a code (or string, e.g. a state)
            codes = next(iter(allowed.values())) if len(allowed) == 1 else None
            if codes is not None and node not in codes:
                out.append(f"{where}: {node!r} not in {binding['valueSet']}")
            continue
        codings = node.get("coding", []) if "CodeableConcept" in types else [node]
        if not codings:
            if binding["strength"] == "required":
                out.append(f"{where}: text only under a required binding")
            continue  # extensible: text alone where no code fits (fhir_codes.TEXT_ONLY)
        for coding in codings:
            system = coding.get("system")
            if system not in allowed:
                if binding["strength"] == "required" or len(codings) == 1:
                    out.append(f"{where}: system {system} not in {binding['valueSet']} ({sorted(allowed)})")
                continue
            codes = allowed[system]
            if codes is not None and coding.get("code") not in codes:
                out.append(f"{where}: {system}|{coding.get('code')} not in {binding['valueSet']}")
    return out


def _check_references(bundle, kind):
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}

    def walk(node, path):
        if isinstance(node, dict):
            if "reference" in node and isinstance(node["reference"], str):
                assert node["reference"] in by_url, f"{kind}: {path} -> {node['reference']} is not in the Bundle"
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for v in node:
                walk(v, path)

    for e in bundle["entry"]:
        walk(e["resource"], e["resource"]["resourceType"])
    return by_url


def _check_target_profiles(bundles, resource_type):
    sd = _profile_sd(resource_type)
    for kind, bundle in bundles.items():
        by_url = _check_references(bundle, kind)
        for resource in _resources(bundle, resource_type):
            for el in sd["snapshot"]["element"]:
                targets = [
                    p for t in el.get("type", []) if t["code"] == "Reference" for p in t.get("targetProfile", [])
                ]
                us_core_targets = [p for p in targets if "/us/core/" in p]
                if not us_core_targets:
                    continue
                for ref in _nodes(resource, el["id"], {e["id"]: e for e in sd["snapshot"]["element"]}):
                    target = by_url[ref["reference"]]
                    profiles = set(target.get("meta", {}).get("profile", []))
                    assert profiles & set(targets), f"{kind}: {el['id']} points at {target['resourceType']} {profiles}"


# --- one test per profile ---------------------------------------------------------------------
def test_patient_is_us_core(bundles):
    claimed = _check_profile(bundles, "Patient", KINDS)
    web = claimed["web"][0]
    assert web["gender"] == "unknown"  # never asked
    assert web["communication"][0]["language"]["coding"][0] == {
        "system": "urn:ietf:bcp:47",
        "code": "es",
        "display": "Spanish",
    }
    assert {i["system"] for i in web["identifier"]} == {"https://fhir.riverside-spine.example/sid/person"}
    assert len(web["identifier"]) == 2  # one per contact: email and phone
    assert all("nunez" not in i["value"] and "1968" not in i["value"] for i in web["identifier"])


def test_organization_is_us_core(bundles):
    _check_profile(bundles, "Organization", KINDS)
    partner_org = [
        o for o in _resources(bundles["partner"], "Organization") if o["name"] == "Northside Family Practice"
    ]
    assert partner_org and partner_org[0]["active"] is True


def test_service_request_is_us_core(bundles):
    claimed = _check_profile(bundles, "ServiceRequest", KINDS)
    _check_target_profiles(bundles, "ServiceRequest")
    for kind in KINDS:
        sr = claimed[kind][0]
        conditions = {f"urn:uuid:{c['id']}" for c in _resources(bundles[kind], "Condition")}
        assert {r["reference"] for r in sr["reasonReference"]} == conditions  # every Condition is a reason
    assert claimed["withdrawn"][0]["status"] == "revoked"
    assert claimed["web"][0]["priority"] == "urgent"  # red flags
    web_requester = claimed["web"][0]["requester"]["reference"]  # the patient asked, through the form
    assert web_requester == f"urn:uuid:{_resources(bundles['web'], 'Patient')[0]['id']}"


def test_condition_is_us_core(bundles):
    claimed = _check_profile(bundles, "Condition", KINDS)
    _check_target_profiles(bundles, "Condition")
    web = {c["code"]["text"]: c for c in claimed["web"]}
    neck = web["Neck pain"]["code"]["coding"]
    assert {(c["system"], c["code"]) for c in neck} == {
        ("http://snomed.info/sct", "81680005"),
        ("http://hl7.org/fhir/sid/icd-10-cm", "M54.2"),
    }
    assert web["Neck pain"]["bodySite"][0]["coding"][0]["code"] == "122494005"
    assert web["Fever or chills together with back or neck pain"]["code"]["coding"][0]["code"] == "386661006"
    assert "coding" not in web["New loss of control of the bladder or bowels"]["code"]  # text only, on purpose
    categories = {c["code"]["text"]: c["category"][0]["coding"][0]["code"] for c in claimed["web"]}
    assert categories["Spinal stenosis"] == "problem-list-item" and categories["Neck pain"] == "health-concern"


def test_questionnaire_response_is_us_core(bundles):
    claimed = _check_profile(bundles, "QuestionnaireResponse", KINDS)
    _check_target_profiles(bundles, "QuestionnaireResponse")
    web = {i["linkId"]: i["answer"] for i in claimed["web"][0]["item"]}
    assert web["mri_taken_on"] == [{"valueDate": "2026-06"}]  # a month stays a month
    partner = claimed["partner"][0]
    orgs = {f"urn:uuid:{o['id']}": o["name"] for o in _resources(bundles["partner"], "Organization")}
    assert orgs[partner["author"]["reference"]] == "Northside Family Practice"


def test_document_reference_is_us_core(bundles):
    claimed = _check_profile(bundles, "DocumentReference", ["decided"])
    _check_target_profiles(bundles, "DocumentReference")
    types = {d["type"]["coding"][0]["code"]: d for d in claimed["decided"]}
    assert set(types) == {"11488-4", "18748-4"}  # the letter (consult note), the summary (imaging study)
    for doc in types.values():
        attachment = doc["content"][0]["attachment"]
        pdf = base64.b64decode(attachment["data"])
        assert pdf.startswith(b"%PDF") and attachment["size"] == len(pdf)
    for kind in ["web", "partner", "images", "withdrawn"]:
        assert not claimed[kind]  # no result the patient can read yet


def test_diagnostic_report_and_its_observations_are_us_core(bundles):
    reports = _check_profile(bundles, "DiagnosticReport", ["decided"])["decided"]
    observations = _check_profile(bundles, "Observation", ["decided"])["decided"]
    _check_target_profiles(bundles, "DiagnosticReport")
    _check_target_profiles(bundles, "Observation")
    report = reports[0]
    assert report["code"]["coding"][0]["code"] == "18748-4"
    assert base64.b64decode(report["presentedForm"][0]["data"]).startswith(b"%PDF")
    assert [o["bodySite"]["text"].split(" ")[0] for o in observations] == ["L4-5", "L5-S1"]
    assert {o["bodySite"]["coding"][0]["code"] for o in observations} == {"122496007"}  # lumbar spine structure
    assert {r["reference"] for r in report["result"]} == {f"urn:uuid:{o['id']}" for o in observations}


def test_imaging_study_keeps_the_dicom_uids(bundles):
    study = _resources(bundles["decided"], "ImagingStudy")[0]
    assert study["identifier"][0] == {"system": "urn:dicom:uid", "value": "urn:oid:1.2.826.0.1.3680043.8.498.10"}
    assert [s["uid"] for s in study["series"]] == ["1.2.826.0.1.3680043.8.498.11", "1.2.826.0.1.3680043.8.498.12"]
    assert study["numberOfSeries"] == 2


def test_every_bundle_is_valid_r4b_and_names_no_site_address(bundles, settings):
    for kind, bundle in bundles.items():
        Bundle.model_validate(bundle)
        _check_references(bundle, kind)
        assert settings.INTAKE_SITE_URL not in json.dumps(bundle), kind


def test_one_person_in_two_cases_is_one_patient(client, seeded, referral_body):
    key = make_key(make_partner("Clinic EHR", kind=Partner.Kind.EHR))[1]
    partner_key = make_key(make_partner("Northside Family Practice"))[1]
    refs = []
    for name in ["Jordan", "  jórdan "]:  # the same person, typed differently
        body = dict(referral_body, first_name=name)
        refs.append(
            client.post("/api/v1/referrals/", body, content_type="application/json", **auth(partner_key)).json()[
                "reference"
            ]
        )
    other = dict(referral_body, first_name="Jamie")  # a twin on the family email: another person
    refs.append(
        client.post("/api/v1/referrals/", other, content_type="application/json", **auth(partner_key)).json()[
            "reference"
        ]
    )
    patients = [_resources(client.get(f"/api/v1/cases/{r}/fhir", **auth(key)).json(), "Patient")[0] for r in refs]
    assert patients[0]["identifier"] == patients[1]["identifier"] and patients[0]["id"] == patients[1]["id"]
    assert not {i["value"] for i in patients[0]["identifier"]} & {i["value"] for i in patients[2]["identifier"]}


def test_codes_said_to_come_from_the_us_core_package_are_in_it():
    """fhir_codes names the value set each US Core code came from: it is there, with that display."""
    checked = 0
    for code in fhir_codes.ALL_CODES:
        if "ValueSet " not in code.source:
            continue
        name = code.source.split("ValueSet ", 1)[1].split()[0].rstrip(",;")
        vs = _load(f"ValueSet-{name}.json")
        listed = {
            (inc.get("system"), c["code"]): c.get("display")
            for inc in vs["compose"]["include"]
            for c in inc.get("concept", [])
        }
        if not listed:  # a whole code system (or a filter): the system must be the one included
            assert code.system in {inc.get("system") for inc in vs["compose"]["include"]}, code
        else:
            assert (code.system, code.code) in listed, code
            assert listed[(code.system, code.code)] in (None, code.display), code
        checked += 1
    assert checked >= 5
