"""Issue 23 point 6: the case list's MRI column never ticks images that belong
to someone else (patient name or date of birth differ, not confirmed)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from imaging import services
from imaging.models import ImagingStudy
from intake.models import ReviewRequest

from . import dicomgen as g
from .conftest import attach

pytestmark = pytest.mark.django_db


def _mri_cell(client, case) -> str:
    html = client.get(reverse("admin:intake_reviewrequest_changelist")).content.decode()
    row = html[html.index(case.reference) :]
    row = row[: row.index("</tr>")]
    return row[row.index('class="field-mri_received"') :]


def _received(case):
    """The files came with the request (the submission records when) and are indexed."""
    ReviewRequest.objects.filter(pk=case.pk).update(mri_received_at=timezone.now())
    services.case_index_pending(case=case)


def test_images_of_someone_else_get_a_warning_not_the_green_tick(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2, name="Someone^Else")), "wrong.zip")
    _received(case)
    client.force_login(coordinator)
    cell = _mri_cell(client, case)
    assert "Not this patient" in cell and "icon-yes" not in cell

    # Confirmed by staff as this patient's (a married name, say): the tick again.
    services.imaging_study_confirm(study_id=ImagingStudy.objects.get(case=case).pk, actor=coordinator)
    cell = _mri_cell(client, case)
    assert "icon-yes" in cell and "Not this patient" not in cell


def test_the_patients_own_images_tick_and_a_stray_study_beside_them_is_marked(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2)), "own.zip")
    _received(case)
    client.force_login(coordinator)
    cell = _mri_cell(client, case)
    assert "icon-yes" in cell and "mri-wrong-patient" not in cell
    attach(case, g.zip_of(g.series_bytes(2, name="Someone^Else")), "stray.zip")
    services.case_index_pending(case=case)
    cell = _mri_cell(client, case)
    assert "icon-yes" in cell and "Check patient" in cell
