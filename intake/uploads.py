"""MRI upload checks: the type is decided by content, never by name.

Each check raises ``UploadRejected`` with a sentence a patient understands.
The caller stores a file only after every check passed, so nothing of a
rejected file stays on disk (Django removes its own temporary file).
"""

import io
import logging
import posixpath
import stat
import struct
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import dicomlimits, pdfcheck
from .models import MriFile

log = logging.getLogger(__name__)

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
    if dicomlimits.looks_like_raw_dicom(head):
        return T.DICOM
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


_PDF_ACTIVE = gettext_lazy(
    "This PDF contains a script or an automatic action, which a scan report never has, so we cannot accept it. "
    "Please send the original report, or print it to a new PDF first."
)


def _check_pdf(fh):
    """Judged by a PDF parser in a caged child process (``intake.pdfcheck``):
    scripts and actions wherever they hide, page count and page size. A file
    the parser could not read to the end within its budget is refused."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - 2048))
    tail = fh.read()
    fh.seek(0)
    if b"%%EOF" not in tail:
        raise UploadRejected(_("This PDF looks incomplete or damaged. Please download it again and retry."))
    result = pdfcheck.inspect_caged(fh)
    verdict = result.get("verdict")
    if verdict == "ok":
        return
    if verdict == "active":
        raise UploadRejected(_PDF_ACTIVE)
    if verdict == "password":
        raise UploadRejected(_("This PDF is password-protected. Please send it without a password."))
    if verdict == "too_many_pages":
        raise UploadRejected(
            _(
                "This PDF has %(count)s pages; we accept reports of up to %(limit)s pages. "
                "Please send only the MRI report."
            )
            % {
                "count": formats.number_format(int(result.get("pages") or 0), force_grouping=True),
                "limit": formats.number_format(pdfcheck.MAX_PAGES, force_grouping=True),
            }
        )
    if verdict == "page_too_large":
        raise UploadRejected(
            _(
                "This PDF has a page far larger than any printed report; it may be damaged. "
                "Please send the original report, or print it to a new PDF first."
            )
        )
    if verdict == "no_pages":
        raise UploadRejected(_("This PDF has no pages to show. Please send the report itself."))
    # "unreadable", a dead or timed-out checker, anything else: never accepted.
    log.info("PDF upload refused: %s", str(result.get("why", verdict))[:120])
    raise UploadRejected(
        _(
            "We could not read this PDF all the way through, so we cannot accept it. "
            "Please download the report again, or print it to a new PDF first."
        )
    )


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


# --- DICOM: the header's promises checked against the bytes, to the end ---------
_DICOM_BIG = gettext_lazy(
    "This image file declares a picture far larger than any MRI; it may be damaged. "
    "Please copy it again from the disc, or choose “my imaging centre will send it”."
)
_DICOM_MISMATCH = gettext_lazy(
    "The picture inside this image file does not match what its header says; it may be damaged. "
    "Please copy it again from the disc, or choose “my imaging centre will send it”."
)
_DICOM_INCOMPLETE = gettext_lazy("This file is incomplete: please copy it again from the disc.")
_DICOM_DAMAGED = gettext_lazy("This looks like a DICOM file but it is damaged, so we cannot read it.")
_DICOM_NO_STUDY = gettext_lazy(
    "This DICOM file does not say which study it belongs to, so our team could not use it. "
    "Please copy it again from the disc, or choose “my imaging centre will send it”."
)
_DICOM_NO_PICTURES = gettext_lazy(
    "This DICOM file holds no pictures (it is a report or a record, not an image), so our team could not view "
    "it. If you have the written report, please send it as a PDF."
)

# Transfer syntaxes whose first fragment starts with a JPEG-family frame
# header (SOFn, or SOF55 for JPEG-LS), and those holding a JPEG 2000
# codestream (SIZ). Reading that header costs a few bytes.
_JPEG_SYNTAXES = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
}
_J2K_SYNTAXES = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_PIXEL_TAGS = {(0x7FE0, 0x0010), (0x7FE0, 0x0008), (0x7FE0, 0x0009)}
# Fragments one object may hold: a frame may be split, but not into 100,000 pieces.
_MAX_FRAGMENTS = 100_000
# A single file or ZIP member read into memory for the check up to this size;
# larger ones are read from their stream.
_IN_MEMORY = 64 * 1024 * 1024


_MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


@dataclass
class DicomFacts:
    has_pixels: bool
    has_study: bool
    modality: str
    directory: bool = False


def _jpeg_frame_size(data: bytes) -> tuple[int, int] | None:
    """(rows, columns) from the first SOFn / SOF55 segment, walking the
    segments from SOI; None when the header is not within ``data``."""
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in _SOF_MARKERS and at + 9 <= len(data):
            rows, columns = struct.unpack(">HH", data[at + 5 : at + 9])
            return rows, columns
        at += 2 + length
    return None


def _j2k_frame_size(data: bytes) -> tuple[int, int] | None:
    """(rows, columns) from the codestream's SIZ segment (inside a JP2 box or bare)."""
    at = data.find(b"\xff\x4f\xff\x51")
    if at < 0 or at + 24 > len(data):
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack(">IIII", data[at + 8 : at + 24])
    return max(0, ysiz - yosiz), max(0, xsiz - xosiz)


