"""A case as a FHIR R4 Bundle for the EHR, conforming to US Core 6.1.0 (a read;
writes nothing).

Resources, each with ``meta.profile``: Patient, Organization (the referring
partner; the clinic), ServiceRequest (the review request), QuestionnaireResponse
(the answers, against ``questionnaire()``, published at
/api/v1/fhir/Questionnaire/mri-review), Condition (the complaint by region, each
red flag, each diagnosis the patient was told), ImagingStudy (each study the
imaging index holds, with its DICOM UIDs; FHIR core, US Core has no profile) and,
once the patient can read the result: DiagnosticReport (the structured review,
one Observation per spinal level, the clinical summary PDF as presentedForm) and
DocumentReference (the result letter and the clinical summary).

Every standard code comes from partners.fhir_codes, where each names its source.
The clinic's own identifier and code systems are named under
INTAKE_FHIR_SYSTEM_BASE, never the site's address. The person identifier is a
keyed hash (INTAKE_FHIR_PERSON_KEY) of the normalised name, date of birth and
one contact: the same person on two cases gets the same identifier, and the
value tells nothing about them.

Validated with fhir.resources' R4B models (FHIR 4.3, which changes none of
these resources' elements used here from R4) before it leaves the server; the
US Core checks are tests/partners/test_us_core_profiles.py.
"""

import base64
import hashlib
import hmac
import unicodedata
import uuid

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from intake import choices
from intake.models import CaseEvent, ReviewRequest
from intake.transitions import SETTLED, Status

from . import fhir_codes as codes

QUESTIONNAIRE_VERSION = "2026-12"  # mri_taken_on became a month (YYYY-MM)
# The largest PDF sent inline (base64 grows it by a third): past it the document is
# left out of the Bundle, and the DocumentReference says so, rather than an EHR
# refusing the whole export.
MAX_INLINE_PDF_BYTES = 8 * 1024 * 1024


def case_withdrawn(case: ReviewRequest) -> bool:
    """The patient withdrew the request (now or before it was closed): such a
    case is never exported again, to a partner or to the EHR."""
    if case.status == Status.WITHDRAWN:
        return True
    return CaseEvent.objects.filter(case=case, to_status=Status.WITHDRAWN).exists()


def system_base() -> str:
    """The clinic's own namespace for identifier and code systems (a setting)."""
    return settings.INTAKE_FHIR_SYSTEM_BASE


def questionnaire_url() -> str:
    """The Questionnaire's canonical URL (served at /api/v1/fhir/Questionnaire/mri-review)."""
    return f"{system_base()}/Questionnaire/mri-review"


def _system(link_id: str) -> str:
    return f"{system_base()}/CodeSystem/mri-review-{link_id.replace('_', '-')}"


def _sid(name: str) -> str:
    return f"{system_base()}/sid/{name}"


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
    ("mri_taken_on", "In which month was it taken?", "date", None, False),
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
            elif kind == "date":  # a month: partial, as FHIR's date allows (YYYY-MM)
                answers.append({"valueDate": v.strftime("%Y-%m")})
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


# --- the person --------------------------------------------------------------------------
def _person_key() -> bytes:
    key = settings.INTAKE_FHIR_PERSON_KEY
    if key:
        return key.encode()
    # No key of its own: one derived from the secret key, for this use only.
    return hashlib.sha256(b"clinic.fhir.person-identifier:" + settings.SECRET_KEY.encode()).digest()


def _normal_name(case: ReviewRequest) -> str:
    """Accents, case, spaces and punctuation aside: "José  Núñez-Ruiz" == "jose nunez ruiz"."""
    name = unicodedata.normalize("NFKD", f"{case.first_name} {case.last_name}")
    return "".join(c for c in name if c.isalnum()).casefold()


