"""Every standard code the FHIR export sends, in one place, each with its source.

Nothing here was invented. No terminology server could be reached from where
this was written (only the package registries), so each code is one of two kinds:

- **in the US Core 6.1.0 package** (``hl7.fhir.us.core`` 6.1.0, CC0; the same
  package the ONC's Inferno US Core test kit ships): the code is enumerated, with
  its display, in the value set named beside it, and the profile tests read it
  from there (tests/partners/us_core_6_1_0/);
- **well known**: a code the author knows with certainty, with the display the
  code system gives it, cross-checked against independent public FHIR material
  (implementation guides and examples). Where that certainty was missing the
  item is a text-only CodeableConcept (``text_only``), listed at the end with why.

A CodeableConcept carries two codings only where both name the same concept
(SNOMED CT "Low back pain" and ICD-10-CM M54.50 "Low back pain, unspecified").
"""

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"  # SNOMED CT (US Edition and International share these concept ids)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"  # ICD-10-CM, the US clinical modification (CDC/CMS)
LOINC = "http://loinc.org"
BCP47 = "urn:ietf:bcp:47"  # language tags (IETF BCP 47), bound by US Core's simple-language value set
DCM = "http://dicom.nema.org/resources/ontology/DCM"  # DICOM PS3.16 controlled terminology (modality codes)
HL7 = "http://terminology.hl7.org/CodeSystem"  # HL7 Terminology (THO)
US_CORE_CS = "http://hl7.org/fhir/us/core/CodeSystem"
GENDER = "http://hl7.org/fhir/administrative-gender"  # FHIR R4 core code system

US_CORE_VERSION = "6.1.0"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
PROFILE = {
    "Patient": f"{US_CORE}/us-core-patient",
    "Organization": f"{US_CORE}/us-core-organization",
    "ServiceRequest": f"{US_CORE}/us-core-servicerequest",
    "Condition": f"{US_CORE}/us-core-condition-problems-health-concerns",
    "QuestionnaireResponse": f"{US_CORE}/us-core-questionnaireresponse",
    "DocumentReference": f"{US_CORE}/us-core-documentreference",
    "DiagnosticReport": f"{US_CORE}/us-core-diagnosticreport-note",
    "Observation": f"{US_CORE}/us-core-observation-clinical-result",
}
ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"  # FHIR core extension, MS in US Core


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str
    source: str

    def coding(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}


def concept(text: str, *codes: Code) -> dict:
    """A CodeableConcept: the codings (the same concept in each system) and the
    words; ``text_only`` items have no coding."""
    out: dict = {"text": text}
    if codes:
        out["coding"] = [c.coding() for c in codes]
    return out


_WELL_KNOWN = "well known; cross-checked against public FHIR implementation material (no terminology server reachable)"
_PKG = "US Core 6.1.0 package"

# --- US Core and HL7 code systems (all in the US Core 6.1.0 package) --------------------
EVALUATION_PROCEDURE = Code(
    SNOMED, "386053000", "Evaluation procedure (procedure)", f"{_PKG}, ValueSet us-core-servicerequest-category"
)
PROBLEM_LIST_ITEM = Code(
    f"{HL7}/condition-category",
    "problem-list-item",
    "Problem List Item",
    f"{_PKG}, ValueSet us-core-problem-or-health-concern",
)
HEALTH_CONCERN = Code(
    f"{US_CORE_CS}/condition-category", "health-concern", "Health Concern", f"{_PKG}, CodeSystem condition-category"
)
CLINICAL_NOTE = Code(
    f"{US_CORE_CS}/us-core-documentreference-category",
    "clinical-note",
    "Clinical Note",
    f"{_PKG}, CodeSystem us-core-documentreference-category",
)
RADIOLOGY = Code(LOINC, "LP29684-5", "Radiology", f"{_PKG}, ValueSet us-core-diagnosticreport-category")
IMAGING_CATEGORY = Code(
    f"{HL7}/observation-category",
    "imaging",
    "Imaging",
    f"{_PKG}, ValueSet us-core-clinical-result-observation-category",
)
CONSULT_NOTE = Code(LOINC, "11488-4", "Consult note", f"{_PKG}, ValueSet us-core-clinical-note-type")

