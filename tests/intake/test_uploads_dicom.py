"""Issue 21, upload side: DICOM checked from its header to its last byte, real discs read.

- 21.3: what a header declares is checked (intake.dicomlimits) before anything
  decodes it, and the first compressed frame's own header is compared with it;
- 21.4: a truncated file is refused; an object with no pictures or no study is
  refused alone, and listed for staff when it comes in a disc's ZIP;
- 21.5: a CD export ZIP (pydicom's own DICOMDIR test tree with a README, an
  AUTORUN.INF and a viewer beside it) is accepted, the rest listed as left
  out; preamble-less and extension-less files are taken by content;
- 21.7: a file whose images are all X-ray or CT is sent with a notice.
"""

import io

import pydicom
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intake.models import MriFile
from intake.services.files import mri_file_add
from tests.factories import CaseFactory
from tests.imaging import dicomgen
from tests.support.discs import cd_export, preamble_less_dataset_only, preamble_less_meta
from tests.support.uploads import post_file, refused

from . import corpus
from .helpers import fill_until

pytestmark = pytest.mark.django_db

BIG = "far larger than any MRI"
INCOMPLETE = "This file is incomplete: please copy it again from the disc."
NOT_MRI = "This looks like an X-ray/CT, not an MRI; we review MRI scans. You can still send it."


@pytest.fixture
def no_decoding(monkeypatch):
    """The upload check reads headers and framing only: any pixel decoder
    pydicom would call fails the test."""
    from pydicom.pixels.decoders.base import Decoder

    def refuse(*args, **kwargs):
        raise AssertionError("pixels were decoded at upload")

    monkeypatch.setattr(Decoder, "as_array", refuse)
    monkeypatch.setattr(Decoder, "iter_array", refuse)
    monkeypatch.setattr(Decoder, "as_buffer", refuse)
    monkeypatch.setattr(Decoder, "iter_buffer", refuse)


def accepted(response):
    body = response.json()
    assert response.status_code == 200 and body["ok"], body
    return body


# --- 21.3: the header's promises -----------------------------------------------------------
def test_a_65535_jpeg_ls_file_is_refused_without_decoding(patient, no_decoding):
    data = corpus.jpeg_ls_bomb()
    assert len(data) < 2048  # a tiny file with a big header
    refused(post_file(patient, "IM000001", data), BIG, "copy it again from the disc")


def test_a_16384_rle_file_is_refused_without_decoding(patient, no_decoding):
    refused(post_file(patient, "IM000001", corpus.rle_bomb()), BIG)


def test_the_same_files_inside_a_zip_are_refused(patient, no_decoding):
    data = corpus.zip_of({"DICOM/IM1": corpus.dicom(), "DICOM/IM2": corpus.rle_bomb()})
    refused(post_file(patient, "disc.zip", data), "DICOM/IM2 in this ZIP", BIG)


def test_a_frame_header_larger_than_the_dicom_header_is_refused(patient, no_decoding):
    """The DICOM header says 64 x 64; the JPEG-LS frame header inside says 65535 x 65535."""
    data = corpus.dicom_declaring(
        rows=64, columns=64, syntax="1.2.840.10008.1.2.4.80", fragment=corpus.jpeg_ls_codestream(65535, 65535)
    )
    refused(post_file(patient, "IM1", data), BIG)


def test_a_header_declaring_no_rows_is_called_damaged_not_large(patient, no_decoding):
    data = corpus.dicom_declaring(
        rows=0, columns=64, syntax="1.2.840.10008.1.2.4.80", fragment=corpus.jpeg_ls_codestream(64, 64)
    )
    refused(post_file(patient, "IM1", data), "damaged")


@pytest.mark.parametrize(
    "syntax, fragment",
    [
        ("1.2.840.10008.1.2.4.80", corpus.jpeg_ls_codestream(128, 64)),
        ("1.2.840.10008.1.2.4.90", corpus.j2k_codestream(128, 64)),
    ],
    ids=["JPEG-LS SOF55", "JPEG 2000 SIZ"],
)
def test_a_frame_header_that_disagrees_with_rows_and_columns_is_refused(patient, no_decoding, syntax, fragment):
    data = corpus.dicom_declaring(rows=64, columns=64, syntax=syntax, fragment=fragment)
    refused(post_file(patient, "IM1", data), "does not match what its header says")