def person_identifiers(case: ReviewRequest) -> list[str]:
    """Opaque values naming the person behind ``case``: one per contact the case
    gives (email, phone), each HMAC-SHA256(name, date of birth, contact). The
    project's duplicate check links cases by email or phone plus date of birth;
    the name is kept in the hash so that two people sharing a family email and a
    birthday (twins) are never made one. No date of birth: none."""
    if not case.date_of_birth:
        return []
    contacts = []
    if case.email:
        contacts.append("email:" + case.email.strip().lower())
    if case.phone:
        contacts.append("phone:" + "".join(c for c in case.phone if c.isdigit() or c == "+"))
    out = []
    for contact in contacts:
        message = f"{_normal_name(case)}|{case.date_of_birth.isoformat()}|{contact}".encode()
        out.append(hmac.new(_person_key(), message, hashlib.sha256).hexdigest()[:40])
    return out


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(["clinic-fhir", *parts])))


def _profile(resource_type: str) -> dict:
    return {"profile": [codes.PROFILE[resource_type]]}


# --- resources ---------------------------------------------------------------------------
def _patient(case: ReviewRequest, pid: str, persons: list[str]) -> dict:
    if persons:
        identifiers = [{"use": "secondary", "system": _sid("person"), "value": v} for v in persons]
    else:  # nothing to link by: the identifier names this case's patient only
        identifiers = [{"use": "temp", "system": _sid("case-patient"), "value": case.reference}]
    telecom = []
    if case.phone:  # a phone the patient lets us text is a mobile; otherwise its use is not known
        telecom.append(
            _drop_empty({"system": "phone", "value": case.phone, "use": "mobile" if case.consent_text else ""})
        )
    if case.email:
        telecom.append({"system": "email", "value": case.email})
    language = codes.LANGUAGES.get(case.language)
    communication = None
    if language is not None:
        communication = [{"language": codes.concept(language.display, language), "preferred": True}]
    address = None
    if case.postal_code or case.state:
        address = [_drop_empty({"use": "home", "postalCode": case.postal_code, "state": case.state, "country": "US"})]
    return {
        "resourceType": "Patient",
        "id": pid,
        "meta": _profile("Patient"),
        "identifier": identifiers,
        "name": [_drop_empty({"use": "official", "family": case.last_name, "given": [case.first_name]})],
        "telecom": telecom,
        # The request never asks for it (US Core 6.1 requires the element): 'unknown'.
        "gender": codes.GENDER_UNKNOWN.code,
        "birthDate": case.date_of_birth.isoformat() if case.date_of_birth else None,
        "address": address,
        "communication": communication,
    }


def _organization(oid: str, name: str, identifier: dict | None = None, phone: str = "") -> dict:
    return {
        "resourceType": "Organization",
        "id": oid,
        "meta": _profile("Organization"),
        "identifier": [identifier] if identifier else None,
        "active": True,
        "name": name,
        "telecom": [{"system": "phone", "value": phone, "use": "work"}] if phone else None,
    }


def _condition(case, cid, patient_ref, *, category, text, coded, note, body_site=None, onset=None, asserter=None):
    created = case.created_at.isoformat()
    return {
        "resourceType": "Condition",
        "id": cid,
        "meta": _profile("Condition"),
        # When the patient told us (US Core's assertedDate, must support).
        "extension": [{"url": codes.ASSERTED_DATE, "valueDateTime": created}],
        "clinicalStatus": codes.concept(codes.CLINICAL_ACTIVE.display, codes.CLINICAL_ACTIVE),
        # Reported by the patient (or their referrer): not a finding of this clinic.
        "verificationStatus": codes.concept(codes.UNCONFIRMED.display, codes.UNCONFIRMED),
        "category": [codes.concept(category.display, category)],
        "code": codes.concept(text, *coded),
        "bodySite": [codes.concept(body_site.display, body_site)] if body_site else None,
        "subject": {"reference": patient_ref},
        "onsetString": onset,
        "recordedDate": created,
        "asserter": asserter,
        "note": [{"text": note}],
    }


