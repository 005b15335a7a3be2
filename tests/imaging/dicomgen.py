"""Synthetic MR objects made with pydicom and numpy: no real patient data."""

import io
import zipfile

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    MRImageStorage,
    RLELossless,
    generate_uid,
)


def phantom(rows: int, cols: int, k: int, n: int, peak: int = 1000) -> np.ndarray:
    """A disc whose brightness varies with the slice, over a gradient: every
    window shows something different, every slice differs."""
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot(y - rows / 2, x - cols / 2)
    image = (x * (peak // 4) // max(cols, 1)).astype(np.int32)
    image[r < rows / 3] += int(peak / 2 + peak / 2 * k / max(n - 1, 1))
    image[r < rows / 8] = 50
    return image.clip(0, 65535).astype(np.uint16)


def mr_dataset(
    *,
    study_uid: str,
    series_uid: str,
    index: int = 0,
    count: int = 1,
    rows: int = 64,
    cols: int = 64,
    name: str = "Example^Pat",
    birth_date: str = "19700321",
    study_date: str = "20260601",
    series_number: int = 1,
    orientation=(0, 1, 0, 0, 0, -1),  # sagittal
    pixels: np.ndarray | None = None,
    window=(600, 1200),
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    sop = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "MR"
    ds.PatientName = name
    ds.PatientBirthDate = birth_date
    ds.PatientID = "SYNTH-1"
    ds.StudyDate = study_date
    ds.StudyDescription = "LUMBAR SPINE"
    ds.SeriesDescription = "SAG T2"
    ds.BodyPartExamined = "LSPINE"
    ds.InstitutionName = "Synthetic Imaging Centre"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = index + 1
    ds.ImageOrientationPatient = list(orientation)
    ds.ImagePositionPatient = [-40.0 + 4.0 * index, -100.0, 100.0]
    ds.SliceLocation = -40.0 + 4.0 * index
    ds.SliceThickness = 4
    ds.PixelSpacing = [0.5, 0.5]
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    data = pixels if pixels is not None else phantom(rows, cols, index, count)
    ds.Rows, ds.Columns = data.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = data.tobytes()
    return ds


def to_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def series_bytes(n: int, *, study_uid=None, series_uid=None, **kwargs) -> list[bytes]:
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    return [
        to_bytes(mr_dataset(study_uid=study_uid, series_uid=series_uid, index=i, count=n, **kwargs)) for i in range(n)
    ]


def zip_of(members: list[bytes], *, shuffle: bool = True) -> bytes:
    buf = io.BytesIO()
    order = list(range(len(members)))
    if shuffle:
        order = order[1::2] + order[0::2]  # out of order on purpose: the index sorts by position
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in order:
            zf.writestr(f"DICOM/IM{i:05d}", members[i])
    return buf.getvalue()


def multiframe(frames: int = 6, **kwargs) -> bytes:
    study_uid, series_uid = generate_uid(), generate_uid()
    stack = np.stack([phantom(48, 48, k, frames) for k in range(frames)])
    ds = mr_dataset(study_uid=study_uid, series_uid=series_uid, pixels=stack, **kwargs)
    ds.NumberOfFrames = frames
    per_frame = []
    for k in range(frames):
        item, pos = Dataset(), Dataset()
        pos.ImagePositionPatient = [-10.0 + 3.0 * k, -100.0, 100.0]
        item.PlanePositionSequence = [pos]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    return to_bytes(ds)


def rle(n: int = 3, **kwargs) -> list[bytes]:
    study_uid, series_uid = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        ds = mr_dataset(study_uid=study_uid, series_uid=series_uid, index=i, count=n, **kwargs)
        ds.compress(RLELossless, encoding_plugin="pydicom")
        out.append(to_bytes(ds))
    return out


def jpeg2000(n: int = 2, **kwargs) -> list[bytes]:
    study_uid, series_uid = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        ds = mr_dataset(study_uid=study_uid, series_uid=series_uid, index=i, count=n, **kwargs)
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
        out.append(to_bytes(ds))
    return out


def jpeg_baseline(n: int = 2, **kwargs) -> list[bytes]:
    """8-bit slices compressed by Pillow as JPEG baseline, encapsulated."""
    from PIL import Image

    study_uid, series_uid = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        pixels = (phantom(64, 64, i, n, peak=200)).astype(np.uint8)
        ds = mr_dataset(
            study_uid=study_uid, series_uid=series_uid, index=i, count=n, pixels=pixels, window=(128, 256), **kwargs
        )
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=95)
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
        ds.PixelData = encapsulate([buf.getvalue()])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        out.append(to_bytes(ds))
    return out


def undecodable(n: int = 2, **kwargs) -> list[bytes]:
    """Claims JPEG 2000 but carries garbage: the series says so instead of failing the page."""
    study_uid, series_uid = generate_uid(), generate_uid()
    out = []
    for i in range(n):
        ds = mr_dataset(study_uid=study_uid, series_uid=series_uid, index=i, count=n, series_number=9, **kwargs)
        ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
        ds.PixelData = encapsulate([b"\x00\x01garbage" * 20])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        out.append(to_bytes(ds))
    return out


def declared_huge(*, syntax: str, side: int, fragment: bytes) -> bytes:
    """A tiny object whose header declares ``side`` x ``side`` 16-bit pixels,
    compressed as ``syntax``, with one small fragment: a few hundred bytes that
    ask a native decoder for gigabytes (as a hostile upload would)."""
    ds = mr_dataset(study_uid=generate_uid(), series_uid=generate_uid(), pixels=np.zeros((2, 2), np.uint16))
    ds.Rows = ds.Columns = side
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return to_bytes(ds)


def jpegls_65535() -> bytes:
    """JPEG-LS lossless declaring 65535 x 65535, its frame header (SOF55) saying the same."""
    sof = b"\xff\xf7\x00\x0b\x10\xff\xff\xff\xff\x01\x01\x11\x00"  # 16 bits, 65535 lines, 65535 columns
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00"
    return declared_huge(syntax="1.2.840.10008.1.2.4.80", side=65535, fragment=b"\xff\xd8" + sof + sos + b"\x00" * 64)


def rle_16384() -> bytes:
    """RLE lossless declaring 16384 x 16384 (two byte segments of runs that never end)."""
    header = (2).to_bytes(4, "little") + (64).to_bytes(4, "little") + (96).to_bytes(4, "little") + b"\x00" * 52
    runs = b"\x81\x00" * 16  # "repeat 0 128 times", far short of 16384 x 16384
    return declared_huge(syntax=RLELossless, side=16384, fragment=header + runs)


def pdf_page_of(width_pt: float, height_pt: float, pages: int = 1) -> bytes:
    """A PDF (a few hundred bytes) of empty pages of the given size, by pypdfium2."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(width_pt, height_pt)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def big_valid(side: int = 4096) -> bytes:
    """A valid uncompressed slice within the header limits, with a rescale, so
    decoding it needs several times its size (for the cage's memory cap)."""
    ds = mr_dataset(
        study_uid=generate_uid(), series_uid=generate_uid(), pixels=np.full((side, side), 7, np.uint16), window=None
    )
    ds.RescaleSlope, ds.RescaleIntercept = 2, -10
    return to_bytes(ds)
