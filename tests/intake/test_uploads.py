"""MRI uploads: the corpus, accepted and hostile; nothing of a rejected file stays."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intake import storage
from intake.models import MriFile

from . import corpus
from .helpers import fill_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_tmp(settings, tmp_path):
    d = tmp_path / "upload-tmp"
    d.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(d)
    return d


def files_on_disk(settings):
    root = Path(settings.INTAKE_PRIVATE_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_file(client, name, data, json=True):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(reverse("intake:upload"), {"file": SimpleUploadedFile(name, data)}, headers=headers)


VALID = [
    ("report.pdf", corpus.PDF, "pdf"),
    ("photo.jpg", corpus.jpeg(), "jpeg"),
    ("scan.png", corpus.png(), "png"),
    ("IM0001", corpus.dicom(), "dicom"),  # DICOM files often have no extension
    ("series.zip", corpus.zip_of({"DICOMDIR": b"x" * 200, "S1/IM1": corpus.dicom(), "S1/IM2": corpus.dicom()}), "zip"),
    ("misnamed.txt", corpus.PDF, "pdf"),  # the content decides, not the name
]


@pytest.mark.parametrize("name, data, kind", VALID)
def test_valid_files_are_stored_encrypted(client, settings, upload_tmp, name, data, kind):
    fill_until(client, last="safety")
    response = post_file(client, name, data)
    assert response.status_code == 200, response.json()
    f = MriFile.objects.get()
    assert f.file_type == kind and f.size == len(data)
    assert f.sha256 == hashlib.sha256(data).hexdigest()
    assert f.stored_name != name and name not in f.stored_name
    [path] = files_on_disk(settings)
    raw = path.read_bytes()
    assert data[:64] not in raw  # unreadable at rest
    assert b"".join(storage.iter_decrypted(f.stored_name, sha256=f.sha256)) == data
    assert not str(path).startswith(str(settings.MEDIA_ROOT)) and not str(path).startswith(str(settings.STATIC_ROOT))
    assert list(upload_tmp.iterdir()) == []


HOSTILE = [
    ("wrong content behind a good name", "scan.pdf", b"Just some text, not a scan at all." * 20, "none of those, whatever its name says"),
    ("HTML behind an image name", "scan.png", b"<html><script>alert(1)</script></html>", "none of those"),
    ("a polyglot PDF+ZIP", "report.pdf", corpus.polyglot(), "second, hidden file"),
    ("markup inside an image", "x.png", corpus.png()[:40] + b"<script>alert(1)</script>" + corpus.png()[40:], "web page code"),
    ("a ZIP bomb", "series.zip", corpus.zip_bomb(), "compressed far more than real scans"),
    ("a traversal name", "series.zip", corpus.zip_of({"../../etc/cron.d/IM1": corpus.dicom()}), "unsafe path name"),
    ("an absolute path name", "series.zip", corpus.zip_of({"/etc/IM1": corpus.dicom()}), "unsafe path name"),
    ("a ZIP of non-DICOM files", "series.zip", corpus.zip_of({"notes.txt": b"hello" * 100}), "no DICOM images"),
    ("a decompression-bomb PNG", "scan.png", corpus.png_bomb(), "larger than the"),
    ("a truncated PDF", "report.pdf", corpus.PDF[:30], "incomplete or damaged"),
    ("a damaged DICOM", "IM1", corpus.dicom()[:140], "damaged"),
    ("an empty file", "empty.pdf", b"", "empty"),
]  # fmt: skip


@pytest.mark.parametrize("label, name, data, message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_rejected_with_nothing_stored(client, settings, upload_tmp, label, name, data, message):
    fill_until(client, last="safety")
    response = post_file(client, name, data)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert MriFile.objects.count() == 0
    assert files_on_disk(settings) == []
    assert list(upload_tmp.iterdir()) == []


def test_oversized_file_is_rejected(client, settings, upload_tmp):
    settings.INTAKE_MAX_FILE_BYTES = 1000
    fill_until(client, last="safety")
    response = post_file(client, "big.pdf", corpus.PDF + b"0" * 2000 + b"\n%%EOF\n")
    assert response.status_code == 400
    assert "too large" in response.json()["error"] or "at most" in response.json()["error"]
    assert MriFile.objects.count() == 0 and files_on_disk(settings) == []


def test_request_total_limit(client, settings, upload_tmp):
    settings.INTAKE_MAX_REQUEST_BYTES = len(corpus.PDF) * 2 + 10
    fill_until(client, last="safety")
    assert post_file(client, "a.pdf", corpus.PDF).status_code == 200
    assert post_file(client, "b.pdf", corpus.PDF).status_code == 200
    response = post_file(client, "c.pdf", corpus.PDF)
    assert response.status_code == 400 and "limit for one request" in response.json()["error"]
    assert MriFile.objects.count() == 2


def test_without_javascript_several_files_and_a_retry(client, settings, upload_tmp):
    fill_until(client, last="history")
    response = client.post(
        reverse("intake:upload"),
        {"file": [SimpleUploadedFile("a.pdf", corpus.PDF), SimpleUploadedFile("b.pdf", b"not a scan" * 10)]},
        follow=True,
    )
    body = response.content.decode()
    assert "a.pdf was uploaded" in body and "b.pdf: We can accept PDF" in body
    # the failed one alone, again, without refilling anything
    client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("b.jpg", corpus.jpeg())})
    assert sorted(MriFile.objects.values_list("original_name", flat=True)) == ["a.pdf", "b.jpg"]


def test_files_move_to_the_case_on_submit(client, seeded, settings, upload_tmp):
    from intake.models import ReviewRequest

    from .helpers import submit_complete

    fill_until(client, last="history")
    post_file(client, "report.pdf", corpus.PDF)
    submit_complete(client, mri={"mri_status": "upload"})
    case = ReviewRequest.objects.get()
    assert case.files.count() == 1 and case.mri_received_at is not None
    assert MriFile.objects.get().draft_key == ""


def test_removing_a_draft_file_deletes_it(client, settings, upload_tmp):
    fill_until(client, last="safety")
    post_file(client, "report.pdf", corpus.PDF)
    f = MriFile.objects.get()
    client.post(reverse("intake:upload_remove", args=[f.pk]))
    assert MriFile.objects.count() == 0 and files_on_disk(settings) == []


def test_another_patients_file_cannot_be_removed(client, settings, upload_tmp):
    from django.test import Client

    fill_until(client, last="safety")
    post_file(client, "report.pdf", corpus.PDF)
    f = MriFile.objects.get()
    other = Client()
    fill_until(other, last="safety")
    other.post(reverse("intake:upload_remove", args=[f.pk]))
    assert MriFile.objects.filter(pk=f.pk).exists()


def test_key_rotation_keeps_files_readable(settings):
    from cryptography.fernet import Fernet
    from django.core.files.base import ContentFile

    name, size, digest = storage.store_encrypted(ContentFile(corpus.PDF))
    settings.INTAKE_FILE_KEYS = [Fernet.generate_key().decode(), *settings.INTAKE_FILE_KEYS]
    before = storage.path_for(name).read_bytes()
    storage.rotate_stored(name, sha256=digest)
    assert storage.path_for(name).read_bytes() != before
    settings.INTAKE_FILE_KEYS = settings.INTAKE_FILE_KEYS[:1]  # the old key retired
    assert b"".join(storage.iter_decrypted(name, sha256=digest)) == corpus.PDF
