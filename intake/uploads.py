"""MRI upload checks: the type is decided by content, never by name.

Each check raises ``UploadRejected`` with a sentence a patient understands.
The caller stores a file only after every check passed, so nothing of a
rejected file stays on disk (Django removes its own temporary file).
"""

import posixpath
import re
import stat
import zipfile
import zlib

from django.conf import settings
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
# Searched for in the whole file, not only its head: markup placed after the
# first 4 KiB got through. Only markers of six bytes or more, because a
# 100 MB scan of compressed image data would find a short one like "<svg" by
# chance (about once in five such files); these would not in a lifetime.
_ACTIVE_CONTENT_ANYWHERE = (b"<script", b"javascript:", b"<!doctype html", b"<?php ")
_SCAN_CHUNK = 1024 * 1024
_WEB_CODE = gettext_lazy(
    "This file contains web page code, which an MRI file never has. Please send the original file."
)


def _scan(fh, markers, chunk=_SCAN_CHUNK):
    """True if any marker (lower case) occurs anywhere in the file, read in
    chunks that overlap by a marker's length so none is split unseen."""
    overlap = max(len(m) for m in markers) - 1
    fh.seek(0)
    tail = b""
    try:
        while block := fh.read(chunk):
            window = tail + block.lower()
            if any(m in window for m in markers):
                return True
            tail = window[-overlap:]
        return False
    finally:
        fh.seek(0)


def _check_not_polyglot(fh, kind: str):
    """A file that is also a ZIP, or carries markup, is two things at once."""
    head = _head(fh, 4096).lower()
    if kind != T.ZIP and any(marker in head for marker in _ACTIVE_CONTENT):
        raise UploadRejected(_WEB_CODE)
    if kind != T.ZIP and _scan(fh, _ACTIVE_CONTENT_ANYWHERE):
        raise UploadRejected(_WEB_CODE)
    if kind != T.ZIP:
        fh.seek(0)
        if zipfile.is_zipfile(fh):
            raise UploadRejected(
                _(
                    "This file has a second, hidden file inside it, so we cannot accept it. "
                    "Please send the original file."
                )
            )
        fh.seek(0)


# PDF names that run something when the file is opened or used: scripts,
# launching programs, actions on open or on events. A scan report never needs
# them. (A plain /OpenAction that only opens a page is common, so it is the
# action's kind that is refused, with /AA and /OpenAction only when they name one.)
_PDF_ACTIVE_NAMES = {b"/js", b"/javascript", b"/launch", b"/submitform", b"/importdata", b"/richmedia", b"/xfa"}
# "/J#53" is "/JS": PDF names may spell any byte as #xx.
_PDF_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_PDF_HEX = re.compile(rb"#([0-9a-fA-F]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
# Compressed streams (object streams hide dictionaries there) are inflated, up
# to this much output in all per file, and their names read too.
_PDF_INFLATE_LIMIT = 16 * 1024 * 1024
_PDF_ACTIVE = gettext_lazy(
    "This PDF contains a script or an automatic action, which a scan report never has, so we cannot accept it. "
    "Please send the original report, or print it to a new PDF first."
)


def _pdf_names(data: bytes) -> set[bytes]:
    return {_PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), n).lower() for n in _PDF_NAME.findall(data)}


def _pdf_stream_names(fh, offset: int, budget: list[int]) -> set[bytes]:
    """The names inside one Flate-compressed stream starting at ``offset``,
    inflated piece by piece while ``budget`` (bytes of output) lasts."""
    fh.seek(offset)
    inflater = zlib.decompressobj()
    names: set[bytes] = set()
    tail = b""
    while budget[0] > 0 and not inflater.eof:
        piece = fh.read(64 * 1024)
        if not piece:
            break
        try:
            out = inflater.decompress(piece, budget[0])
        except zlib.error:
            break  # not Flate data (a JPEG image, say), or its end
        budget[0] -= len(out)
        window = tail + out
        names |= _pdf_names(window)
        tail = window[-256:]
    return names