@pytest.mark.parametrize(
    "make",
    [dicomgen.jpeg_baseline, dicomgen.jpeg2000, dicomgen.rle, lambda: [dicomgen.multiframe()]],
    ids=["JPEG baseline", "JPEG 2000", "RLE", "multi-frame native"],
)
def test_real_compressed_images_pass_the_frame_check(patient, no_decoding, make):
    accepted(post_file(patient, "IM1", make()[0]))


def test_a_matching_jpeg_ls_frame_header_passes(patient, no_decoding):
    data = corpus.dicom_declaring(
        rows=64, columns=64, syntax="1.2.840.10008.1.2.4.80", fragment=corpus.jpeg_ls_codestream(64, 64)
    )
    accepted(post_file(patient, "IM1", data))


# --- 21.4: read to the end -------------------------------------------------------------------
def _with_large_private_value() -> bytes:
    ds = pydicom.dcmread(io.BytesIO(corpus.dicom()))
    block = ds.private_block(0x0029, "CLINIC TEST", create=True)
    block.add_new(0x10, "OB", b"\x00" * (2 * 1024 * 1024))
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _truncations():
    native = corpus.dicom()
    jpeg = dicomgen.jpeg_baseline(1)[0]
    private = _with_large_private_value()
    return {
        "native pixel data short by 4 bytes": native[:-4],
        "native pixel data half gone": native[: len(native) - 16],
        "encapsulated, without the sequence delimiter": jpeg[:-8],
        "encapsulated, cut inside the fragment": jpeg[: len(jpeg) - 200],
        "cut inside a large value before the pixels": private[: len(private) // 2],
    }


TRUNCATED = _truncations()


@pytest.mark.parametrize("data", TRUNCATED.values(), ids=TRUNCATED.keys())
def test_a_truncated_dicom_is_refused(patient, data):
    refused(post_file(patient, "IM000001", data), INCOMPLETE)


def test_the_untruncated_files_are_accepted(patient):
    for data in (corpus.dicom(), dicomgen.jpeg_baseline(1)[0], _with_large_private_value()):
        accepted(post_file(patient, "IM000001", data))


def test_a_truncated_member_refuses_its_zip_by_name(patient):
    data = corpus.zip_of({"S1/IM1": corpus.dicom(), "S1/IM2": corpus.dicom()[:-4]})
    refused(post_file(patient, "disc.zip", data), "S1/IM2 in this ZIP", INCOMPLETE)


def _no_pixels(**extra) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(corpus.dicom()))
    del ds.PixelData, ds.Rows, ds.Columns
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    ds.Modality = "SR"
    for key, value in extra.items():
        setattr(ds, key, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_a_structured_report_alone_is_refused_with_a_reason(patient):
    """Decision: a DICOM object without pictures (a structured report, a
    waveform, an encapsulated PDF) sent on its own is refused, because the
    viewer cannot show it and staff could not open it without DICOM software:
    the patient is asked for the written report as a PDF instead."""
    refused(post_file(patient, "SR000001", _no_pixels()), "holds no pictures", "as a PDF")


def test_an_image_without_a_study_uid_is_refused(patient):
    ds = pydicom.dcmread(io.BytesIO(corpus.dicom()))
    del ds.StudyInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    refused(post_file(patient, "IM1", buf.getvalue()), "does not say which study")


def test_reports_beside_images_in_a_zip_are_listed_not_refused(patient):
    data = corpus.zip_of({"S1/IM1": corpus.dicom(), "S1/SR1": _no_pixels()})
    accepted(post_file(patient, "disc.zip", data))
    [(name, why)] = MriFile.objects.get().left_out
    assert name == "S1/SR1" and "without pictures" in why


def test_a_zip_of_reports_only_is_refused(patient):
    refused(post_file(patient, "disc.zip", corpus.zip_of({"S1/SR1": _no_pixels()})), "no DICOM images")


# --- 21.5: every real disc ---------------------------------------------------------------------
def test_a_cd_export_zip_is_accepted_and_the_rest_listed_as_left_out(patient):
    response = post_file(patient, "MY_CD.zip", cd_export())
    body = accepted(response)
    f = MriFile.objects.get()
    assert f.file_type == "zip"
    left_out = dict(f.left_out)
    assert set(left_out) == {
        "README",
        "AUTORUN.INF",
        "Viewer/Viewer.exe",
        "Viewer/dcmview.dll",
        "Viewer/index.html",
        "Viewer/viewer.js",
        "OsiriX Lite.app/Contents/MacOS/OsiriX",
    }
    assert "program" in left_out["Viewer/Viewer.exe"] and "program" in left_out["OsiriX Lite.app/Contents/MacOS/OsiriX"]
    assert "web page" in left_out["Viewer/index.html"] and "disc file" in left_out["AUTORUN.INF"]
    # The disc has MR, CT and CR studies: at least one MRI, so no notice.
    assert set(f.modalities.split(",")) == {"CR", "CT", "MR"} and NOT_MRI not in body["html"]


def test_staff_see_what_was_left_out(client, staff):
    case = CaseFactory(queue=staff.queue_a)
    mri_file_add(uploaded=SimpleUploadedFile("MY_CD.zip", cd_export()), case=case)
    client.force_login(staff.clinician)
    page = client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    assert "7 items in the ZIP left out" in page
    assert "Viewer/Viewer.exe" in page and "AUTORUN.INF" in page


def test_a_disc_without_its_extras_is_accepted_with_nothing_left_out(patient):
    accepted(post_file(patient, "disc.zip", cd_export(extras=False)))
    assert MriFile.objects.get().left_out == []


def test_a_zip_of_extras_only_is_still_refused(patient):
    data = corpus.zip_of({"README": b"hello", "AUTORUN.INF": b"[autorun]", "Viewer.exe": b"MZ\x90\x00"})
    refused(post_file(patient, "disc.zip", data), "no DICOM images")


def test_the_zip_limits_still_hold_for_discs(patient, settings):
    settings.INTAKE_ZIP_MAX_ENTRIES = 10
    refused(post_file(patient, "disc.zip", cd_export()), "we accept at most 10")


@pytest.mark.parametrize("make", [preamble_less_meta, preamble_less_dataset_only], ids=["meta first", "dataset only"])
def test_dicom_without_the_preamble_is_read(patient, make):
    data = make()
    assert data[128:132] != b"DICM"
    accepted(post_file(patient, "IM000001", data))
    assert MriFile.objects.get().file_type == "dicom"
    # And inside a disc's ZIP, without an extension.
    accepted(post_file(patient, "disc.zip", corpus.zip_of({"DICOM/PAT1/IM000001": data})))


def test_a_truncated_preamble_less_file_is_refused(patient):
    refused(post_file(patient, "IM000001", preamble_less_dataset_only()[:-6]), INCOMPLETE)


def test_text_that_merely_starts_like_dicom_is_not_taken_for_it(patient):
    data = b"\x08\x00\x05\x00" + b"\x10\x00\x00\x00" + b"not really a dataset at all " * 10
    refused(post_file(patient, "IM000001", data), "damaged")


def test_the_file_pickers_show_extension_less_files(client):
    fill_until(client, last="history")
    page = client.get(reverse("intake:step", args=["mri"])).content.decode()
    assert 'id="id_file"' in page
    assert "accept=" not in page
    assert "IM000001" in page  # the hint: disc files often have no extension


# --- 21.7: not an MRI ---------------------------------------------------------------------------
def test_an_x_ray_is_sent_with_a_notice(patient):
    body = accepted(post_file(patient, "IM1", corpus.dicom(modality="CR")))
    assert NOT_MRI in body["html"]
    assert MriFile.objects.get().modalities == "CR"


def test_an_mri_has_no_notice(patient):
    assert NOT_MRI not in accepted(post_file(patient, "IM1", corpus.dicom()))["html"]


def test_a_disc_of_ct_and_x_rays_is_sent_with_a_notice(patient):
    """pydicom's 77654033 study: CR and CT images, no MR."""
    body = accepted(post_file(patient, "disc.zip", cd_export(folders=("77654033",))))
    assert NOT_MRI in body["html"]
    assert MriFile.objects.get().modalities == "CR,CT"


def test_the_notice_is_in_the_page_without_javascript(client):
    fill_until(client, last="history")
    response = client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile("IM1", corpus.dicom(modality="DX"))}, follow=True
    )
    assert NOT_MRI in response.content.decode()


def test_staff_see_a_file_that_is_not_an_mri(client, staff):
    case = CaseFactory(queue=staff.queue_a)
    mri_file_add(uploaded=SimpleUploadedFile("chest.zip", cd_export(folders=("77654033",))), case=case)
    mri_file_add(uploaded=SimpleUploadedFile("IM1", corpus.dicom()), case=case)
    client.force_login(staff.clinician)
    page = client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    assert page.count("Not an MRI") == 1 and "Not an MRI (CR,CT)" in page
