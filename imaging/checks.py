"""Do the images belong to this patient? Pure functions, no database.

Names are compared as sets of words: accents, case, the DICOM ``^``
separators, commas, hyphens and the order of the parts do not matter, and
extra middle names on either side are allowed.
"""

import re
import unicodedata
from datetime import date

OLD_STUDY_MONTHS = 12


def name_words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return {w for w in re.split(r"[^0-9a-z]+", plain) if w}


def names_match(case_first: str, case_last: str, dicom_name: str) -> bool | None:
    """None when the header records no name."""
    header = name_words(dicom_name)
    if not header:
        return None
    ours = name_words(f"{case_first} {case_last}")
    if not ours:
        return None
    return ours <= header or header <= ours


def birth_dates_match(case_dob: date | None, dicom_dob: date | None) -> bool | None:
    if case_dob is None or dicom_dob is None:
        return None
    return case_dob == dicom_dob


def months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return months


def study_is_old(study_date: date | None, today: date) -> bool:
    return study_date is not None and months_between(study_date, today) >= OLD_STUDY_MONTHS


# --- Is it the study the patient told us about? -----------------------------------------
# What the header's BodyPartExamined and StudyDescription say, as real imaging
# centres write them ("LSPINE", "L-SPINE", "L SPINE", "Lumbar", "MRI LUMBAR SPINE
# W/O", "C-SPINE", "CSPINE", "NECK", "T-SPINE", "WHOLE SPINE", empty): words
# and adjacent pairs of words, without punctuation, compared whole (so
# "CERVICAL SPINE" is never read as "L SPINE").
CERVICAL, THORACIC, LUMBAR = "cervical", "thoracic", "lumbar"
SPINE_WORDS = {
    CERVICAL: {"CSPINE", "CERVICAL", "NECK", "CSP", "CERVICALSPINE"},
    THORACIC: {"TSPINE", "THORACIC", "TSP", "DORSAL", "DSPINE", "THORACICSPINE"},
    LUMBAR: {"LSPINE", "LUMBAR", "LSP", "LUMBOSACRAL", "LSSPINE", "LUMBARSPINE", "SACRUM", "SACRAL"},
}
WHOLE_SPINE_WORDS = {"SPINE", "WHOLESPINE", "TOTALSPINE", "ENTIRESPINE"}
# Parts a spine MRI is not: named, so "KNEE" reads as another part, not as "unknown".
OTHER_PARTS = {
    "HEAD", "BRAIN", "SKULL", "KNEE", "SHOULDER", "HIP", "PELVIS", "ABDOMEN", "CHEST", "ANKLE", "WRIST",
    "ELBOW", "HAND", "FOOT", "BREAST", "HEART", "LIVER", "KIDNEY", "ORBIT", "SINUS", "FEMUR", "TIBIA",
}  # fmt: skip
# The patient's answer (intake.choices.MriRegion) as a spine region; "unsure" is no answer.
PATIENT_REGIONS = {"neck": CERVICAL, "upper_back": THORACIC, "lower_back": LUMBAR}
# A patient remembers the month roughly: more than this many months apart is flagged.
STUDY_MONTHS_TOLERANCE = 2


def _terms(*texts: str) -> set[str]:
    terms = set()
    for text in texts:
        words = [w for w in re.split(r"[^0-9A-Z]+", (text or "").upper()) if w]
        terms.update(words)
        terms.update(a + b for a, b in zip(words, words[1:], strict=False))
    return terms


def header_regions(body_part: str, description: str = "") -> set[str] | None:
    """The spine regions the header names ({"lumbar"}, {"cervical", "thoracic"}),
    {"spine"} for the whole or an unnamed part of the spine, {"other"} for a
    part that is not the spine (a knee); None when it names nothing we know."""
    terms = _terms(body_part, description)
    found = {region for region, words in SPINE_WORDS.items() if terms & words}
    if found:
        return found
    if terms & WHOLE_SPINE_WORDS:
        return {"spine"}
    if terms & OTHER_PARTS:
        return {"other"}
    return None


def region_matches(patient_region: str, body_part: str, description: str = "") -> bool | None:
    """False when the header names another part than the patient said (the
    neck against "LSPINE", or a knee); None when either side says nothing
    precise (no answer, "not sure", an empty header, "SPINE")."""
    ours = PATIENT_REGIONS.get(patient_region or "")
    theirs = header_regions(body_part, description)
    if ours is None or theirs is None or theirs == {"spine"}:
        return None
    return ours in theirs


def study_month_matches(patient_month: date | None, study_date: date | None) -> bool | None:
    """False when the study is more than STUDY_MONTHS_TOLERANCE months from the
    month the patient gave; None when either is unknown."""
    if patient_month is None or study_date is None:
        return None
    apart = (study_date.year - patient_month.year) * 12 + study_date.month - patient_month.month
    return abs(apart) <= STUDY_MONTHS_TOLERANCE