def _conditions(case: ReviewRequest, patient_ref: str, from_patient: bool) -> list[dict]:
    asserter = {"reference": patient_ref} if from_patient else None
    onset = None
    if case.pain_duration:
        onset = f"{choices.PainDuration(case.pain_duration).label} before {case.created_at.date().isoformat()}"
    out = []
    for region in case.regions or []:
        if region not in codes.COMPLAINT:
            continue
        text, coded = codes.COMPLAINT[region]
        out.append(
            _condition(
                case,
                _uuid(case.reference, "complaint", region),
                patient_ref,
                category=codes.HEALTH_CONCERN,
                text=text,
                coded=coded,
                body_site=codes.REGION_SITE[region],
                onset=onset,
                asserter=asserter,
                note="The pain the review was asked for, as reported.",
            )
        )
    for flag in case.red_flags or []:
        if flag not in codes.RED_FLAG:
            continue
        text, coded = codes.RED_FLAG[flag]
        out.append(
            _condition(
                case,
                _uuid(case.reference, "red-flag", flag),
                patient_ref,
                category=codes.HEALTH_CONCERN,
                text=text,
                coded=coded,
                asserter=asserter,
                note="Answered yes in the safety screen before the request.",
            )
        )
    for dx in case.diagnoses or []:
        if dx == choices.Diagnosis.OTHER:
            text, coded = (case.diagnosis_other or str(choices.Diagnosis.OTHER.label)), ()
        elif dx in codes.DIAGNOSIS:
            text, coded = codes.DIAGNOSIS[dx]
        else:  # "none", "unsure": nothing was diagnosed
            continue
        out.append(
            _condition(
                case,
                _uuid(case.reference, "condition", dx),
                patient_ref,
                category=codes.PROBLEM_LIST_ITEM,
                text=text,
                coded=coded,
                asserter=asserter,
                note="Diagnosis the patient reports having been told.",
            )
        )
    return out


def _imaging_study(case, study, refs) -> dict:
    series = []
    for s in study.series.all():
        series.append(
            _drop_empty(
                {
                    "uid": s.series_uid,
                    "number": s.number,
                    "modality": {"system": codes.DCM, "code": s.modality or study.modality or "OT"},
                    "description": s.description,
                    "numberOfInstances": s.slice_count or None,
                }
            )
        )
    return {
        "resourceType": "ImagingStudy",
        "id": _uuid(case.reference, "study", study.study_uid),
        "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{study.study_uid}"}]
        + ([{"type": _accession_type(), "value": study.accession_number}] if study.accession_number else []),
        "status": "available",
        "subject": {"reference": refs["patient"]},
        "basedOn": [{"reference": refs["sr"]}],
        "started": study.study_date.isoformat() if study.study_date else None,
        "modality": [{"system": codes.DCM, "code": study.modality}] if study.modality else None,
        "numberOfSeries": len(series),
        "description": study.description or None,
        "series": series,
    }


def _accession_type() -> dict:
    return {"coding": [{"system": f"{codes.HL7}/v2-0203", "code": "ACSN"}]}


def _attachment(pdf: bytes, title: str, made_at) -> dict | None:
    if len(pdf) > MAX_INLINE_PDF_BYTES:
        return None
    return {
        "contentType": "application/pdf",
        "language": None,
        "data": base64.b64encode(pdf).decode(),
        "size": len(pdf),
        "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode(),  # noqa: S324  FHIR defines Attachment.hash as SHA-1
        "title": title,
        "creation": made_at.isoformat(),
    }


def _document(case, did, refs, *, type_code, title, made_at, pdf, language, related) -> dict:
    attachment = _attachment(pdf, title, made_at)
    if attachment is None:  # too large to send inline: the document is named, its bytes are not
        attachment = {"contentType": "application/pdf", "title": title, "size": len(pdf)}
    attachment["language"] = language
    return {
        "resourceType": "DocumentReference",
        "id": did,
        "meta": _profile("DocumentReference"),
        "identifier": [{"system": _sid("document"), "value": did}],
        "status": "current",
        "type": codes.concept(type_code.display, type_code),
        "category": [codes.concept(codes.CLINICAL_NOTE.display, codes.CLINICAL_NOTE)],
        "subject": {"reference": refs["patient"]},
        "date": made_at.isoformat(),
        "author": [{"reference": refs["clinic"]}],
        "description": title,
        "content": [
            {
                "attachment": _drop_empty(attachment),
                # A PDF with no further structure: IHE's "urn:ihe:iti:xds:2017:mimeTypeSufficient".
                "format": {
                    "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                    "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                    "display": "mimeType Sufficient",
                },
            }
        ],
        "context": {"related": [{"reference": r} for r in related]},
    }


