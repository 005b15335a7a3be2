"""DICOM in memory: headers, planes, positions and pixels. No database, no disk.

Everything here works on plaintext bytes already read (and checked) through
``intake.storage``; nothing is written anywhere. Decoders: pydicom's own
(uncompressed, RLE), Pillow (JPEG baseline), pylibjpeg-openjpeg (JPEG 2000),
pylibjpeg-rle (fast RLE) and GDCM (JPEG lossless, JPEG-LS, and 12-bit JPEG
Extended through imaging.jpeg12, registered below).
"""

import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import get_decoder
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGExtended12Bit

from intake import dicomlimits

SKIP_PREFIXES = ("__MACOSX/",)

_JPEG12_PLUGIN = "imaging-gdcm-12bit"
if _JPEG12_PLUGIN not in get_decoder(JPEGExtended12Bit).available_plugins:
    # Once per process, at import: pydicom's add_plugin is not thread-safe.
    get_decoder(JPEGExtended12Bit).add_plugin(_JPEG12_PLUGIN, ("imaging.jpeg12", "decode_frame"))


@dataclass
class Slice:
    member: str
    frame: int
    sop_uid: str
    instance_number: int | None
    position: float | None


@dataclass
class SeriesInfo:
    series_uid: str
    number: int | None = None
    description: str = ""
    modality: str = ""
    plane: str = ""
    rows: int = 0
    columns: int = 0
    window_center: float | None = None
    window_width: float | None = None
    transfer_syntax: str = ""
    # MONOCHROME1: the lowest value is white. Windowed like any other, then inverted.
    inverted: bool = False
    slices: list[Slice] = field(default_factory=list)
    sample_member: str = ""


@dataclass
class StudyInfo:
    study_uid: str
    study_date: date | None = None
    description: str = ""
    modality: str = ""
    body_part: str = ""
    institution: str = ""
    accession_number: str = ""
    patient_name: str = ""
    patient_birth_date: date | None = None
    series: dict[str, SeriesInfo] = field(default_factory=dict)


def parse_da(value) -> date | None:
    text = str(value or "").strip()
    if len(text) >= 8 and text[:8].isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            return None
    return None


def _first(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return value[0] if len(value) else None
    return value


def _float(value) -> float | None:
    value = _first(value)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def plane_of(orientation) -> tuple[str, np.ndarray | None]:
    """The anatomical plane from ImageOrientationPatient, and the slice normal."""
    try:
        values = [float(v) for v in orientation]
    except (TypeError, ValueError):
        return "", None
    if len(values) != 6:
        return "", None
    normal = np.cross(np.array(values[:3]), np.array(values[3:]))
    if not np.linalg.norm(normal):
        return "", None
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < 0.8:
        return "oblique", normal
    return ("sagittal", "coronal", "axial")[axis], normal


def _position(ipp, normal, fallback) -> float | None:
    if ipp is not None and normal is not None:
        try:
            return float(np.dot(np.array([float(v) for v in ipp]), normal))
        except (TypeError, ValueError):
            pass
    return _float(fallback)


def iter_members(data: bytes, file_type: str) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of each DICOM object in a stored file's plaintext."""
    if file_type == "dicom":
        yield "", data
        return
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            base = posixpath.basename(info.filename)
            if info.is_dir() or base.startswith(".") or info.filename.startswith(SKIP_PREFIXES):
                continue
            if base.upper() == "DICOMDIR":
                continue
            yield info.filename, zf.read(info)


def member_spans(data: bytes, file_type: str) -> dict[str, tuple[int, int, bool]]:
    """Where each object's bytes lie in the file: {member: (start, length, deflated)}.
    Members compressed any other way than stored or deflate are left out."""
    if file_type == "dicom":
        return {"": (0, len(data), False)}
    spans = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                continue
            local = data[info.header_offset : info.header_offset + 30]
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                continue
            name_len = int.from_bytes(local[26:28], "little")
            extra_len = int.from_bytes(local[28:30], "little")
            start = info.header_offset + 30 + name_len + extra_len
            spans[info.filename] = (start, info.compress_size, info.compress_type == zipfile.ZIP_DEFLATED)
    return spans


def read_member(data: bytes, file_type: str, member: str) -> bytes:
    if file_type == "dicom":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(member)


def read_dataset(raw: bytes, **kwargs) -> pydicom.Dataset:
    """One object's dataset, a preamble-less one too (older discs write them;
    ``intake.dicomlimits.looks_like_raw_dicom``, the rule the upload check
    applies): read with ``force=True`` only then, its transfer syntax recorded
    as the encoding it is written in. Raises what pydicom raises."""
    try:
        return pydicom.dcmread(io.BytesIO(raw), force=False, **kwargs)
    except InvalidDicomError:
        if not dicomlimits.looks_like_raw_dicom(raw[:8]):
            raise
    ds = pydicom.dcmread(io.BytesIO(raw), force=True, **kwargs)
    if "TransferSyntaxUID" not in ds.file_meta:
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian if little else ExplicitVRBigEndian
        )
    return ds