CLINICAL_ACTIVE = Code(
    f"{HL7}/condition-clinical", "active", "Active", "HL7 Terminology, condition-clinical (FHIR R4 binding)"
)
UNCONFIRMED = Code(
    f"{HL7}/condition-ver-status",
    "unconfirmed",
    "Unconfirmed",
    "HL7 Terminology, condition-ver-status (FHIR R4 binding)",
)
GENDER_UNKNOWN = Code(GENDER, "unknown", "Unknown", "FHIR R4 administrative-gender (required by US Core Patient)")

LANGUAGES = {
    "en": Code(BCP47, "en", "English", "IETF BCP 47; US Core ValueSet simple-language"),
    "es": Code(BCP47, "es", "Spanish", "IETF BCP 47; US Core ValueSet simple-language"),
}

# --- LOINC ------------------------------------------------------------------------------
# 18748-4 is a document-ontology code (scale DOC): it fits DocumentReference.type (US Core
# binds every LOINC DOC code) and the DiagnosticReport note code.
DIAGNOSTIC_IMAGING_STUDY = Code(LOINC, "18748-4", "Diagnostic imaging study", _WELL_KNOWN)
RADIOLOGY_STUDY_OBSERVATION = Code(LOINC, "18782-3", "Radiology Study observation (narrative)", _WELL_KNOWN)
# The result letter: the outcome of the clinician's review, written to the patient: a consult note.
LETTER_TYPE = CONSULT_NOTE
# The clinical summary for the patient's own doctor: the MRI review's report.
SUMMARY_TYPE = DIAGNOSTIC_IMAGING_STUDY

# --- SNOMED CT: the request ---------------------------------------------------------------
CONSULTATION = Code(SNOMED, "11429006", "Consultation (procedure)", _WELL_KNOWN)

# --- SNOMED CT: body structures -----------------------------------------------------------
NECK_STRUCTURE = Code(SNOMED, "45048000", "Neck structure (body structure)", _WELL_KNOWN)
CERVICAL_SPINE = Code(SNOMED, "122494005", "Cervical spine structure (body structure)", _WELL_KNOWN)
THORACIC_SPINE = Code(SNOMED, "122495006", "Thoracic spine structure (body structure)", _WELL_KNOWN)
LUMBAR_SPINE = Code(SNOMED, "122496007", "Lumbar spine structure (body structure)", _WELL_KNOWN)
VERTEBRAL_COLUMN = Code(SNOMED, "421060004", "Structure of vertebral column (body structure)", _WELL_KNOWN)
LOWER_LIMB = Code(SNOMED, "61685007", "Lower limb structure (body structure)", _WELL_KNOWN)

# Where the pain is (intake Region) -> the body structure.
REGION_SITE = {
    "neck": CERVICAL_SPINE,
    "upper_back": THORACIC_SPINE,
    "mid_back": THORACIC_SPINE,
    "lower_back": LUMBAR_SPINE,
    "hips_legs": LOWER_LIMB,
}
# The MRI's region (intake MriRegion) -> the body structure scanned ("unsure": the whole column).
MRI_REGION_SITE = {
    "neck": CERVICAL_SPINE,
    "upper_back": THORACIC_SPINE,
    "lower_back": LUMBAR_SPINE,
    "unsure": VERTEBRAL_COLUMN,
}


def level_site(level: str) -> Code:
    """The region of a spinal level (reviews' C2-3 ... L5-S1): the level itself
    goes in the text (no per-level SNOMED CT code was verified)."""
    return {"C": CERVICAL_SPINE, "T": THORACIC_SPINE, "L": LUMBAR_SPINE}.get(level[:1], VERTEBRAL_COLUMN)


# --- the complaint: pain by region ------------------------------------------------------
NECK_PAIN = Code(SNOMED, "81680005", "Neck pain (finding)", _WELL_KNOWN)
LOW_BACK_PAIN = Code(SNOMED, "279039007", "Low back pain (finding)", _WELL_KNOWN)
CERVICALGIA = Code(ICD10CM, "M54.2", "Cervicalgia", _WELL_KNOWN)
LOW_BACK_PAIN_ICD = Code(ICD10CM, "M54.50", "Low back pain, unspecified", _WELL_KNOWN)
THORACIC_PAIN_ICD = Code(ICD10CM, "M54.6", "Pain in thoracic spine", _WELL_KNOWN)

COMPLAINT = {
    "neck": ("Neck pain", (NECK_PAIN, CERVICALGIA)),
    "upper_back": ("Pain in the upper back, between the shoulder blades", (THORACIC_PAIN_ICD,)),
    "mid_back": ("Pain in the middle back", (THORACIC_PAIN_ICD,)),
    "lower_back": ("Low back pain", (LOW_BACK_PAIN, LOW_BACK_PAIN_ICD)),
    "hips_legs": ("Pain in the hips, buttocks or legs", ()),  # text only: see TEXT_ONLY
}