def _finding_text(finding) -> str:
    parts = []
    if finding.disc_bulge:
        parts.append("disc bulge")
    if finding.herniation:
        parts.append("disc herniation" + (f" ({finding.herniation_side})" if finding.herniation_side else ""))
    if finding.central_stenosis:
        parts.append(f"{finding.central_stenosis} central canal stenosis")
    if finding.foraminal_grade:
        side = f" {finding.foraminal_side}" if finding.foraminal_side else ""
        parts.append(f"{finding.foraminal_grade}{side} foraminal narrowing")
    if finding.spondylolisthesis:
        parts.append(f"grade {finding.spondylolisthesis} spondylolisthesis")
    if finding.other:
        parts.append(finding.other)
    return "; ".join(parts) or "no abnormality recorded at this level"


def _review_resources(case, refs, report) -> list[dict]:
    """The structured review as a DiagnosticReport (note profile) with one
    Observation per spinal level and the clinical summary PDF as presentedForm."""
    version, summary = report
    made_at = version.created_at.isoformat()
    observations = []
    for finding in version.findings.all():
        level = finding.level  # "L4-5"
        site = codes.level_site(level)
        observations.append(
            {
                "resourceType": "Observation",
                "id": _uuid(case.reference, "review", str(version.number), "level", finding.level),
                "meta": _profile("Observation"),
                "status": "amended" if version.number > 1 else "final",
                "category": [codes.concept(codes.IMAGING_CATEGORY.display, codes.IMAGING_CATEGORY)],
                "code": codes.concept(f"MRI findings at {level}", codes.RADIOLOGY_STUDY_OBSERVATION),
                "subject": {"reference": refs["patient"]},
                "effectiveDateTime": made_at,
                "issued": made_at,
                "performer": [{"reference": refs["clinic"]}],
                "valueString": _finding_text(finding),
                "bodySite": codes.concept(f"{level} level, {site.display.split(' (')[0].lower()}", site),
                "derivedFrom": [{"reference": r} for r in refs["studies"]] or None,
            }
        )
    rid = _uuid(case.reference, "review", str(version.number))
    attachment = _attachment(summary, f"Clinical summary {case.reference}.pdf", version.created_at)
    report_resource = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "meta": _profile("DiagnosticReport"),
        "identifier": [{"system": _sid("review"), "value": f"{case.reference}-{version.number}"}],
        "basedOn": [{"reference": refs["sr"]}],
        "status": "amended" if version.number > 1 else "final",
        "category": [codes.concept(codes.RADIOLOGY.display, codes.RADIOLOGY)],
        "code": codes.concept("MRI review of the spine", codes.DIAGNOSTIC_IMAGING_STUDY),
        "subject": {"reference": refs["patient"]},
        "effectiveDateTime": made_at,
        "issued": made_at,
        "performer": [{"reference": refs["clinic"]}],
        "result": [{"reference": f"urn:uuid:{o['id']}"} for o in observations] or None,
        "imagingStudy": [{"reference": r} for r in refs["studies"]] or None,
        "conclusion": version.impression,
        "presentedForm": [_drop_empty(attachment)] if attachment else None,
    }
    return [report_resource, *observations]