def scan(data: bytes, file_type: str) -> tuple[dict[str, StudyInfo], int]:
    """Group the objects of one file into studies and series (headers only).

    Returns (studies by uid, number of members that are not readable images).
    """
    studies: dict[str, StudyInfo] = {}
    skipped = 0
    for member, raw in iter_members(data, file_type):
        try:
            ds = read_dataset(raw, stop_before_pixels=True)
        except Exception:
            skipped += 1
            continue
        if "Rows" not in ds or "StudyInstanceUID" not in ds or "SeriesInstanceUID" not in ds:
            skipped += 1  # a report, a presentation state, a DICOMDIR under another name
            continue
        study = studies.get(str(ds.StudyInstanceUID))
        if study is None:
            study = studies[str(ds.StudyInstanceUID)] = StudyInfo(
                study_uid=str(ds.StudyInstanceUID),
                study_date=parse_da(ds.get("StudyDate")) or parse_da(ds.get("SeriesDate")),
                description=str(ds.get("StudyDescription", ""))[:200],
                modality=str(ds.get("Modality", ""))[:16],
                body_part=str(ds.get("BodyPartExamined", ""))[:64],
                institution=str(ds.get("InstitutionName", ""))[:200],
                accession_number=str(ds.get("AccessionNumber", ""))[:64],
                patient_name=str(ds.get("PatientName", ""))[:200],
                patient_birth_date=parse_da(ds.get("PatientBirthDate")),
            )
        uid = str(ds.SeriesInstanceUID)
        series = study.series.get(uid)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        per_frame = ds.get("PerFrameFunctionalGroupsSequence")
        shared = ds.get("SharedFunctionalGroupsSequence")
        orientation = ds.get("ImageOrientationPatient")
        if orientation is None and shared:
            orientation = _nested(shared[0], "PlaneOrientationSequence", "ImageOrientationPatient")
        if orientation is None and per_frame:
            orientation = _nested(per_frame[0], "PlaneOrientationSequence", "ImageOrientationPatient")
        plane, normal = plane_of(orientation)
        if series is None:
            series = study.series[uid] = SeriesInfo(
                series_uid=uid,
                number=int(ds.SeriesNumber) if ds.get("SeriesNumber") not in (None, "") else None,
                description=str(ds.get("SeriesDescription", ""))[:200],
                modality=str(ds.get("Modality", ""))[:16],
                plane=plane,
                rows=int(ds.Rows),
                columns=int(ds.Columns),
                window_center=_float(ds.get("WindowCenter")),
                window_width=_float(ds.get("WindowWidth")),
                transfer_syntax=str(ds.file_meta.get("TransferSyntaxUID", "")),
                inverted=str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1",
                sample_member=member,
            )
        number = ds.get("InstanceNumber")
        number = int(number) if number not in (None, "") else None
        for frame in range(frames):
            ipp = ds.get("ImagePositionPatient")
            if per_frame and frame < len(per_frame):
                ipp = _nested(per_frame[frame], "PlanePositionSequence", "ImagePositionPatient") or ipp
            series.slices.append(
                Slice(
                    member=member,
                    frame=frame,
                    sop_uid=str(ds.get("SOPInstanceUID", ""))[:64],
                    instance_number=number,
                    position=_position(ipp, normal, ds.get("SliceLocation")),
                )
            )
    for study in studies.values():
        for series in study.series.values():
            series.slices.sort(
                key=lambda s: (
                    s.position if s.position is not None else float("inf"),
                    s.instance_number or 0,
                    s.frame,
                )
            )
    return studies, skipped


def _nested(item, sequence: str, keyword: str):
    seq = item.get(sequence)
    if seq:
        return seq[0].get(keyword)
    return None


TRANSFER_SYNTAX_WORDS = {
    "1.2.840.10008.1.2.4.50": "JPEG baseline",
    "1.2.840.10008.1.2.4.51": "JPEG extended",
    "1.2.840.10008.1.2.4.57": "JPEG lossless",
    "1.2.840.10008.1.2.4.70": "JPEG lossless",
    "1.2.840.10008.1.2.4.80": "JPEG-LS lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 lossless",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.5": "RLE",
}