def _check_frame_header(fragment: bytes, syntax: str, rows: int, columns: int):
    if syntax in _JPEG_SYNTAXES:
        found = _jpeg_frame_size(fragment)
    elif syntax in _J2K_SYNTAXES:
        found = _j2k_frame_size(fragment)
    else:
        return
    if found is None:
        return
    f_rows, f_columns = found
    if max(f_rows, f_columns) > dicomlimits.MAX_DIMENSION:
        raise UploadRejected(_DICOM_BIG)
    # JPEG may leave the rows to a later DNL segment (0 here).
    if f_columns != columns or (f_rows and f_rows != rows):
        raise UploadRejected(_DICOM_MISMATCH)


def _expected_pixel_bytes(ds, d: dicomlimits.Declared) -> int:
    if d.bits_allocated == 1:
        return (d.rows * d.columns * d.frames * d.samples + 7) // 8
    expected = d.total_bytes
    if str(ds.get("PhotometricInterpretation", "")).startswith("YBR_FULL_422"):
        expected = expected * 2 // 3  # two chroma samples shared by two pixels
    return expected


def _read_exact(fh, n: int) -> bytes:
    data = fh.read(n)
    if len(data) < n:
        raise UploadRejected(_DICOM_INCOMPLETE)
    return data


def _check_pixel_data(fh, size: int, ds, d: dicomlimits.Declared | None):
    """Read the pixel data element's framing to its end: a native value must
    hold every declared byte; encapsulated fragments must lead, item by item,
    to the sequence delimiter. Nothing is decoded. Returns whether there is
    pixel data at all."""
    at = fh.tell()
    if at > size:  # a deferred value was skipped past the end of the file
        raise UploadRejected(_DICOM_INCOMPLETE)
    if at == size:
        return False
    implicit, little = ds.original_encoding
    endian = "<" if little is not False else ">"
    header = _read_exact(fh, 8)
    group, element = struct.unpack(endian + "HH", header[:4])
    if (group, element) not in _PIXEL_TAGS:
        return False  # stopped elsewhere: no top-level pixel data
    if implicit:
        length = struct.unpack(endian + "I", header[4:8])[0]
    elif header[4:6] in dicomlimits.LONG_VRS:
        length = struct.unpack(endian + "I", _read_exact(fh, 4))[0]
    else:
        length = struct.unpack(endian + "H", header[6:8])[0]
    if d is None:
        raise UploadRejected(_DICOM_DAMAGED)  # pixels without rows and columns
    if length != 0xFFFFFFFF:
        if fh.tell() + length > size or length < _expected_pixel_bytes(ds, d):
            raise UploadRejected(_DICOM_INCOMPLETE)
        return True
    syntax = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
    fragments = 0
    while True:
        item = _read_exact(fh, 8)
        tag = struct.unpack("<HH", item[:4])
        length = struct.unpack("<I", item[4:8])[0]
        if tag == (0xFFFE, 0xE0DD):
            return True
        if tag != (0xFFFE, 0xE000) or length == 0xFFFFFFFF:
            raise UploadRejected(_DICOM_DAMAGED)
        if fh.tell() + length > size:
            raise UploadRejected(_DICOM_INCOMPLETE)
        fragments += 1
        if fragments > _MAX_FRAGMENTS:
            raise UploadRejected(_DICOM_DAMAGED)
        value_at = fh.tell()
        if fragments == 2:  # the first after the offset table
            _check_frame_header(fh.read(min(length, 64 * 1024)), syntax, d.rows, d.columns)
        fh.seek(value_at + length)