def _check_pdf_active_content(fh):
    """Refuse scripts and automatic actions, in plain objects and in
    compressed streams (object streams hide dictionaries there). Read in
    overlapping chunks; streams are inflated within a budget."""
    budget = [_PDF_INFLATE_LIMIT]
    streams: list[int] = []
    fh.seek(0)
    tail, position = b"", 0
    try:
        while block := fh.read(_SCAN_CHUNK):
            window = tail + block
            if _pdf_names(window) & _PDF_ACTIVE_NAMES:
                raise UploadRejected(_PDF_ACTIVE)
            start = position - len(tail)
            streams.extend(start + m.end() for m in _PDF_STREAM.finditer(window) if start + m.end() > position)
            position += len(block)
            tail = window[-256:]
        for offset in streams:
            if budget[0] <= 0:
                break
            if _pdf_stream_names(fh, offset, budget) & _PDF_ACTIVE_NAMES:
                raise UploadRejected(_PDF_ACTIVE)
    finally:
        fh.seek(0)


def _check_pdf(fh):
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - 2048))
    tail = fh.read()
    fh.seek(0)
    if b"%%EOF" not in tail:
        raise UploadRejected(_("This PDF looks incomplete or damaged. Please download it again and retry."))
    _check_pdf_active_content(fh)


def _check_image(fh):
    from PIL import Image

    limit = settings.INTAKE_IMAGE_MAX_PIXELS
    too_big = _(
        "This image is larger than the %(limit)s pixels we accept. Please send a smaller copy or the PDF report."
    ) % {"limit": formats.number_format(limit, force_grouping=True)}
    try:
        with Image.open(fh) as img:
            w, h = img.size
            if w * h > limit:
                raise UploadRejected(
                    _(
                        "At %(width)s × %(height)s pixels, this image is larger than the %(limit)s pixels we accept. "
                        "Please send a smaller copy or the PDF report."
                    )
                    % {"width": w, "height": h, "limit": formats.number_format(limit, force_grouping=True)}
                )
            img.verify()
    except UploadRejected:
        raise
    except Image.DecompressionBombError:
        # Pillow refuses to even open images far beyond its own bound.
        raise UploadRejected(too_big) from None
    except Exception:
        raise UploadRejected(_("This image is damaged or incomplete, so we cannot open it.")) from None
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
        raise UploadRejected(_("This looks like a DICOM file but it is damaged, so we cannot read it.")) from None
    finally:
        fh.seek(0)


def _safe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if len(name) > 1 and name[1] == ":":  # C:...
        return False
    norm = posixpath.normpath(name)
    return not (norm.startswith("..") or "/../" in f"/{norm}/")


def _check_zip_entry_kind(info: zipfile.ZipInfo):
    """Only plain files and folders: a ZIP made on Unix records each entry's
    file type, and a link (or a device) unpacked on a staff machine points
    somewhere else than where it seems."""
    if info.create_system != 3:  # 3: Unix; other systems record no file type
        return
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise UploadRejected(
            _(
                "This ZIP contains a link to another file rather than the file itself, so we cannot accept it. "
                "Please make the ZIP again from the scan files themselves."
            )
        )


# What macOS and Windows add beside real files. Accepted only when it is what
# it says (named so, small, and starting as such files do), never by name alone:
# "__MACOSX/" or a leading dot used to skip every check.
_APPLEDOUBLE = b"\x00\x05\x16\x07"
_DS_STORE = b"\x00\x00\x00\x01Bud1"
_CLUTTER_MAX_BYTES = 4 * 1024 * 1024


def _is_os_clutter(info: zipfile.ZipInfo, head: bytes) -> bool:
    base = posixpath.basename(info.filename)
    in_macosx = info.filename.startswith("__MACOSX/")
    if not (in_macosx or base.startswith(".") or base.lower() in ("thumbs.db", "desktop.ini")):
        return False
    if info.file_size > _CLUTTER_MAX_BYTES:
        return False
    if info.file_size == 0:
        return True
    if base.startswith("._"):
        return head.startswith(_APPLEDOUBLE)
    if base == ".DS_Store":
        return head.startswith(_DS_STORE)
    return False


