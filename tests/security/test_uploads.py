"""Red-team finding 10: uploads. No limit per address, no cap on all drafts'
files together; ZIP entries under __MACOSX/ and dot-files skipped the checks
and links were accepted; a PDF with a script on open, and markup after the
first 4 KiB, were accepted."""

import stat
import zipfile
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from intake.models import MriFile
from tests.intake import corpus
from tests.intake.helpers import fill_until

pytestmark = pytest.mark.django_db


def post_file(client, name, data):
    return client.post(
        reverse("intake:upload"), {"file": SimpleUploadedFile(name, data)}, headers={"Accept": "application/json"}
    )


@pytest.fixture
def patient(client):
    fill_until(client, last="safety")
    return client


def refused(response, *words):
    body = response.json()
    assert response.status_code == 400 and body["ok"] is False, body
    assert MriFile.objects.count() == 0
    for word in words:
        assert word in body["error"]
    return body["error"]


# --- Rate limit and capacity ---------------------------------------------------
def test_uploads_are_limited_per_address(patient, settings):
    settings.INTAKE_UPLOAD_LIMIT_PER_HOUR = 3
    settings.INTAKE_MAX_FILES = 100
    codes = [post_file(patient, f"r{i}.pdf", corpus.PDF).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert MriFile.objects.count() == 3
    response = patient.post(reverse("intake:upload"), {"file": SimpleUploadedFile("r.pdf", corpus.PDF)})
    assert response.status_code == 429 and "try again" in response.content.decode().lower()


def test_all_drafts_together_are_capped(patient, settings):
    settings.INTAKE_MAX_PENDING_DRAFT_BYTES = len(corpus.PDF) * 2
    assert post_file(patient, "a.pdf", corpus.PDF).status_code == 200
    other = Client()  # another draft, from another visitor
    fill_until(other, last="safety")
    assert post_file(other, "b.pdf", corpus.PDF).status_code == 200
    third = Client()
    fill_until(third, last="safety")
    response = post_file(third, "c.pdf", corpus.PDF)
    assert response.status_code == 400 and "imaging centre will send it" in response.json()["error"]
    assert MriFile.objects.count() == 2


def test_staff_attaching_to_a_case_are_not_held_by_the_drafts_cap(patient, settings):
    from intake.services.files import mri_file_add
    from tests.factories import CaseFactory

    assert post_file(patient, "a.pdf", corpus.PDF).status_code == 200
    settings.INTAKE_MAX_PENDING_DRAFT_BYTES = len(corpus.PDF)  # the drafts are full
    case = CaseFactory()
    f = mri_file_add(uploaded=SimpleUploadedFile("cd.pdf", corpus.PDF), case=case)
    assert f.case == case
    assert post_file(patient, "b.pdf", corpus.PDF).status_code == 400


# --- ZIP entries -------------------------------------------------------------------
def _zip_with(entries):
    """entries: (name, data, unix mode or None)"""
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.create_system = 3
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


SCAN = ("S1/IM1", corpus.dicom(), None)


@pytest.mark.parametrize(
    "entry",
    [
        ("__MACOSX/S1/payload.html", b"<html><script>alert(1)</script></html>", None),
        ("__MACOSX/S1/._IM1", b"MZ\x90\x00 not an AppleDouble file" * 10, None),
        (".hidden.exe", b"MZ\x90\x00" + b"\x00" * 400, None),
        ("S1/.DS_Store", b"<script>steal()</script>", None),
    ],
)
def test_os_clutter_names_no_longer_skip_the_check(patient, entry):
    refused(post_file(patient, "series.zip", _zip_with([SCAN, entry])), "not DICOM")


def test_real_mac_clutter_is_still_accepted(patient):
    appledouble = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 200
    ds_store = b"\x00\x00\x00\x01Bud1" + b"\x00" * 200
    data = _zip_with([SCAN, ("__MACOSX/S1/._IM1", appledouble, None), ("S1/.DS_Store", ds_store, None)])
    assert post_file(patient, "series.zip", data).status_code == 200


def test_links_inside_a_zip_are_refused(patient):
    link = ("S1/IM2", b"/etc/passwd", stat.S_IFLNK | 0o777)
    refused(post_file(patient, "series.zip", _zip_with([SCAN, link])), "link")


def test_unix_zip_of_plain_files_is_accepted(patient):
    data = _zip_with([("S1/IM1", corpus.dicom(), stat.S_IFREG | 0o644)])
    assert post_file(patient, "series.zip", data).status_code == 200


# --- PDF active content, markup anywhere --------------------------------------------
def _pdf(*objects: bytes) -> bytes:
    body = b"%PDF-1.7\n"
    for i, obj in enumerate(objects, start=1):
        body += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


OPEN_ACTION_JS = _pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", b"<< /S /JavaScript /JS (app.alert(1)) >>")


@pytest.mark.parametrize(
    "data",
    [
        OPEN_ACTION_JS,
        # The same, with the names spelled in #xx escapes.
        _pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        # A launch action on open.
        _pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>"),
        # Hidden in a compressed object stream, after 1.5 MB of padding.
        _pdf(
            b"<< /Type /Catalog >>",
            b"<< /Length 9 >>\nstream\n" + b"0" * 1_500_000 + b"\nendstream",
            b"<< /Type /ObjStm /Filter /FlateDecode >>\nstream\n"
            + zlib.compress(b"<< /S /JavaScript /JS (app.alert(1)) >>")
            + b"\nendstream",
        ),
    ],
    ids=["open-action-js", "escaped-names", "launch", "compressed-object-stream"],
)
def test_pdfs_with_scripts_or_automatic_actions_are_refused(patient, data):
    refused(post_file(patient, "report.pdf", data), "script")


def test_a_plain_open_action_to_a_page_is_accepted(patient):
    """Report generators add "open at page 1, fit width": that is not active content."""
    data = _pdf(b"<< /Type /Catalog /OpenAction [3 0 R /FitH null] /Pages 2 0 R >>", b"<< /Type /Pages >>")
    assert post_file(patient, "report.pdf", data).status_code == 200


@pytest.mark.parametrize("offset", [5000, 1024 * 1024 - 3, 3 * 1024 * 1024])
def test_markup_anywhere_in_a_file_is_refused(patient, offset):
    """After the first 4 KiB, and across the scanner's chunk boundaries."""
    jpeg = corpus.jpeg()
    data = jpeg + b"\x00" * (offset - len(jpeg)) + b"<SCRIPT>fetch('/x')</script>" + b"\x00" * 64
    refused(post_file(patient, "photo.jpg", data), "web page code")
