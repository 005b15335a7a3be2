"""Pixels to PNG for the browser: a DICOM slice through a window, a JPEG or
PNG re-encoded, a PDF page drawn by PDFium (without the PDF's scripts).

Server-side windowing, on purpose: the browser gets 8-bit PNGs only, so the
viewer is a few hundred lines of plain JS, any browser shows exactly what the
server drew, and raw 16-bit pixel data never leaves the server. The cost is a
request per window change while dragging (coalesced by the viewer: one in
flight, the latest wins); a warm slice renders in a few milliseconds.
"""

import io
import struct
import zlib

import numpy as np
from PIL import Image

from . import dicom

MAX_SIDE = 2048


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _deflate(data: bytes) -> bytes:
    # Run-length matching only: after the Sub filter, MR slices are mostly
    # small repeated differences; Z_RLE was 2.5x faster than level 1's LZ77
    # and 10% smaller on a noisy 512 x 512 slice.
    c = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return c.compress(data) + c.flush()


def png(array_u8: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG, written directly: every row with PNG's "Sub"
    filter (computed by numpy) and zlib's run-length strategy. Several times
    faster than Pillow's encoder for a 512 x 512 slice (about 2 vs 22 ms here)
    and smaller. PNG spec: https://www.w3.org/TR/png-3/"""
    a = np.ascontiguousarray(array_u8, dtype=np.uint8)
    h, w = a.shape
    raw = np.empty((h, w + 1), np.uint8)
    raw[:, 0] = 1  # filter type Sub: each byte minus the one to its left, mod 256
    raw[:, 1] = a[:, 0]
    np.subtract(a[:, 1:], a[:, :-1], out=raw[:, 2:])
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", _deflate(raw.tobytes())) + _chunk(b"IEND", b"")
    )


def slice_png(frame: np.ndarray, center: float, width: float, *, invert: bool = False) -> bytes:
    return png(dicom.window(frame, center, width, invert=invert))


def image_png(data: bytes) -> bytes:
    """A patient's JPEG or PNG re-encoded (metadata dropped), at most MAX_SIDE."""
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((MAX_SIDE, MAX_SIDE))
        out = img.convert("L" if img.mode in ("L", "I", "I;16", "F") else "RGB")
        buf = io.BytesIO()
        out.save(buf, "PNG", compress_level=1)
        return buf.getvalue()


def pdf_page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return len(doc)
    finally:
        doc.close()


def pdf_page_png(data: bytes, page_index: int, scale: float = 1.5) -> bytes:
    """One page drawn by PDFium. pypdfium2's PDFium is built without V8 and
    XFA, and no form environment is initialised, so the PDF's JavaScript and
    forms never run; the browser gets a picture."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        if not 0 <= page_index < len(doc):
            raise IndexError("no such page")
        page = doc[page_index]
        try:
            bitmap = page.render(scale=scale, may_draw_forms=False)
            image = bitmap.to_pil()
        finally:
            page.close()
    finally:
        doc.close()
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()