def _check_zip(fh):
    limit_entries = settings.INTAKE_ZIP_MAX_ENTRIES
    limit_total = settings.INTAKE_ZIP_MAX_UNCOMPRESSED_BYTES
    limit_ratio = settings.INTAKE_ZIP_MAX_RATIO
    try:
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile:
        raise UploadRejected(_("This ZIP archive is damaged, so we cannot open it.")) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limit_entries:
            raise UploadRejected(
                _("This ZIP holds %(count)s files; we accept at most %(limit)s.")
                % {
                    "count": formats.number_format(len(infos), force_grouping=True),
                    "limit": formats.number_format(limit_entries, force_grouping=True),
                }
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit_total:
            raise UploadRejected(
                _("Unpacked, this ZIP would be %(size)s, more than the %(limit)s we accept.")
                % {"size": filesizeformat(total), "limit": filesizeformat(limit_total)}
            )
        if total / packed > limit_ratio or any(
            i.compress_size and i.file_size / i.compress_size > limit_ratio for i in infos
        ):
            raise UploadRejected(_("This ZIP is compressed far more than real scans are, so we cannot accept it."))
        dicoms = 0
        for info in infos:
            if not _safe_name(info.filename):
                raise UploadRejected(_("This ZIP contains a file with an unsafe path name, so we cannot accept it."))
            _check_zip_entry_kind(info)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise UploadRejected(_("This ZIP is password-protected. Please send it without a password."))
            with zf.open(info) as member:
                head = member.read(132)
            base = posixpath.basename(info.filename)
            if base.upper() == "DICOMDIR" or _is_dicom_bytes(head):
                dicoms += 1
                continue
            if _is_os_clutter(info, head):
                continue
            raise UploadRejected(
                _("This ZIP contains files that are not DICOM images. Please send only the scan files.")
            )
        if dicoms == 0:
            raise UploadRejected(_("This ZIP contains no DICOM images."))
    fh.seek(0)


CHECKS = {T.PDF: _check_pdf, T.JPEG: _check_image, T.PNG: _check_image, T.DICOM: _check_dicom, T.ZIP: _check_zip}


def _check_pending_capacity(size: int):
    """All drafts' files together stay under INTAKE_MAX_PENDING_DRAFT_BYTES:
    the per-request limit alone let anyone open draft after draft and fill the
    disk. Files of submitted cases do not count (they are the clinic's work)."""
    pending = MriFile.objects.filter(case__isnull=True).aggregate(n=Sum("size"))["n"] or 0
    if pending + size > settings.INTAKE_MAX_PENDING_DRAFT_BYTES:
        raise UploadRejected(
            _(
                "We cannot take more files just now. Please try again in a few hours, or choose "
                "“My imaging centre will send it” and continue: we will get the images from them."
            )
        )


def validate_upload(uploaded, *, already_bytes: int = 0, already_files: int = 0, draft: bool = True) -> str:
    """Check one uploaded file; return its type. Raises UploadRejected.

    ``draft``: for a patient's draft (the public form), so the cap on all
    drafts' files applies; staff attaching to a case are not held by it."""
    max_file = settings.INTAKE_MAX_FILE_BYTES
    max_total = settings.INTAKE_MAX_REQUEST_BYTES
    if already_files >= settings.INTAKE_MAX_FILES:
        raise UploadRejected(_("You can send at most %(n)s files with one request.") % {"n": settings.INTAKE_MAX_FILES})
    if uploaded.size == 0:
        raise UploadRejected(_("This file is empty."))
    if uploaded.size > max_file:
        raise UploadRejected(
            _(
                "This file is %(size)s; each file can be at most %(limit)s. "
                "If your scan is bigger, choose “my imaging centre will send it”."
            )
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(max_file)}
        )
    if already_bytes + uploaded.size > max_total:
        raise UploadRejected(
            _(
                "Together your files would pass the %(limit)s limit for one request. "
                "Choose “my imaging centre will send it” for the rest."
            )
            % {"limit": filesizeformat(max_total)}
        )
    if draft:
        _check_pending_capacity(uploaded.size)
    fh = uploaded.file
    kind = sniff(fh)
    if kind is None:
        raise UploadRejected(
            _(
                "We can accept PDF, JPEG, PNG, DICOM or a ZIP of DICOM files. This file is none of those, "
                "whatever its name says."
            )
        )
    _check_not_polyglot(fh, kind)
    CHECKS[kind](fh)
    fh.seek(0)
    return kind
