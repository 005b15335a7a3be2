"""MRI upload checks: the type is decided by content, never by name.

Each check raises ``UploadRejected`` with a sentence a patient understands.
The caller stores a file only after every check passed, so nothing of a
rejected file stays on disk (Django removes its own temporary file).
"""

import posixpath
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .models import MriFile

T = MriFile.FileType


class UploadRejected(Exception):
    pass


def _head(fh, n=2048) -> bytes:
    fh.seek(0)
    data = fh.read(n)
    fh.seek(0)
    return data


def _is_dicom_bytes(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


def sniff(fh) -> str | None:
    head = _head(fh)
    if head.startswith(b"%PDF-"):
        return T.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return T.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return T.PNG
    if _is_dicom_bytes(head):
        return T.DICOM
    if head.startswith(b"PK\x03\x04"):
        return T.ZIP
    return None


_ACTIVE_CONTENT = (b"<script", b"<html", b"<svg", b"<!doctype", b"<?php", b"javascript:")


def _check_not_polyglot(fh, kind: str):
    """A file that is also a ZIP, or carries markup, is two things at once."""
    head = _head(fh, 4096).lower()
    if kind != T.ZIP and any(marker in head for marker in _ACTIVE_CONTENT):
        raise UploadRejected(
            "This file contains web page code, which an MRI file never has. Please send the original file."
        )
    if kind != T.ZIP:
        fh.seek(0)
        if zipfile.is_zipfile(fh):
            raise UploadRejected(
                "This file has a second, hidden file inside it, so we cannot accept it. Please send the original file."
            )
        fh.seek(0)


def _check_pdf(fh):
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - 2048))
    tail = fh.read()
    fh.seek(0)
    if b"%%EOF" not in tail:
        raise UploadRejected("This PDF looks incomplete or damaged. Please download it again and retry.")


def _check_image(fh):
    from PIL import Image

    limit = settings.INTAKE_IMAGE_MAX_PIXELS
    too_big = f"This image is larger than the {limit:,} pixels we accept. Please send a smaller copy or the PDF report."
    try:
        with Image.open(fh) as img:
            w, h = img.size
            if w * h > limit:
                raise UploadRejected(f"At {w} × {h} pixels: " + too_big[0].lower() + too_big[1:])
            img.verify()
    except UploadRejected:
        raise
    except Image.DecompressionBombError:
        # Pillow refuses to even open images far beyond its own bound.
        raise UploadRejected(too_big) from None
    except Exception:
        raise UploadRejected("This image is damaged or incomplete, so we cannot open it.") from None
    finally:
        fh.seek(0)


def _check_dicom(fh):
    import pydicom

    try:
        # Parse the whole structure (large values deferred, never loaded) so a
        # truncated file fails; a real image has its identifying elements.
        ds = pydicom.dcmread(fh, defer_size="256 KB")
        if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
            raise ValueError("not an image instance")
    except Exception:
        raise UploadRejected("This looks like a DICOM file but it is damaged, so we cannot read it.") from None
    finally:
        fh.seek(0)


def _safe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if len(name) > 1 and name[1] == ":":  # C:...
        return False
    norm = posixpath.normpath(name)
    return not (norm.startswith("..") or "/../" in f"/{norm}/")


def _check_zip(fh):
    limit_entries = settings.INTAKE_ZIP_MAX_ENTRIES
    limit_total = settings.INTAKE_ZIP_MAX_UNCOMPRESSED_BYTES
    limit_ratio = settings.INTAKE_ZIP_MAX_RATIO
    try:
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile:
        raise UploadRejected("This ZIP archive is damaged, so we cannot open it.") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limit_entries:
            raise UploadRejected(f"This ZIP holds {len(infos):,} files; we accept at most {limit_entries:,}.")
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit_total:
            raise UploadRejected(
                f"Unpacked, this ZIP would be {filesizeformat(total)}, "
                f"more than the {filesizeformat(limit_total)} we accept."
            )
        if total / packed > limit_ratio or any(
            i.compress_size and i.file_size / i.compress_size > limit_ratio for i in infos
        ):
            raise UploadRejected("This ZIP is compressed far more than real scans are, so we cannot accept it.")
        dicoms = 0
        for info in infos:
            if not _safe_name(info.filename):
                raise UploadRejected("This ZIP contains a file with an unsafe path name, so we cannot accept it.")
            if info.is_dir():
                continue
            base = posixpath.basename(info.filename)
            if base.startswith(".") or info.filename.startswith("__MACOSX/"):
                continue  # operating-system clutter, harmless
            if info.flag_bits & 0x1:
                raise UploadRejected("This ZIP is password-protected. Please send it without a password.")
            with zf.open(info) as member:
                head = member.read(132)
            if base.upper() == "DICOMDIR" or _is_dicom_bytes(head):
                dicoms += 1
                continue
            raise UploadRejected("This ZIP contains files that are not DICOM images. Please send only the scan files.")
        if dicoms == 0:
            raise UploadRejected("This ZIP contains no DICOM images.")
    fh.seek(0)


CHECKS = {T.PDF: _check_pdf, T.JPEG: _check_image, T.PNG: _check_image, T.DICOM: _check_dicom, T.ZIP: _check_zip}


def validate_upload(uploaded, *, already_bytes: int = 0, already_files: int = 0) -> str:
    """Check one uploaded file; return its type. Raises UploadRejected."""
    max_file = settings.INTAKE_MAX_FILE_BYTES
    max_total = settings.INTAKE_MAX_REQUEST_BYTES
    if already_files >= settings.INTAKE_MAX_FILES:
        raise UploadRejected(f"You can send at most {settings.INTAKE_MAX_FILES} files with one request.")
    if uploaded.size == 0:
        raise UploadRejected("This file is empty.")
    if uploaded.size > max_file:
        raise UploadRejected(
            f"This file is {filesizeformat(uploaded.size)}; each file can be at most {filesizeformat(max_file)}. "
            "If your scan is bigger, choose “my imaging centre will send it”."
        )
    if already_bytes + uploaded.size > max_total:
        raise UploadRejected(
            f"Together your files would pass the {filesizeformat(max_total)} limit for one request. "
            "Choose “my imaging centre will send it” for the rest."
        )
    fh = uploaded.file
    kind = sniff(fh)
    if kind is None:
        raise UploadRejected(
            "We can accept PDF, JPEG, PNG, DICOM or a ZIP of DICOM files. This file is none of those, "
            "whatever its name says."
        )
    _check_not_polyglot(fh, kind)
    CHECKS[kind](fh)
    fh.seek(0)
    return kind
