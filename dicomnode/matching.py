"""Which open case a received study belongs to: the rule, in one place.

1. The case reference (``MR-7K3F9Q``, the dash optional) as the whole
   Accession Number, else as the whole Patient ID, naming an open case.
2. Else the patient's name and date of birth: the DICOM name ("LAST^FIRST",
   any case, accents, order) and the birth date against open, unpurged cases.

Exactly one case: attach. None or several: a coordinator decides.
"""

import re
import unicodedata
from datetime import date

from intake.models import REFERENCE_ALPHABET, ReviewRequest
from intake.transitions import OPEN

from .orthanc import StudyHeader

_REFERENCE = re.compile(rf"MR-?([{REFERENCE_ALPHABET}]{{6}})")
BY_ACCESSION = "case reference in Accession Number"
BY_PATIENT_ID = "case reference in Patient ID"
BY_NAME_DOB = "patient name and date of birth"
NO_MATCH = "no open case with this name and date of birth"
SEVERAL = "several open cases with this name and date of birth"
NO_DOB = "no date of birth in the images"


def reference_in(value: str) -> str | None:
    """``MR-XXXXXX`` if ``value`` is a case reference (spaces and the dash optional)."""
    m = _REFERENCE.fullmatch(re.sub(r"\s+", "", value or "").upper())
    return f"MR-{m.group(1)}" if m else None


def name_tokens(text: str) -> tuple[str, ...]:
    """Letters only, without accents, case-folded, sorted: "Núñez-García, José" == "jose garcia nunez"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return tuple(sorted(re.findall(r"[^\W\d_]+", plain)))


def dicom_name_variants(person_name: str) -> set[tuple[str, ...]]:
    """The token sets a DICOM person name may stand for: family and given
    names, with and without the middle name (prefix and suffix never count).
    Only the first (alphabetic) group of a name with ideographic groups."""
    alphabetic = (person_name or "").split("=")[0]
    parts = (alphabetic.split("^") + ["", "", ""])[:3]
    family, given, middle = parts
    variants = {name_tokens(f"{family} {given}"), name_tokens(f"{family} {given} {middle}")}
    return {v for v in variants if v}


def dicom_date(value: str) -> date | None:
    """A DICOM DA (``YYYYMMDD``; old files write ``YYYY.MM.DD``), or None."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) != 8:
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def _open_cases():
    return ReviewRequest.objects.filter(status__in=OPEN, purged_at__isnull=True)


def match_case(header: StudyHeader) -> tuple[int | None, str]:
    """(the case's id or None, how it was matched or why not)."""
    for value, how in ((header.accession_number, BY_ACCESSION), (header.patient_id, BY_PATIENT_ID)):
        reference = reference_in(value)
        if reference:
            case_id = _open_cases().filter(reference=reference).values_list("pk", flat=True).first()
            if case_id is not None:
                return case_id, how
    born = dicom_date(header.patient_birth_date)
    if born is None:
        return None, NO_DOB
    variants = dicom_name_variants(header.patient_name)
    # Few open cases share a birth date: compare their names here, where
    # accents and order can be normalised (the database cannot portably).
    hits = [
        pk
        for pk, first, last in _open_cases().filter(date_of_birth=born).values_list("pk", "first_name", "last_name")
        if name_tokens(f"{first} {last}") in variants
    ]
    if len(hits) == 1:
        return hits[0], BY_NAME_DOB
    return None, SEVERAL if hits else NO_MATCH
