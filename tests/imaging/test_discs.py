"""Issue 21: every real disc is read by the viewer, not only by the upload
check. A CD export ZIP (DICOMDIR, folders, README, AUTORUN.INF, a viewer
program) and files without the Part-10 preamble become series whose slices
decode."""

import pytest

from imaging import services
from imaging.models import ImagingSeries, IndexedFile
from tests.intake import corpus
from tests.support.discs import cd_export, preamble_less_dataset_only, preamble_less_meta

from .conftest import attach

pytestmark = pytest.mark.django_db


def test_a_cd_export_zip_becomes_series_and_its_extras_are_skipped(imaging_setup):
    case, *_ = imaging_setup
    services.imaging_index_file(mri_file_id=attach(case, cd_export(), "MY_CD.zip").pk)
    series = ImagingSeries.objects.filter(study__case=case)
    assert series.count() >= 3
    decodable = [s for s in series if not s.problem]
    assert decodable, [s.problem for s in series]
    for s in decodable:
        frame = services.slice_pixels(s.instances.order_by("index").first())
        assert frame.ndim == 2 and frame.size > 0
    # DICOMDIR, README, AUTORUN.INF and the viewer's files are not images: skipped, not failures.
    assert IndexedFile.objects.get().problem == ""


@pytest.mark.parametrize("make", [preamble_less_meta, preamble_less_dataset_only], ids=["meta first", "dataset only"])
def test_dicom_without_its_preamble_is_a_series_whose_slice_decodes(imaging_setup, make):
    case, *_ = imaging_setup
    data = make()
    assert data[128:132] != b"DICM"
    services.imaging_index_file(mri_file_id=attach(case, corpus.zip_of({"DICOM/PAT1/IM000001": data}), "d.zip").pk)
    series = ImagingSeries.objects.get(study__case=case)
    assert series.problem == ""
    frame = services.slice_pixels(series.instances.get())
    assert frame.shape[0] >= 4 and frame.shape[1] >= 4