def syntax_words(uid: str) -> str:
    if uid in TRANSFER_SYNTAX_WORDS:
        return TRANSFER_SYNTAX_WORDS[uid]
    name = UID(uid).name if uid else ""
    return name or "an unknown encoding"


def syntax_decodable(uid: str) -> bool:
    """Whether a decoder here takes this transfer syntax at all (not whether one file decodes)."""
    if not uid:
        return True  # no file meta: pydicom reads it as implicit little endian
    try:
        return get_decoder(uid).is_available
    except NotImplementedError:  # pydicom knows no decoder for it (JPEG 2000 Part 2, MPEG, JPEG XL...)
        return False


def _unsupported_words(uid: str) -> str:
    name = UID(uid).name if uid else ""
    shown = f"{name} ({uid})" if name and name != uid else f"an encoding this server does not know ({uid})"
    return f"its images use {shown}, which the viewer cannot show"


def _refused_by_every_decoder(exc: Exception) -> bool:
    """True when the decoders declined the file's variant rather than failed on its bytes.

    pydicom raises NotImplementedError itself, or a RuntimeError listing each
    plugin's reason ("...: GDCM does not support 'JPEG Extended' for samples
    with 12-bit precision") when every plugin refused."""
    if isinstance(exc, NotImplementedError):
        return True
    reasons = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
    return bool(reasons) and all("not support" in r or "unsupported" in r.lower() for r in reasons)


def decode(raw: bytes) -> np.ndarray:
    """All frames of one object as a (frames, rows, columns) array in modality
    units (rescale slope and intercept applied); a colour image is made grey.
    MONOCHROME1 is NOT inverted here: its header window is defined on these
    values, so ``window(..., invert=True)`` inverts after windowing.

    Raises ``DecodeError`` with a plain reason: a transfer syntax no decoder
    here takes is named with its UID (never called damaged).
    """
    try:
        ds = read_dataset(raw)
    except Exception as exc:
        raise DecodeError("the file's structure is damaged") from exc
    if "PixelData" not in ds:
        raise DecodeError("it has no image data")
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if not syntax_decodable(syntax):
        raise DecodeError(_unsupported_words(syntax))
    if syntax == JPEGExtended12Bit and int(ds.get("BitsStored", 8) or 8) > 8:
        # Straight to the plugin that takes it: GDCM's and Pillow's refuse 12-bit
        # samples, and pydicom logs each refusal as an error with a traceback.
        ds.pixel_array_options(decoding_plugin=_JPEG12_PLUGIN)
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        if _refused_by_every_decoder(exc):
            raise DecodeError(_unsupported_words(syntax)) from exc
        raise DecodeError(f"its image data ({syntax_words(syntax)}) is damaged or incomplete") from exc
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if samples > 1:
        # Colour (RGB after decoding): luminance is enough for review.
        pixels = pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if frames == 1 and pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    slope = _float(ds.get("RescaleSlope")) or 1.0
    intercept = _float(ds.get("RescaleIntercept")) or 0.0
    if slope != 1.0 or intercept != 0.0:
        pixels = pixels.astype(np.float32) * slope + intercept
    elif pixels.dtype.itemsize > 2 or pixels.dtype.kind == "f":
        pixels = pixels.astype(np.float32)
    return np.ascontiguousarray(pixels)


class DecodeError(Exception):
    pass


def window(frame: np.ndarray, center: float, width: float, *, invert: bool = False) -> np.ndarray:
    """8-bit display values for a window (DICOM PS3.3 C.11.2.1.2, linear).

    ``invert`` for MONOCHROME1: the window applies to the values as stored
    (after rescale), and only its output is inverted (PS3.3 C.7.6.3.1.2: the
    minimum value is displayed white). Inverting first would put the window
    over values that do not exist, and the image looks washed out."""
    width = max(float(width), 1.0)
    low = center - 0.5 - (width - 1) / 2
    scale = 255.0 / (width - 1 if width > 1 else 1)
    out = (frame.astype(np.float32) - low) * scale
    np.clip(out, 0, 255, out=out)
    if invert:
        np.subtract(255.0, out, out=out)
    return out.astype(np.uint8)


def auto_window(frame: np.ndarray) -> tuple[float, float]:
    """A default window from the data (1st to 99th percentile) when the header has none."""
    sample = frame[:: max(1, frame.shape[0] // 128), :: max(1, frame.shape[1] // 128)]
    lo, hi = np.percentile(sample, [1, 99])
    width = max(float(hi - lo), 1.0)
    return float(lo + width / 2), width
