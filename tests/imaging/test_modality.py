"""Not an MRI: a 2004 chest X-ray (CR) on a case is flagged for the
coordinator, shows its modality, and never sets the MRI age for the 12-month
rule. MONOCHROME1 (X-ray films) is windowed on its values, then inverted."""

import io

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image
from pydicom.uid import ComputedRadiographyImageStorage, generate_uid

from imaging import dicom
from imaging.models import ImagingSeries
from imaging.selectors import case_imaging_flags, cases_with_imaging_flags, mri_age_months
from intake.models import CaseEvent, ReviewRequest

from . import dicomgen as g
from .conftest import attach, zip_bytes

pytestmark = pytest.mark.django_db

# A film's values: 0 (where the film is white: bone) to 4000, a gradient.
FILM = (np.arange(64 * 64, dtype=np.int64).reshape(64, 64) * 4000 // (64 * 64 - 1)).astype(np.uint16)


def chest_xray(*, study_uid=None, study_date="20040310", window=(500, 400)) -> bytes:
    """A CR chest film from 2004, MONOCHROME1, its window over the low (bright) values."""
    ds = g.mr_dataset(
        study_uid=study_uid or generate_uid(), series_uid=generate_uid(), pixels=FILM, study_date=study_date
    )
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = ComputedRadiographyImageStorage
    ds.Modality = "CR"
    ds.BodyPartExamined = "CHEST"
    ds.SeriesDescription = "PA CHEST"
    del ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.SliceLocation
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.BitsStored, ds.HighBit = 12, 11
    ds.WindowCenter, ds.WindowWidth = window
    return g.to_bytes(ds)


def expected_monochrome1(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """PS3.3 C.11.2.1.2 on the stored values, then 0 shown white (C.7.6.3.1.2)."""
    low = center - 0.5 - (width - 1) / 2
    shown = np.clip((values.astype(np.float64) - low) * 255.0 / (width - 1), 0, 255)
    return (255.0 - shown).astype(np.uint8)


def test_a_chest_xray_is_flagged_and_does_not_set_the_mri_age(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    case.mri_taken_on = None
    case.save(update_fields=["mri_taken_on"])
    attach(case, chest_xray(), "IM000001")
    client.force_login(coordinator)
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()

    series = ImagingSeries.objects.get(study__case=case)
    assert series.modality == "CR" and series.study.modality == "CR"
    flags = case_imaging_flags(case)
    assert flags.not_mri == [(series.study.study_date, "CR")]
    assert not flags.old_study and flags.newest_study_date is None
    assert mri_age_months(case) is None  # not "267 months"
    row = cases_with_imaging_flags(ReviewRequest.objects.filter(pk=case.pk)).get()
    assert row.imaging_not_mri is True and row.imaging_old is False
    assert "Not an MRI" in html and "not an MRI" in html
    assert "new imaging may be needed" not in html and "over 12 months" not in html
    assert 'class="imaging-modality">CR<' in html  # the study heading and the series button
    assert html.count('class="imaging-modality">CR<') == 2
    events = list(CaseEvent.objects.filter(case=case).values_list("summary", flat=True))
    assert any("is not an MRI" in e for e in events)
    assert not any("12 months" in e for e in events)

    page = client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    assert "Not an MRI: the study dated 2004-03-10 is CR." in page


def test_the_mri_age_comes_from_the_mri_beside_an_old_xray(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, zip_bytes({"x/IM1": chest_xray(), **{f"m/IM{i}": b for i, b in enumerate(g.series_bytes(2))}}))
    client.force_login(coordinator)
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    flags = case_imaging_flags(case)
    assert flags.newest_study_date.isoformat() == "2026-06-01" and len(flags.not_mri) == 1
    assert mri_age_months(case) < 12  # the MR study's date, not 2004's
    row = cases_with_imaging_flags(ReviewRequest.objects.filter(pk=case.pk)).get()
    assert row.imaging_old is False and row.imaging_not_mri is True


def test_an_mri_study_is_not_flagged(imaging_setup):
    case, _, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2)), "mr.zip")
    from imaging.services import case_index_pending

    case_index_pending(case=case)
    assert case_imaging_flags(case).not_mri == []
    assert cases_with_imaging_flags(ReviewRequest.objects.filter(pk=case.pk)).get().imaging_not_mri is False


def test_monochrome1_is_windowed_on_its_values_then_inverted():
    values = np.array([[0, 300, 500, 700, 4000]], dtype=np.uint16)
    shown = dicom.window(values, 500, 400, invert=True)
    assert shown.tolist() == [[255, 255, 127, 0, 0]]
    assert np.array_equal(shown, expected_monochrome1(values, 500, 400))
    # decode() leaves the values as stored: the header window is defined on them.
    assert np.array_equal(dicom.decode(chest_xray())[0], FILM)


def test_a_monochrome1_slice_is_served_windowed_then_inverted(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, chest_xray(), "film.dcm")
    client.force_login(coordinator)
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    series = ImagingSeries.objects.get(study__case=case)
    assert series.inverted is True
    manifest = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).json()
    assert manifest["window"] == {"center": 500.0, "width": 400.0}
    body = client.get(f"{manifest['slice_base']}/0.png?wc=500&ww=400").content
    shown = np.asarray(Image.open(io.BytesIO(body)))
    assert np.array_equal(shown, expected_monochrome1(FILM, 500, 400))
    # The window sits on the bright end of the film: most of it (values above 700) is black.
    assert (shown == 0).mean() > 0.7
