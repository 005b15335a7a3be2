"""A case as a FHIR R4 Bundle for the EHR (a read; writes nothing).

Resources: Patient, ServiceRequest (the review request), QuestionnaireResponse
(the answers, against ``questionnaire()``, published at
/api/v1/fhir/Questionnaire/mri-review), Condition (each diagnosis the patient
was told), ImagingStudy (each study the imaging index holds) and, once the
patient can read one, DocumentReference (the result letter's PDF, inline).

Validated with fhir.resources' R4B models (FHIR 4.3, which changes none of
these resources' elements used here from R4) before it leaves the server.
"""

import base64
import uuid

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from intake import choices
from intake.models import CaseEvent, ReviewRequest
from intake.transitions import SETTLED, Status

QUESTIONNAIRE_VERSION = "2026-11"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
HL7 = "http://terminology.hl7.org/CodeSystem"


def case_withdrawn(case: ReviewRequest) -> bool:
    """The patient withdrew the request (now or before it was closed): such a
    case is never exported again, to a partner or to the EHR."""
    if case.status == Status.WITHDRAWN:
        return True
    return CaseEvent.objects.filter(case=case, to_status=Status.WITHDRAWN).exists()


def questionnaire_url() -> str:
    return settings.INTAKE_SITE_URL + "/api/v1/fhir/Questionnaire/mri-review"


def _system(link_id: str) -> str:
    return f"{questionnaire_url()}#{link_id}"


def _options(link_id, model_choices):
    return [
        {"valueCoding": {"system": _system(link_id), "code": v, "display": str(label)}} for v, label in model_choices
    ]


# linkId, question, FHIR type, choices (for 'choice'), repeats
ITEMS = [
    ("red_flags", "Red-flag symptoms reported now", "choice", choices.RedFlag.choices, True),
    ("contact_method", "How should we contact you?", "choice", choices.ContactMethod.choices, False),
    ("contact_time", "When is a good time?", "choice", choices.ContactTime.choices, False),
    ("regions", "Where is your pain?", "choice", choices.Region.choices, True),
    ("side", "Which side?", "choice", choices.Side.choices, False),
    ("pain_duration", "How long have you had this pain?", "choice", choices.PainDuration.choices, False),
    ("severity", "How bad is it on most days, from 0 to 10?", "integer", None, False),
    ("radiating_pain", "Does the pain travel into your arm or leg?", "boolean", None, False),
    ("numbness", "Do you have numbness or tingling?", "boolean", None, False),
    ("weakness", "Do you have weakness in an arm or leg?", "boolean", None, False),
    ("diagnoses", "Has a doctor told you that you have any of these?", "choice", choices.Diagnosis.choices, True),
    ("diagnosis_other", "If something else, what were you told?", "string", None, False),
    *[
        (f"treatment_{t.value}", f"Tried: {t.label}, for how long", "choice", choices.TreatmentDuration.choices, False)
        for t in choices.Treatment
    ],
    ("prior_surgery", "Have you had surgery on your spine before?", "boolean", None, False),
    ("prior_surgery_details", "If yes, what surgery and when?", "string", None, False),
    ("mri_status", "Have you had an MRI of your spine?", "choice", choices.MriStatus.choices, False),
    ("mri_taken_on", "When was it taken (first day of the month)?", "date", None, False),
    ("mri_region", "Which part of your spine was scanned?", "choice", choices.MriRegion.choices, False),
    ("imaging_centre", "Imaging centre (name and town)", "string", None, False),
]


def questionnaire() -> dict:
    """The request form as a FHIR Questionnaire (no patient data)."""
    items = []
    for link_id, text, kind, opts, repeats in ITEMS:
        item = {"linkId": link_id, "text": text, "type": kind}
        if opts:
            item["answerOption"] = _options(link_id, opts)
        if repeats:
            item["repeats"] = True
        items.append(item)
    q = {
        "resourceType": "Questionnaire",
        "id": "mri-review",
        "url": questionnaire_url(),
        "version": QUESTIONNAIRE_VERSION,
        "name": "MriReviewRequest",
        "title": "No-cost MRI review request",
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }
    Questionnaire.model_validate(q)
    return q


def _answers(case: ReviewRequest) -> dict:
    treatments = case.treatments or {}
    values = {
        "red_flags": case.red_flags or [],
        "contact_method": case.contact_method,
        "contact_time": case.contact_time,
        "regions": case.regions or [],
        "side": case.side,
        "pain_duration": case.pain_duration,
        "severity": case.severity,
        "radiating_pain": case.radiating_pain,
        "numbness": case.numbness,
        "weakness": case.weakness,
        "diagnoses": case.diagnoses or [],
        "diagnosis_other": case.diagnosis_other,
        **{f"treatment_{t.value}": treatments.get(t.value, "") for t in choices.Treatment},
        "prior_surgery": case.prior_surgery,
        "prior_surgery_details": case.prior_surgery_details,
        "mri_status": case.mri_status,
        "mri_taken_on": case.mri_taken_on,
        "mri_region": case.mri_region,
        "imaging_centre": case.imaging_centre,
    }
    return values


