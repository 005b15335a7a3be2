"""Red-team finding 10: uploads. No limit per address, no cap on all drafts'
files together; ZIP entries under __MACOSX/ and dot-files skipped the checks
and links were accepted; markup after the first 4 KiB was accepted. (PDF
scripts: test_pdf_active_content.py.)"""

import stat
import zipfile
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from intake.models import MriFile
from tests.intake import corpus
from tests.intake.helpers import fill_until
from tests.support.uploads import post_file, refused

pytestmark = pytest.mark.django_db


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
    "entry, why",
    [
        (("__MACOSX/S1/payload.html", b"<html><script>alert(1)</script></html>", None), "web page"),
        (("__MACOSX/S1/._IM1", b"MZ\x90\x00 not an AppleDouble file" * 10, None), "program"),
        ((".hidden.exe", b"MZ\x90\x00" + b"\x00" * 400, None), "program"),
        (("S1/.DS_Store", b"<script>steal()</script>", None), "web page"),
    ],
)
def test_os_clutter_names_no_longer_skip_the_check(patient, entry, why):
    """Issue 21.5: a disc's other files are no longer refused, but a name
    that looks like OS clutter does not hide one: it is judged by content and
    listed for staff as left out."""
    assert post_file(patient, "series.zip", _zip_with([SCAN, entry])).status_code == 200
    [(name, reason)] = MriFile.objects.get().left_out
    assert name == entry[0] and why in reason


def test_real_mac_clutter_is_still_accepted(patient):
    appledouble = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 200
    ds_store = b"\x00\x00\x00\x01Bud1" + b"\x00" * 200
    data = _zip_with([SCAN, ("__MACOSX/S1/._IM1", appledouble, None), ("S1/.DS_Store", ds_store, None)])
    assert post_file(patient, "series.zip", data).status_code == 200
    assert MriFile.objects.get().left_out == []  # what it is: nothing to list


def test_links_inside_a_zip_are_refused(patient):
    link = ("S1/IM2", b"/etc/passwd", stat.S_IFLNK | 0o777)
    refused(post_file(patient, "series.zip", _zip_with([SCAN, link])), "link")


def test_unix_zip_of_plain_files_is_accepted(patient):
    data = _zip_with([("S1/IM1", corpus.dicom(), stat.S_IFREG | 0o644)])
    assert post_file(patient, "series.zip", data).status_code == 200


# --- Markup anywhere ----------------------------------------------------------------
# (PDF active content: tests/security/test_pdf_active_content.py, judged by a parser.)
@pytest.mark.parametrize("offset", [5000, 1024 * 1024 - 3, 3 * 1024 * 1024])
def test_markup_anywhere_in_a_file_is_refused(patient, offset):
    """After the first 4 KiB, and across the scanner's chunk boundaries."""
    jpeg = corpus.jpeg()
    data = jpeg + b"\x00" * (offset - len(jpeg)) + b"<SCRIPT>fetch('/x')</script>" + b"\x00" * 64
    refused(post_file(patient, "photo.jpg", data), "web page code")
