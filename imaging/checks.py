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
