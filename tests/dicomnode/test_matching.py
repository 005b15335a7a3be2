"""The matching rule: references, names (case, accents, order) and birth dates."""

from datetime import date

import pytest

from dicomnode import matching
from dicomnode.orthanc import StudyHeader
from intake.transitions import Status
from tests.factories import CaseFactory

ID = "0123abcd-0123abcd-0123abcd-0123abcd-0123abcd"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MR-7K3F9Q", "MR-7K3F9Q"),
        ("mr-7k3f9q", "MR-7K3F9Q"),
        (" MR7K3F9Q ", "MR-7K3F9Q"),
        ("MR-7K3F9", None),  # too short
        ("MR-7K3F9QX", None),  # too long
        ("MR-7K3F1Q", None),  # 1 is not in the alphabet
        ("ACC 12345", None),
        ("", None),
    ],
)
def test_reference_in(value, expected):
    assert matching.reference_in(value) == expected


def test_name_tokens_ignore_case_accents_punctuation_and_order():
    assert matching.name_tokens("Núñez-García, José") == matching.name_tokens("jose GARCIA nunez")
    assert matching.name_tokens("Zoë O'Brien") == ("brien", "o", "zoe")
    assert matching.name_tokens("Ann") != matching.name_tokens("Anne")


def test_dicom_name_variants_use_family_and_given_with_or_without_middle():
    variants = matching.dicom_name_variants("NUNEZ GARCIA^JOSE^LUIS^DR^=ヌニェス^ホセ")
    assert matching.name_tokens("José Núñez García") in variants
    assert matching.name_tokens("José Luis Núñez García") in variants
    assert matching.name_tokens("Dr José Núñez García") not in variants
    assert matching.dicom_name_variants("") == set()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("19700321", date(1970, 3, 21)), ("1970.03.21", date(1970, 3, 21)), ("19701321", None), ("", None)],
)
def test_dicom_date(value, expected):
    assert matching.dicom_date(value) == expected


def header(**kw):
    return StudyHeader(orthanc_id=ID, **kw)


def test_reference_in_accession_beats_name(db):
    case = CaseFactory(status=Status.AWAITING_MRI)
    CaseFactory(first_name="Robin", last_name="Other", date_of_birth=date(1960, 1, 1), status=Status.AWAITING_MRI)
    found = matching.match_case(
        header(accession_number=case.reference, patient_name="OTHER^ROBIN", patient_birth_date="19600101")
    )
    assert found == (case.pk, matching.BY_ACCESSION)


def test_reference_of_a_closed_case_falls_back_to_name_and_birth_date(db):
    closed = CaseFactory(status=Status.CLOSED)
    other = CaseFactory(first_name="Robin", last_name="Avery", date_of_birth=date(1960, 1, 1), status=Status.TRIAGE)
    found = matching.match_case(
        header(patient_id=closed.reference, patient_name="AVERY^ROBIN", patient_birth_date="19600101")
    )
    assert found == (other.pk, matching.BY_NAME_DOB)


def test_name_and_birth_date_need_exactly_one_open_unpurged_case(db):
    born = date(1981, 5, 2)
    CaseFactory(first_name="Sam", last_name="Lee", date_of_birth=born, status=Status.WITHDRAWN)
    CaseFactory(
        first_name="Sam", last_name="Lee", date_of_birth=born, status=Status.TRIAGE, purged_at="2026-01-01T00:00Z"
    )
    assert matching.match_case(header(patient_name="LEE^SAM", patient_birth_date="19810502")) == (
        None,
        matching.NO_MATCH,
    )
    one = CaseFactory(first_name="Sam", last_name="Lee", date_of_birth=born, status=Status.AWAITING_MRI)
    assert matching.match_case(header(patient_name="LEE^SAM", patient_birth_date="19810502")) == (
        one.pk,
        matching.BY_NAME_DOB,
    )
    CaseFactory(first_name="SAM", last_name="LEE", date_of_birth=born, status=Status.SUBMITTED)
    assert matching.match_case(header(patient_name="LEE^SAM", patient_birth_date="19810502")) == (
        None,
        matching.SEVERAL,
    )


def test_no_birth_date_means_no_name_match(db):
    CaseFactory(first_name="Sam", last_name="Lee", date_of_birth=date(1981, 5, 2), status=Status.AWAITING_MRI)
    assert matching.match_case(header(patient_name="LEE^SAM")) == (None, matching.NO_DOB)
