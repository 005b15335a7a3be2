"""Transfer syntaxes a clinic sends: 12-bit JPEG Extended (made by dcmtk's
``dcmcjpeg +ee``, checked against dcmtk's own decoder), pydicom's 12-bit
JPEG-lossy.dcm, and a syntax nothing here decodes, named with its UID."""

import io
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from django.urls import reverse
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGExtended12Bit, generate_uid

from imaging import dicom
from imaging.models import ImagingSeries

from . import dicomgen as g
from .conftest import attach, is_png, zip_bytes

DCMTK = shutil.which("dcmcjpeg") and shutil.which("dcmdjpeg")
needs_dcmtk = pytest.mark.skipif(
    not DCMTK, reason="dcmtk is not installed (make test and .ci/run install it with orthanc)"
)


def native_12bit(*, study_uid: str, series_uid: str, index: int = 0, count: int = 1) -> pydicom.Dataset:
    """A 12-bit MONOCHROME2 MR slice (values up to 4095), uncompressed."""
    pixels = g.phantom(64, 64, index, count, peak=3600)
    ds = g.mr_dataset(study_uid=study_uid, series_uid=series_uid, index=index, count=count, pixels=pixels)
    ds.BitsStored, ds.HighBit = 12, 11
    ds.WindowCenter, ds.WindowWidth = 2000, 4000
    return ds


def dcmtk(tool: str, *args, src: bytes, tmp_path, name: str) -> bytes:
    source, target = tmp_path / f"{name}.in.dcm", tmp_path / f"{name}.out.dcm"
    source.write_bytes(src)
    subprocess.run([tool, *args, str(source), str(target)], check=True, capture_output=True, timeout=60)
    return target.read_bytes()


def jpeg12_series(tmp_path, n: int = 3) -> list[bytes]:
    study_uid, series_uid = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        native = g.to_bytes(native_12bit(study_uid=study_uid, series_uid=series_uid, index=i, count=n))
        # +ee: "encode extended sequential 12 bit" (JPEG process 4, lossy)
        out.append(dcmtk("dcmcjpeg", "+ee", src=native, tmp_path=tmp_path, name=f"s{i}"))
    return out


@needs_dcmtk
def test_12bit_jpeg_extended_decodes_as_dcmtk_does(tmp_path):
    encoded = jpeg12_series(tmp_path, n=1)[0]
    ds = pydicom.dcmread(io.BytesIO(encoded))
    assert ds.file_meta.TransferSyntaxUID == JPEGExtended12Bit and ds.BitsStored == 12
    reference = pydicom.dcmread(io.BytesIO(dcmtk("dcmdjpeg", src=encoded, tmp_path=tmp_path, name="ref"))).pixel_array
    decoded = dicom.decode(encoded)
    assert decoded.shape == (1, 64, 64)
    assert np.array_equal(decoded[0], reference)
    assert reference.max() > 2000  # really 12-bit values, not an 8-bit image scaled


@needs_dcmtk
def test_pydicoms_own_12bit_jpeg_lossy_file_decodes_as_dcmtk_does(tmp_path):
    raw = open(get_testdata_file("JPEG-lossy.dcm"), "rb").read()
    assert pydicom.dcmread(io.BytesIO(raw)).file_meta.TransferSyntaxUID == JPEGExtended12Bit
    reference = pydicom.dcmread(io.BytesIO(dcmtk("dcmdjpeg", src=raw, tmp_path=tmp_path, name="ref"))).pixel_array
    assert np.array_equal(dicom.decode(raw)[0], reference)


@needs_dcmtk
@pytest.mark.django_db
def test_a_12bit_jpeg_extended_series_is_viewable(imaging_setup, client, tmp_path):
    case, coordinator, _ = imaging_setup
    attach(case, zip_bytes({f"DICOM/IM{i}": b for i, b in enumerate(jpeg12_series(tmp_path))}), "old.zip")
    client.force_login(coordinator)
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    series = ImagingSeries.objects.get(study__case=case)
    assert series.problem == "" and series.transfer_syntax == JPEGExtended12Bit, series.problem
    assert "damaged" not in html and "Cannot be shown" not in html
    manifest = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).json()
    assert len(manifest["slices"]) == 3
    first = client.get(f"{manifest['slice_base']}/0.png?wc=2000&ww=4000")
    assert first.status_code == 200 and is_png(first.content)
    shown = np.asarray(Image.open(io.BytesIO(first.content)))
    assert shown.shape == (64, 64) and shown.max() > 200 and shown.min() < 60


def _claiming(syntax: str) -> bytes:
    ds = g.mr_dataset(study_uid=generate_uid(), series_uid=generate_uid())
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 60])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return g.to_bytes(ds)


@pytest.mark.parametrize(
    ("syntax", "words"),
    [
        ("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2"),
        ("1.2.840.10008.1.2.4.100", "MPEG2"),
        ("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2"),
    ],
)
def test_a_syntax_nothing_here_decodes_is_named_never_called_damaged(syntax, words):
    with pytest.raises(dicom.DecodeError) as caught:
        dicom.decode(_claiming(syntax))
    reason = str(caught.value)
    assert words in reason and syntax in reason and "cannot show" in reason
    assert "damaged" not in reason


@pytest.mark.django_db
def test_the_viewer_names_the_syntax_it_cannot_show(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, _claiming("1.2.840.10008.1.2.4.92"), "part2.dcm")
    client.force_login(coordinator)
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    assert "JPEG 2000 Part 2" in html and "1.2.840.10008.1.2.4.92" in html and "damaged" not in html


def test_garbage_under_a_syntax_we_decode_is_still_called_damaged():
    with pytest.raises(dicom.DecodeError, match="damaged or incomplete"):
        dicom.decode(g.undecodable(1)[0])