# --- diagnoses the patient was told ------------------------------------------------------
SCIATICA = Code(SNOMED, "23056005", "Sciatica (disorder)", _WELL_KNOWN)
SCIATICA_ICD = Code(ICD10CM, "M54.30", "Sciatica, unspecified side", _WELL_KNOWN)
SPINAL_STENOSIS = Code(SNOMED, "76107001", "Spinal stenosis (disorder)", _WELL_KNOWN)
SPINAL_STENOSIS_ICD = Code(ICD10CM, "M48.00", "Spinal stenosis, site unspecified", _WELL_KNOWN)
SPONDYLOSIS_ICD = Code(ICD10CM, "M47.9", "Spondylosis, unspecified", _WELL_KNOWN)

DIAGNOSIS = {
    "herniated_disc": ("Herniated disc", ()),  # text only
    "bulging_disc": ("Bulging disc", ()),  # text only
    "spinal_stenosis": ("Spinal stenosis", (SPINAL_STENOSIS, SPINAL_STENOSIS_ICD)),
    "spine_arthritis": ("Arthritis of the spine", (SPONDYLOSIS_ICD,)),
    "degenerative_disc": ("Degenerative disc disease", ()),  # text only
    "sciatica": ("Sciatica", (SCIATICA, SCIATICA_ICD)),
}

# --- red flags (clinic.red_flags.RedFlag) ------------------------------------------------
FEVER = Code(SNOMED, "386661006", "Fever (finding)", _WELL_KNOWN)
MUSCLE_WEAKNESS = Code(SNOMED, "26544005", "Muscle weakness (finding)", _WELL_KNOWN)
UNINTENTIONAL_WEIGHT_LOSS = Code(SNOMED, "448765001", "Unintentional weight loss (finding)", _WELL_KNOWN)
ABNORMAL_WEIGHT_LOSS_ICD = Code(ICD10CM, "R63.4", "Abnormal weight loss", _WELL_KNOWN)
HISTORY_OF_CANCER_ICD = Code(ICD10CM, "Z85.9", "Personal history of malignant neoplasm, unspecified", _WELL_KNOWN)

RED_FLAG = {
    "bladder_bowel": ("New loss of control of the bladder or bowels", ()),  # text only
    "saddle_numbness": ("Numbness in the groin, buttocks or inner thighs", ()),  # text only
    "weakness": ("New or worsening weakness in the legs or arms", (MUSCLE_WEAKNESS,)),
    "fever": ("Fever or chills together with back or neck pain", (FEVER,)),
    "trauma": ("A recent serious fall, accident or injury", ()),  # text only
    "cancer": ("A history of cancer", (HISTORY_OF_CANCER_ICD,)),
    "weight_loss": ("Weight loss the patient cannot explain", (UNINTENTIONAL_WEIGHT_LOSS, ABNORMAL_WEIGHT_LOSS_ICD)),
    "gait_hands": ("Clumsy hands or new trouble walking or keeping balance", ()),  # text only
}

# Items sent as text only, and why (no code was certain enough to send):
TEXT_ONLY = {
    "complaint hips_legs": "no SNOMED CT / ICD-10-CM code verified for buttock-or-leg pain together",
    "complaint upper_back, mid_back": "ICD-10-CM M54.6 only: the SNOMED CT thoracic back pain concept was not verified",
    "diagnosis herniated_disc, bulging_disc, degenerative_disc": (
        "SNOMED CT has these disorders, but the concept ids could not be verified here; ICD-10-CM needs the "
        "spinal region, which the patient's answer does not give"
    ),
    "red flag bladder_bowel": "one answer, two findings (urinary and faecal incontinence): one code would misstate it",
    "red flag saddle_numbness": "the SNOMED CT concept for saddle anaesthesia was not verified",
    "red flag trauma": "a fall, an accident or an injury: no single code",
    "red flag gait_hands": "two findings in one answer (hand clumsiness, gait disturbance)",
    "ServiceRequest MRI region procedure": "LOINC 'MR <region> spine' codes not verified: body site coded",
    "spinal level": "the level (e.g. L4-5) is text; its region is coded (cervical, thoracic, lumbar spine structure)",
}

ALL_CODES = [v for v in dict(globals()).values() if isinstance(v, Code)]