def inspect_dicom(fh, size: int, *, raw: bool = False) -> DicomFacts:
    """Check one DICOM object from its header to its last byte without
    decoding a pixel. Raises ``UploadRejected``:

    - the image size the header declares breaks ``intake.dicomlimits``
      (the one rule shared with the viewer);
    - the first compressed frame's own header disagrees with Rows/Columns or
      is itself oversized;
    - the file ends before its header, its pixel data or its last fragment;
    - it is not a readable DICOM instance.
    ``raw``: no preamble (see ``looks_like_raw_dicom``).
    """
    import pydicom

    fh.seek(0)
    try:
        # Large non-pixel values are skipped, not loaded: a value that runs
        # past the end of the file leaves the position beyond it (checked next).
        ds = pydicom.dcmread(fh, stop_before_pixels=True, defer_size="1 MB", force=raw)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and meta.get("MediaStorageSOPClassUID") == _MEDIA_STORAGE_DIRECTORY:
            # A disc's DICOMDIR: the index of the images, with none of its own.
            return DicomFacts(has_pixels=False, has_study=False, modality="", directory=True)
        if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
            raise ValueError("not an image instance")
    except UploadRejected:
        raise
    except EOFError:
        raise UploadRejected(_DICOM_INCOMPLETE) from None
    except Exception:
        raise UploadRejected(_DICOM_DAMAGED) from None
    d = dicomlimits.declared(ds)
    if d is not None and dicomlimits.size_problem(d) is not None:
        raise UploadRejected(_DICOM_DAMAGED if d.invalid else _DICOM_BIG)
    try:
        has_pixels = _check_pixel_data(fh, size, ds, d)
    except struct.error:
        raise UploadRejected(_DICOM_DAMAGED) from None
    finally:
        fh.seek(0)
    return DicomFacts(
        has_pixels=has_pixels,
        has_study=bool(str(ds.get("StudyInstanceUID", "") or "").strip()),
        modality=str(ds.get("Modality", "") or "").strip().upper()[:16],
    )


