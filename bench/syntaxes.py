"""Which transfer syntaxes the viewer shows: one synthetic MR slice re-encoded
into every syntax the tools on this machine can write, each decoded by
``imaging.dicom.decode`` (the viewer's decoder) and compared with the source
(lossless) or with dcmtk's own decoding of the same file (lossy).

    python bench/syntaxes.py            # prints a Markdown table, writes bench/results/syntaxes.json

Encoders: dcmtk (dcmconv, dcmcjpeg, dcmcjpls, dcmcrle; dcmcjp2k and GDCM's
gdcmconv when installed), pydicom (deflate, JPEG 2000 through pylibjpeg-
openjpeg, RLE). A syntax no tool here writes is listed from pydicom's table of
decoders: whether this server has a decoder for it, and so whether the viewer
shows it or names it ("its images use JPEG 2000 Part 2 ..., which the viewer
cannot show"). Nothing here needs Django or a database.
"""

import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imaging import dicom  # noqa: E402 - after the path above, as the other bench scripts

# Syntaxes no tool here writes: decodable or not is pydicom's table plus ours.
NOT_WRITABLE_HERE = [
    "1.2.840.10008.1.2.4.92",  # JPEG 2000 Part 2 multi-component, lossless
    "1.2.840.10008.1.2.4.93",  # JPEG 2000 Part 2 multi-component
    "1.2.840.10008.1.2.4.201",  # HTJ2K lossless
    "1.2.840.10008.1.2.4.203",  # HTJ2K
    "1.2.840.10008.1.2.4.100",  # MPEG2 (video)
    "1.2.840.10008.1.2.4.102",  # MPEG-4 AVC (video)
    "1.2.840.10008.1.2.4.107",  # HEVC (video)
]


def source(bits: int) -> Dataset:
    """A 256 x 256 MR slice with ``bits`` stored bits: a disc over a gradient."""
    rows = cols = 256
    y, x = np.mgrid[0:rows, 0:cols]
    top = (1 << bits) - 1
    image = (x * (top // 3) // cols).astype(np.int64)
    image[np.hypot(y - rows / 2, x - cols / 2) < rows / 3] += top // 2
    image = image.clip(0, top).astype(np.uint16 if bits > 8 else np.uint8)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = MRImageStorage
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "MR"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = 16 if bits > 8 else 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    ds.PixelData = image.tobytes()
    return ds


def to_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def run_tool(tool: str, args: list[str], data: bytes, folder: Path) -> bytes:
    src, dst = folder / "in.dcm", folder / "out.dcm"
    src.write_bytes(data)
    dst.unlink(missing_ok=True)
    subprocess.run([tool, *args, str(src), str(dst)], check=True, capture_output=True, timeout=120)
    return dst.read_bytes()


def dcmtk_reference(data: bytes, folder: Path) -> np.ndarray | None:
    """dcmtk's decoding of a lossy file: what the values should be."""
    syntax = str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).file_meta.TransferSyntaxUID)
    if syntax.startswith("1.2.840.10008.1.2.4.8"):
        tool = "dcmdjpls"
    elif syntax.startswith(("1.2.840.10008.1.2.4.5", "1.2.840.10008.1.2.4.7")):
        tool = "dcmdjpeg"
    else:
        tool = None
    if tool is None or not shutil.which(tool):
        return None
    return pydicom.dcmread(io.BytesIO(run_tool(tool, [], data, folder))).pixel_array


def pydicom_encoded(bits: int, syntax: str, **kwargs) -> bytes:
    ds = source(bits)
    ds.compress(syntax, **kwargs)
    return to_bytes(ds)


