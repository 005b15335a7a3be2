"""Upload corpus made by the tests: valid files and hostile ones."""

import io
import struct
import zipfile
import zlib


def jpeg(size=(16, 16)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (120, 130, 140)).save(buf, "JPEG")
    return buf.getvalue()


def png(size=(16, 16)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", size, 90).save(buf, "PNG")
    return buf.getvalue()


def _mr_object(syntax: str, modality: str):
    """A DICOM object's file meta and identity (new UIDs), in ``syntax``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = modality
    return ds


def dicom(patient="ANON", modality="MR"):
    from pydicom.uid import ExplicitVRLittleEndian

    ds = _mr_object(ExplicitVRLittleEndian, modality)
    ds.PatientName = patient
    ds.Rows, ds.Columns = 4, 4
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = b"\x00\x01" * 16
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def zip_bomb(megabytes=40):
    return zip_of({"series/IM0001.dcm": dicom()[:132] + b"\x00" * (megabytes * 1024 * 1024)})


def png_bomb(width=40000, height=40000):
    """A tiny PNG whose header claims 1.6 gigapixels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def polyglot():
    """A valid-looking PDF with a ZIP archive appended: two files in one."""
    return PDF + zip_of({"payload.html": b"<script>alert(1)</script>"})


# --- PDFs a parser reads: cross-reference stream, object streams, any filters ----------
def _hex(data: bytes) -> bytes:
    return data.hex().encode() + b">"


def _a85(data: bytes) -> bytes:
    import base64

    return base64.a85encode(data) + b"~>"


_ENCODERS = {"/ASCIIHexDecode": _hex, "/ASCII85Decode": _a85, "/FlateDecode": zlib.compress}


def _encode(data: bytes, filters: list[str]) -> bytes:
    # The reader applies the filters in order, so the writer applies them last to first.
    for name in reversed(filters):
        data = _ENCODERS[name](data)
    return data


def _filter_entry(filters: list[str]) -> bytes:
    if not filters:
        return b""
    return b" /Filter [" + b" ".join(f.encode() for f in filters) + b"]"


def pdf_doc(
    *,
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    media_box=(0, 0, 612, 792),
    pages: int = 1,
    extra_objects: tuple[bytes, ...] = (),
    in_object_stream: tuple[bytes, ...] = (),
    object_stream_filters: tuple[str, ...] = ("/FlateDecode",),
    padding_stream: bytes = b"",
) -> bytes:
    """A PDF as a generator writes it: catalog (1), page tree (2), a content
    stream (3), ``pages`` pages, then ``extra_objects`` in the file and
    ``in_object_stream`` inside one object stream encoded with
    ``object_stream_filters``; a cross-reference stream at the end. Objects
    are numbered in that order, so a test can refer to them (the first extra
    object is ``4 + pages``). ``padding_stream`` is stored Flate-compressed
    before the object stream (the old byte scan inflated at most 16 MiB)."""
    first_page = 4
    page_nums = list(range(first_page, first_page + pages))
    extra_first = first_page + pages
    packed_first = extra_first + len(extra_objects)
    padding_num = packed_first + len(in_object_stream)
    objstm_num = padding_num + (1 if padding_stream else 0)
    xref_num = objstm_num + (1 if in_object_stream else 0)
    box = " ".join(str(v) for v in media_box).encode()
    kids = b" ".join(f"{n} 0 R".encode() for n in page_nums)
    plain: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(pages).encode() + b" >>",
        3: b"<< /Length 30 >>\nstream\nBT /F1 12 Tf 72 720 Td ET    \nendstream",
    }
    for n in page_nums:
        plain[n] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox ["
            + box
            + b"] /Resources << >> /Contents 3 0 R "
            + page_extra
            + b">>"
        )
    for i, body in enumerate(extra_objects):
        plain[extra_first + i] = body
    if padding_stream:
        packed = zlib.compress(padding_stream)
        plain[padding_num] = (
            b"<< /Length " + str(len(packed)).encode() + b" /Filter /FlateDecode >>\nstream\n" + packed + b"\nendstream"
        )
    if in_object_stream:
        header, bodies = b"", b""
        for i, body in enumerate(in_object_stream):
            header += f"{packed_first + i} {len(bodies)} ".encode()
            bodies += body + b"\n"
        raw = header + b"\n" + bodies
        encoded = _encode(raw, list(object_stream_filters))
        plain[objstm_num] = (
            b"<< /Type /ObjStm /N "
            + str(len(in_object_stream)).encode()
            + b" /First "
            + str(len(header) + 1).encode()
            + b" /Length "
            + str(len(encoded)).encode()
            + _filter_entry(list(object_stream_filters))
            + b" >>\nstream\n"
            + encoded
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-" + (b"1.7" if in_object_stream else b"1.4") + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}
    for n in sorted(plain):
        offsets[n] = (1, len(out), 0)
        out += f"{n} 0 obj\n".encode() + plain[n] + b"\nendobj\n"
    if not in_object_stream:
        # A classic cross-reference table (PDF 1.4), as most report writers still make.
        xref_at = len(out)
        size = max(plain) + 1
        out += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
        for n in range(1, size):
            out += f"{offsets[n][1]:010d} 00000 n \n".encode() if n in offsets else b"0000000000 65535 f \n"
        out += f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
        return bytes(out)
    for i in range(len(in_object_stream)):
        offsets[packed_first + i] = (2, objstm_num, i)
    xref_at = len(out)
    offsets[xref_num] = (1, xref_at, 0)
    size = xref_num + 1
    rows = b"".join(struct.pack(">BIH", *offsets.get(n, (0, 0, 0))) for n in range(size))
    out += (
        f"{xref_num} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R /Length {len(rows)} >>\nstream\n".encode()
        + rows
        + b"\nendstream\nendobj\n"
        + f"startxref\n{xref_at}\n%%EOF\n".encode()
    )
    return bytes(out)


PDF_JS_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"


# A one-page report, as a generator writes it (a PDF parser reads it to the end).
PDF = pdf_doc()


# --- DICOM whose header promises more than any MRI: tiny files, big headers -----------
def jpeg_ls_codestream(rows: int, columns: int) -> bytes:
    """SOI, a SOF55 (JPEG-LS) frame header declaring rows x columns, EOI: no scan data."""
    sof = struct.pack(">HBHHB", 11, 8, rows, columns, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xf7" + sof + b"\xff\xd9"


def j2k_codestream(rows: int, columns: int) -> bytes:
    """SOC and a SIZ segment declaring columns x rows (one component), EOC."""
    siz = struct.pack(">HHIIIIIIIIH", 41, 0, columns, rows, 0, 0, columns, rows, 0, 0, 1) + b"\x07\x01\x01"
    return b"\xff\x4f\xff\x51" + siz + b"\xff\xd9"


def rle_fragment() -> bytes:
    """An RLE frame header (one segment at offset 64) and a few replicate runs."""
    return struct.pack("<16I", 1, 64, *([0] * 14)) + b"\x81\x00" * 8


def dicom_declaring(
    *, rows: int, columns: int, syntax: str, fragment: bytes, bits: int = 8, modality: str = "MR"
) -> bytes:
    """An encapsulated DICOM image whose header declares rows x columns, with
    one given fragment as its pixel data."""
    from pydicom.encaps import encapsulate

    ds = _mr_object(syntax, modality)
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = encapsulate([fragment])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def jpeg_ls_bomb(side: int = 65535) -> bytes:
    """Declares side x side JPEG-LS, in its DICOM header and its frame header."""
    return dicom_declaring(
        rows=side, columns=side, syntax="1.2.840.10008.1.2.4.80", fragment=jpeg_ls_codestream(side, side)
    )


def rle_bomb(side: int = 16384) -> bytes:
    """Declares side x side 8-bit RLE: 256 MiB a frame, 1.2 GiB to decode in the review's 8 MB version."""
    return dicom_declaring(rows=side, columns=side, syntax="1.2.840.10008.1.2.5", fragment=rle_fragment())