def _response_items(case: ReviewRequest) -> list[dict]:
    values = _answers(case)
    items = []
    for link_id, text, kind, opts, _repeats in ITEMS:
        value = values.get(link_id)
        if value is None or value == "" or value == []:
            continue
        labels = dict(opts or [])
        many = value if isinstance(value, list) else [value]
        answers = []
        for v in many:
            if kind == "choice":
                answers.append(
                    {"valueCoding": {"system": _system(link_id), "code": v, "display": str(labels.get(v, v))}}
                )
            elif kind == "boolean":
                answers.append({"valueBoolean": bool(v)})
            elif kind == "integer":
                answers.append({"valueInteger": int(v)})
            elif kind == "date":
                answers.append({"valueDate": v.isoformat()})
            else:
                answers.append({"valueString": str(v)})
        items.append({"linkId": link_id, "text": text, "answer": answers})
    return items


def _service_request_status(case: ReviewRequest) -> str:
    if case.status in (Status.WITHDRAWN, Status.DUPLICATE):
        return "revoked"
    if case.status in SETTLED or case.status == Status.CLOSED:
        return "completed"
    return "active"


def case_bundle(case: ReviewRequest, *, studies=(), letter=None) -> dict:
    """The Bundle (type ``collection``) for ``case``; ``studies``: its imaging
    index rows; ``letter``: (date, PDF bytes) of the patient's result letter, if any."""
    ids = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case.reference}/{name}")) for name in ("patient", "sr", "qr")}
    ref = {k: f"urn:uuid:{v}" for k, v in ids.items()}
    site = settings.INTAKE_SITE_URL
    case_identifier = {"system": f"{site}/case-reference", "value": case.reference}
    telecom = []
    if case.phone:
        telecom.append({"system": "phone", "value": case.phone, "use": "mobile"})
    if case.email:
        telecom.append({"system": "email", "value": case.email})
    patient = {
        "resourceType": "Patient",
        "id": ids["patient"],
        "identifier": [case_identifier],
        "name": [{"family": case.last_name, "given": [case.first_name]}],
        "telecom": telecom or None,
        "birthDate": case.date_of_birth.isoformat() if case.date_of_birth else None,
        "address": [{"postalCode": case.postal_code, "state": case.state, "country": "US"}]
        if case.postal_code or case.state
        else None,
    }
    referral = getattr(case, "referral", None)  # a case from the patient form has none
    service_request = {
        "resourceType": "ServiceRequest",
        "id": ids["sr"],
        "identifier": [case_identifier],
        "status": _service_request_status(case),
        "intent": "order",
        "priority": "urgent" if case.is_urgent else "routine",
        "code": {"text": str(choices.Kind(case.kind).label)},
        "subject": {"reference": ref["patient"]},
        "authoredOn": case.created_at.isoformat(),
        "supportingInfo": [{"reference": ref["qr"]}],
    }
    if referral is not None:
        service_request["requester"] = {"display": referral.partner.name}
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": ids["qr"],
        "questionnaire": f"{questionnaire_url()}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": {"reference": ref["patient"]},
        "basedOn": [{"reference": ref["sr"]}],
        "authored": case.created_at.isoformat(),
        "item": _response_items(case),
    }
    resources = [patient, service_request, qr]
    labels = dict(choices.Diagnosis.choices)
    for dx in case.diagnoses or []:
        if dx in (choices.Diagnosis.NONE, choices.Diagnosis.UNSURE):
            continue
        text = (
            case.diagnosis_other if dx == choices.Diagnosis.OTHER and case.diagnosis_other else str(labels.get(dx, dx))
        )
        resources.append(
            {
                "resourceType": "Condition",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case.reference}/condition/{dx}")),
                "clinicalStatus": _coded("condition-clinical", "active"),
                # Told to the patient by a doctor, reported by the patient: not confirmed by this clinic.
                "verificationStatus": _coded("condition-ver-status", "unconfirmed"),
                "category": [_coded("condition-category", "problem-list-item")],
                "code": {"text": text},
                "subject": {"reference": ref["patient"]},
                "note": [{"text": "Diagnosis the patient reports having been told."}],
            }
        )
    for study in studies:
        resources.append(
            {
                "resourceType": "ImagingStudy",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case.reference}/study/{study.study_uid}")),
                "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{study.study_uid}"}],
                "status": "available",
                "subject": {"reference": ref["patient"]},
                "basedOn": [{"reference": ref["sr"]}],
                "started": study.study_date.isoformat() if study.study_date else None,
                "modality": [{"system": DCM, "code": study.modality}] if study.modality else None,
                "numberOfSeries": study.series.count(),
                "description": study.description or None,
            }
        )
    if letter is not None:
        made_at, pdf = letter
        resources.append(
            {
                "resourceType": "DocumentReference",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case.reference}/letter/{made_at.isoformat()}")),
                "status": "current",
                "type": {"text": "Result letter of the MRI review"},
                "subject": {"reference": ref["patient"]},
                "date": made_at.isoformat(),
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "data": base64.b64encode(pdf).decode(),
                            "title": f"Result letter {case.reference}.pdf",
                            "creation": made_at.isoformat(),
                        }
                    }
                ],
                "context": {"related": [{"reference": ref["sr"]}]},
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "identifier": {"system": f"{site}/case-reference", "value": case.reference},
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": _drop_empty(r)} for r in resources],
    }
    Bundle.model_validate(bundle)  # never send what an EHR would reject
    return bundle


def _coded(code_system: str, code: str) -> dict:
    return {"coding": [{"system": f"{HL7}/{code_system}", "code": code}]}


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [])}
