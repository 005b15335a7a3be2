"""Issue 22: status-page PDF downloads were unlimited (each one ~0.18 s of
WeasyPrint). Now limited per address and per status link, with the friendly
429 page in the language the patient used for the case."""

import pytest
from django.urls import reverse

from intake.status_links import status_link, status_token
from intake.transitions import Status
from reviews.services import review_save
from tests.intake.test_admin_support import make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.INTAKE_DOWNLOAD_LIMIT_PER_HOUR = LIMIT


def _decided_case(staff, language="es"):
    case = make_case(staff.queue_a, status=Status.IN_REVIEW, language=language)
    review_save(case=case, author=staff.clinician, data=review_data("candidate"), expected_version=0)
    case.refresh_from_db()
    return case


def _verified(client, case, address):
    response = client.post(status_link(case), {"date_of_birth": case.date_of_birth.isoformat()}, REMOTE_ADDR=address)
    assert response.status_code == 200


def _get(client, name, case, address):
    return client.get(reverse(f"intake:reviews:{name}", args=[status_token(case)]), REMOTE_ADDR=address)


def test_one_address_is_limited_and_told_so_in_the_cases_language(client, staff):
    case = _decided_case(staff, language="es")
    _verified(client, case, "203.0.113.7")
    codes = [_get(client, name, case, "203.0.113.7").status_code for name in ["letter_pdf", "summary_pdf"] * LIMIT]
    assert codes[:LIMIT] == [200] * LIMIT
    assert codes[LIMIT:] == [429] * LIMIT
    refused = _get(client, "letter_pdf", case, "203.0.113.7")
    assert refused.status_code == 429 and refused["Content-Type"].startswith("text/html")
    page = refused.content.decode()
    assert "Espere un poco, por favor" in page and "descargas" in page


def test_one_link_is_limited_from_any_address(client, staff):
    case = _decided_case(staff, language="en")
    for i in range(LIMIT):
        _verified(client, case, f"198.51.100.{i}")
        assert _get(client, "letter_pdf", case, f"198.51.100.{i}").status_code == 200
    _verified(client, case, "198.51.100.99")
    refused = _get(client, "summary_pdf", case, "198.51.100.99")
    assert refused.status_code == 429
    assert "Please wait a little" in refused.content.decode()