def cases(folder: Path):
    """(label, bits, bytes or None, lossless) for each encoding this machine can write."""
    native = {bits: to_bytes(source(bits)) for bits in (8, 12, 16)}

    def dcmtk(tool, args, bits):
        if not shutil.which(tool):
            return None
        return run_tool(tool, args, native[bits], folder)

    yield "Explicit VR little endian (uncompressed)", 16, native[16], True
    yield "Implicit VR little endian", 16, dcmtk("dcmconv", ["+ti"], 16), True
    yield "Explicit VR big endian (retired)", 16, dcmtk("dcmconv", ["+tb"], 16), True
    deflated = source(16)
    deflated.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1.99"
    yield "Deflated explicit VR little endian", 16, to_bytes(deflated), True
    yield "JPEG baseline, 8-bit", 8, dcmtk("dcmcjpeg", ["+eb"], 8), False
    yield "JPEG extended, 12-bit", 12, dcmtk("dcmcjpeg", ["+ee"], 12), False
    yield "JPEG lossless (process 14)", 16, dcmtk("dcmcjpeg", ["+el"], 16), True
    yield "JPEG lossless, first-order (SV1)", 16, dcmtk("dcmcjpeg", ["+e1"], 16), True
    yield "JPEG-LS lossless", 16, dcmtk("dcmcjpls", ["+el"], 16), True
    yield "JPEG-LS near-lossless", 16, dcmtk("dcmcjpls", ["+en"], 16), False
    yield "RLE lossless (dcmtk)", 16, dcmtk("dcmcrle", [], 16), True
    yield "RLE lossless (pydicom)", 16, pydicom_encoded(16, "1.2.840.10008.1.2.5", encoding_plugin="pydicom"), True
    yield "JPEG 2000 lossless", 16, _try(lambda: pydicom_encoded(16, "1.2.840.10008.1.2.4.90")), True
    yield "JPEG 2000 (lossy)", 16, _try(lambda: pydicom_encoded(16, "1.2.840.10008.1.2.4.91", j2k_cr=[20])), False
    if shutil.which("dcmcjp2k"):
        yield "JPEG 2000 lossless (dcmcjp2k)", 16, run_tool("dcmcjp2k", [], native[16], folder), True
    if shutil.which("gdcmconv"):
        yield "JPEG 2000 lossless (gdcmconv)", 16, run_tool("gdcmconv", ["--j2k"], native[16], folder), True


def _try(make):
    try:
        return make()
    except Exception:
        return None


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, bits, data, lossless in cases(folder):
            if data is None:
                rows.append({"encoding": label, "syntax": "", "result": "no encoder on this machine"})
                continue
            syntax = str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).file_meta.TransferSyntaxUID)
            original = source(bits).pixel_array
            expected = original if lossless else dcmtk_reference(data, folder)
            try:
                decoded = dicom.decode(data)[0]
            except dicom.DecodeError as exc:
                result = f"not shown: {exc}"
            else:
                loss = int(np.abs(decoded.astype(np.int64) - original.astype(np.int64)).max())
                if expected is None:
                    result = f"shown (lossy: up to {loss} from the source; no second decoder here to compare with)"
                elif np.array_equal(decoded, expected):
                    result = "shown, values identical to " + (
                        "the source" if lossless else f"dcmtk's decoding (lossy: up to {loss} from the source)"
                    )
                else:
                    diff = int(np.abs(decoded.astype(np.int64) - expected.astype(np.int64)).max())
                    result = f"shown, but differs from the reference by up to {diff}"
            rows.append({"encoding": label, "syntax": syntax, "result": result})
    for syntax in NOT_WRITABLE_HERE:
        decodable = dicom.syntax_decodable(syntax)
        rows.append(
            {
                "encoding": UID(syntax).name,
                "syntax": syntax,
                "result": "a decoder is installed (no encoder here to test a file)"
                if decodable
                else "not shown: the viewer names the syntax",
            }
        )
    print("| Encoding | Transfer syntax | Viewer |")
    print("| --- | --- | --- |")
    for r in rows:
        print(f"| {r['encoding']} | {r['syntax'] or '—'} | {r['result']} |")
    out = ROOT / "bench" / "results" / "syntaxes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
