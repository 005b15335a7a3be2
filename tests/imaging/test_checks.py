from datetime import date

import pytest

from imaging.checks import birth_dates_match, names_match, study_is_old


@pytest.mark.parametrize(
    ("first", "last", "dicom", "expected"),
    [
        ("José", "Núñez", "NUNEZ^JOSE", True),
        ("Pat", "Example", "Example^Pat^^^", True),
        ("Pat", "Example", "PAT EXAMPLE", True),
        ("Mary Ann", "Smith-Jones", "SMITH JONES^MARY^ANN", True),
        ("Pat", "Example", "EXAMPLE^PAT^QUINCY", True),  # a middle name in the header
        ("Pat", "Example", "Example^Patricia", False),
        ("Pat", "Example", "Other^Pat", False),
        ("Pat", "Example", "", None),
    ],
)
def test_names_match(first, last, dicom, expected):
    assert names_match(first, last, dicom) is expected


def test_birth_dates_and_age():
    assert birth_dates_match(date(1970, 3, 21), date(1970, 3, 21)) is True
    assert birth_dates_match(date(1970, 3, 21), date(1970, 3, 22)) is False
    assert birth_dates_match(None, date(1970, 3, 21)) is None
    today = date(2026, 11, 25)
    assert study_is_old(date(2025, 11, 25), today) and not study_is_old(date(2025, 11, 26), today)
    assert not study_is_old(None, today)