def _check_dicom(fh) -> DicomFacts:
    """A single DICOM file: an image of a study, or refused with the reason."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    facts = inspect_dicom(fh, size, raw=not _is_dicom_bytes(_head(fh)))
    if not facts.has_pixels:
        raise UploadRejected(_DICOM_NO_PICTURES)
    if not facts.has_study:
        raise UploadRejected(_DICOM_NO_STUDY)
    return facts


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


# What a CD export holds beside its images, and why it is left out (for staff).
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
_PROGRAM_EXT = (".exe", ".dll", ".so", ".dylib", ".bat", ".cmd", ".com", ".sh", ".jar", ".msi", ".ocx", ".sys")
_WEB_EXT = (".htm", ".html", ".js", ".css", ".xml", ".xsl", ".svg", ".php", ".vbs", ".hta")
_LEFT_OUT_LISTED = 200


def _left_out_reason(info: zipfile.ZipInfo, head: bytes) -> str:
    name = info.filename.lower()
    if head.startswith(_PROGRAM_MAGIC) or name.endswith(_PROGRAM_EXT) or ".app/" in name:
        return "program (a disc viewer?): not checked, never opened here"
    if name.endswith(_WEB_EXT) or any(m in head.lower() for m in _ACTIVE_CONTENT):
        return "web page or script: not checked, never opened here"
    if posixpath.basename(name) in ("autorun.inf", "dicomdir") or name.endswith((".inf", ".ini", ".txt")):
        return "disc file (autorun, index, readme): not checked"
    return "not a DICOM image: not checked"


@dataclass
class UploadCheck:
    """What the checks found in an accepted file: its type, the modalities of
    its images, and, for a ZIP, the entries left out (name, reason for staff)."""

    kind: str
    modalities: set[str] = field(default_factory=set)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def _zip_member_dicom(zf: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bool) -> DicomFacts:
    if info.file_size <= _IN_MEMORY:
        return inspect_dicom(io.BytesIO(zf.read(info)), info.file_size, raw=raw)
    with zf.open(info) as member:  # seekable: forward seeks read on
        return inspect_dicom(member, info.file_size, raw=raw)


def _check_zip(fh) -> UploadCheck:
    limit_entries = settings.INTAKE_ZIP_MAX_ENTRIES
    limit_total = settings.INTAKE_ZIP_MAX_UNCOMPRESSED_BYTES
    limit_ratio = settings.INTAKE_ZIP_MAX_RATIO
    try:
        zf = zipfile.ZipFile(fh)
    except zipfile.BadZipFile:
        raise UploadRejected(_("This ZIP archive is damaged, so we cannot open it.")) from None
    result = UploadCheck(kind=T.ZIP)
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
        images = 0
        left_out: list[tuple[str, str]] = []
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
            if _is_os_clutter(info, head):
                continue
            part10 = _is_dicom_bytes(head)
            if not (part10 or dicomlimits.looks_like_raw_dicom(head)):
                # A disc's README, AUTORUN.INF, viewer program or web pages:
                # taken by content, not name, and listed for staff.
                left_out.append((info.filename, _left_out_reason(info, head)))
                continue
            try:
                facts = _zip_member_dicom(zf, info, raw=not part10)
            except UploadRejected as exc:
                raise UploadRejected(
                    _("%(name)s in this ZIP: %(problem)s") % {"name": info.filename[-80:], "problem": exc}
                ) from None
            if facts.directory:
                continue  # the disc's DICOMDIR: the images are found by content, not through it
            if not facts.has_pixels:
                left_out.append((info.filename, "DICOM without pictures (a report or record): not shown in the viewer"))
            elif not facts.has_study:
                left_out.append((info.filename, "DICOM image without a Study Instance UID: not shown in the viewer"))
            else:
                images += 1
                if facts.modality:
                    result.modalities.add(facts.modality)
        if images == 0:
            raise UploadRejected(_("This ZIP contains no DICOM images."))
    fh.seek(0)
    result.left_out = [(name[-200:], why) for name, why in left_out[:_LEFT_OUT_LISTED]]
    if len(left_out) > _LEFT_OUT_LISTED:
        result.left_out.append((f"… and {len(left_out) - _LEFT_OUT_LISTED} more", "not listed"))
    return result


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


def check_upload(uploaded, *, already_bytes: int = 0, already_files: int = 0, draft: bool = True) -> UploadCheck:
    """Check one uploaded file; return what was found (its type, its images'
    modalities, a ZIP's entries left out). Raises UploadRejected.

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
    found = CHECKS[kind](fh)
    fh.seek(0)
    if isinstance(found, UploadCheck):
        return found
    if isinstance(found, DicomFacts):
        return UploadCheck(kind=kind, modalities={found.modality} if found.modality else set())
    return UploadCheck(kind=kind)


def validate_upload(uploaded, **kwargs) -> str:
    """``check_upload``, for callers that need only the file's type."""
    return check_upload(uploaded, **kwargs).kind