def case_bundle(case: ReviewRequest, *, studies=(), letter=None, report=None) -> dict:
    """The Bundle (type ``collection``) for ``case``. ``studies``: its imaging
    index rows with their series (imaging.selectors.case_studies); ``letter``:
    (date, PDF bytes) of the patient's result letter, if the patient can read
    one; ``report``: (reviews.ReviewVersion, clinical summary PDF bytes) of the
    same review, if any."""
    persons = person_identifiers(case)
    referral = getattr(case, "referral", None)  # a case from the patient form has none
    ids = {
        # The same person on two cases: one Patient id too.
        "patient": _uuid("person", persons[0]) if persons else _uuid(case.reference, "patient"),
        "sr": _uuid(case.reference, "sr"),
        "qr": _uuid(case.reference, "qr"),
        "clinic": _uuid("organization", "clinic"),
    }
    if referral is not None:
        ids["partner"] = _uuid("organization", "partner", str(referral.partner_id))
    refs = {k: f"urn:uuid:{v}" for k, v in ids.items()}
    case_identifier = {"system": _sid("case-reference"), "value": case.reference}

    patient = _patient(case, ids["patient"], persons)
    clinic = _organization(
        ids["clinic"],
        settings.INTAKE_CLINIC_NAME,
        identifier={"system": _sid("organization"), "value": "clinic"},
        phone=settings.INTAKE_CLINIC_PHONE,
    )
    resources = [patient, clinic]
    if referral is not None:
        resources.append(
            _organization(
                ids["partner"],
                referral.partner.name,
                identifier={"system": _sid("partner"), "value": str(referral.partner_id)},
            )
        )
    conditions = _conditions(case, refs["patient"], from_patient=referral is None)
    study_resources = [_imaging_study(case, s, refs) for s in studies]
    refs["studies"] = [f"urn:uuid:{s['id']}" for s in study_resources]
    site = codes.MRI_REGION_SITE.get(case.mri_region) if case.mri_region else None
    kind_label = str(choices.Kind(case.kind).label)
    service_request = {
        "resourceType": "ServiceRequest",
        "id": ids["sr"],
        "meta": _profile("ServiceRequest"),
        "identifier": [case_identifier],
        "status": _service_request_status(case),
        "intent": "order",
        "category": [codes.concept(codes.EVALUATION_PROCEDURE.display, codes.EVALUATION_PROCEDURE)],
        "priority": "urgent" if case.is_urgent else "routine",
        "code": codes.concept(kind_label, codes.CONSULTATION),
        "subject": {"reference": refs["patient"]},
        "authoredOn": case.created_at.isoformat(),
        # Who asked: the referring partner, or the patient who sent the form.
        "requester": {"reference": refs["partner"] if referral is not None else refs["patient"]},
        "performer": [{"reference": refs["clinic"]}],
        "reasonReference": [{"reference": f"urn:uuid:{c['id']}"} for c in conditions] or None,
        "supportingInfo": [{"reference": refs["qr"]}] + [{"reference": r} for r in refs["studies"]],
        "bodySite": [codes.concept(site.display, site)] if site else None,
    }
    qr = {
        "resourceType": "QuestionnaireResponse",
        "id": ids["qr"],
        "meta": _profile("QuestionnaireResponse"),
        "identifier": {"system": _sid("questionnaire-response"), "value": case.reference},
        "questionnaire": f"{questionnaire_url()}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": {"reference": refs["patient"]},
        "basedOn": [{"reference": refs["sr"]}],
        "authored": case.created_at.isoformat(),
        # Who gave the answers: the patient on the form, the partner through the API.
        "author": {"reference": refs["partner"] if referral is not None else refs["patient"]},
        "item": _response_items(case),
    }
    resources += [service_request, qr, *conditions, *study_resources]
    language = case.language if case.language in codes.LANGUAGES else None
    if report is not None:
        resources += _review_resources(case, refs, report)
    if letter is not None:
        made_at, pdf = letter
        resources.append(
            _document(
                case,
                _uuid(case.reference, "letter", made_at.isoformat()),
                refs,
                type_code=codes.LETTER_TYPE,
                title=f"Result letter {case.reference}.pdf",
                made_at=made_at,
                pdf=pdf,
                language=language,
                related=[refs["sr"]],
            )
        )
    if report is not None:
        version, summary = report
        related = [refs["sr"], f"urn:uuid:{_uuid(case.reference, 'review', str(version.number))}"]
        resources.append(
            _document(
                case,
                _uuid(case.reference, "summary", str(version.number)),
                refs,
                type_code=codes.SUMMARY_TYPE,
                title=f"Clinical summary {case.reference}.pdf",
                made_at=version.created_at,
                pdf=summary,
                language=language,
                related=related,
            )
        )
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "identifier": case_identifier,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": _drop_empty(r)} for r in resources],
    }
    Bundle.model_validate(bundle)  # never send what an EHR would reject
    return bundle


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, "", [])}
