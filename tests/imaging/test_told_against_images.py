"""Issue 23 point 6: a body part or study date in the images that differs from
what the patient said is flagged, on the case page, in the viewer and beside
the review. Real headers are messy: "LSPINE", "L-SPINE", "Lumbar", empty."""

from datetime import date

import pytest
from django.urls import reverse

from imaging.checks import header_regions, region_matches, study_month_matches
from imaging.models import ImagingStudy
from imaging.selectors import case_imaging_flags

from . import dicomgen as g
from .conftest import attach


@pytest.mark.parametrize(
    ("body_part", "description", "patient", "expected"),
    [
        ("LSPINE", "", "lower_back", True),
        ("L-SPINE", "", "lower_back", True),
        ("", "MRI LUMBAR SPINE W/O CONTRAST", "lower_back", True),
        ("Lumbar", "", "lower_back", True),
        ("l spine", "", "lower_back", True),
        ("LSPINE", "", "neck", False),
        ("CSPINE", "MR C-SPINE", "neck", True),
        ("", "CERVICAL SPINE", "lower_back", False),  # never read as "L SPINE"
        ("TSPINE", "", "upper_back", True),
        ("", "MRI C-T SPINE", "upper_back", True),  # two regions named, one the patient's
        ("SPINE", "", "neck", None),  # the whole spine: nothing precise to compare
        ("", "", "lower_back", None),  # an empty header
        ("KNEE", "MR KNEE LEFT", "lower_back", False),
        ("ZZZ", "PROTOCOL 7", "lower_back", None),  # words we do not know
        ("LSPINE", "", "unsure", None),
        ("LSPINE", "", "", None),
    ],
)
def test_region_against_what_the_patient_said(body_part, description, patient, expected):
    assert region_matches(patient, body_part, description) is expected


def test_header_regions():
    assert header_regions("L-SPINE") == {"lumbar"}
    assert header_regions("", "Whole Spine") == {"spine"}
    assert header_regions("HEAD") == {"other"}
    assert header_regions("") is None


def test_study_month_against_what_the_patient_said():
    said = date(2026, 6, 1)
    assert study_month_matches(said, date(2026, 6, 28)) is True
    assert study_month_matches(said, date(2026, 8, 31)) is True  # two months: remembered roughly
    assert study_month_matches(said, date(2026, 3, 31)) is False
    assert study_month_matches(said, date(2024, 6, 1)) is False
    assert study_month_matches(None, date(2024, 6, 1)) is None
    assert study_month_matches(said, None) is None


@pytest.mark.django_db
def test_a_neck_patient_with_lumbar_images_of_another_year_is_flagged_on_the_case_and_in_the_viewer(
    imaging_setup, client
):
    case, coordinator, _ = imaging_setup
    case.mri_region, case.mri_taken_on = "neck", date(2026, 6, 1)
    case.save(update_fields=["mri_region", "mri_taken_on"])
    attach(case, g.zip_of(g.series_bytes(2, study_date="20250115")), "study.zip")  # LSPINE, "LUMBAR SPINE"
    client.force_login(coordinator)
    viewer = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    assert "imaging-region-differs" in viewer and "“LSPINE / LUMBAR SPINE”" in viewer
    assert "imaging-date-differs" in viewer and "taken in 2026-06" in viewer
    assert viewer.count("differs from what the patient said") == 2
    page = client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    assert "imaging-region-differs" in page and "imaging-date-differs" in page
    flags = case_imaging_flags(case)
    assert flags.region_differs == [(date(2025, 1, 15), "LSPINE / LUMBAR SPINE")] and flags.any


@pytest.mark.django_db
def test_images_that_agree_with_the_patient_or_say_nothing_are_not_flagged(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    case.mri_region, case.mri_taken_on = "lower_back", date(2026, 6, 1)
    case.save(update_fields=["mri_region", "mri_taken_on"])
    attach(case, g.zip_of(g.series_bytes(2, study_date="20260610")), "study.zip")
    client.force_login(coordinator)
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    flags = case_imaging_flags(case)
    assert flags.region_differs == [] and flags.date_differs == []
    ImagingStudy.objects.filter(case=case).update(body_part="", description="")
    assert case_imaging_flags(case).region_differs == []
