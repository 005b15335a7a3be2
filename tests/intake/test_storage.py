"""MRI file storage (issue #12, point 2): Django's storage API, a private local
folder by default and an S3 bucket by settings; the MRIENC2 chunk format;
the SHA-256 checked on every read; nothing half-stored; draft clean-up.

The S3 tests run against a real S3 API: moto's standalone server, started
here as its own process on a free loopback port (``s3_endpoint``).
"""

import errno
import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEntry
from clinic.settings.base import mri_s3_storage
from intake import storage
from intake.models import CaseEvent, MriFile, ReviewRequest, SystemAlert
from intake.services import alerts
from intake.services.files import INTEGRITY_OBJECT_TYPE, mri_file_add
from intake.services.retention import DRAFT_SESSION_KEY, draft_files_delete_expired
from tests.factories import CaseFactory, UserFactory
from tests.support.s3 import CREDENTIALS, free_port, s3_server

from . import corpus
from .helpers import fill_until, submit_complete
from .test_admin_support import add_pdf, file_url, make_case

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


# --- A real S3 API on loopback ---------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's standalone S3 server, in its own process, for this test run."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    """A fresh bucket; STORAGES["mri"] points at it as the settings would from
    INTAKE_MRI_S3_BUCKET and AWS_S3_ENDPOINT_URL."""
    import boto3

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"mri-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.STORAGES = {**settings.STORAGES, "mri": mri_s3_storage(bucket)}

    def keys():
        return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]

    return SimpleNamespace(endpoint=s3_endpoint, bucket=bucket, client=client, keys=keys)


@pytest.fixture(params=["local", "s3"])
def backend(request):
    """Each test using it runs on the private folder and on the bucket."""
    if request.param == "s3":
        request.getfixturevalue("s3")
    return request.param


def local_files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def raw_get(stored_name: str) -> bytes:
    with storage.mri_storage().open(storage.key_for(stored_name), "rb") as fh:
        return fh.read()


def raw_put(stored_name: str, data: bytes) -> None:
    storage.mri_storage().save(storage.key_for(stored_name), ContentFile(data))


def store(data: bytes) -> tuple[str, str]:
    name, size, digest = storage.store_encrypted(ContentFile(data))
    assert size == len(data)
    return name, digest


# --- Where files live --------------------------------------------------------------
def test_default_is_a_private_local_folder_never_served(settings):
    st = storage.mri_storage()
    assert isinstance(st, storage.PrivateFileSystemStorage)
    name, digest = store(corpus.PDF)
    [path] = local_files(settings.INTAKE_PRIVATE_ROOT)
    assert path == storage.path_for(name)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Path(settings.INTAKE_PRIVATE_ROOT).stat().st_mode & 0o777 == 0o700
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert not str(path).startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(NotImplementedError):
        st.url(storage.key_for(name))


def test_the_folder_follows_intake_private_root(settings, tmp_path):
    settings.INTAKE_PRIVATE_ROOT = tmp_path / "elsewhere"
    name, _ = store(corpus.PDF)
    assert storage.path_for(name).parent.parent == tmp_path / "elsewhere"


def test_round_trip_through_s3_leaves_nothing_on_local_disk(s3, settings):
    data = os.urandom(3 * MiB + 123)  # four chunks, the last a short one
    name, digest = store(data)
    assert s3.keys() == [f"mri/{storage.key_for(name)}"]
    assert local_files(settings.INTAKE_PRIVATE_ROOT) == []
    raw = raw_get(name)
    assert raw.startswith(storage.MAGIC) and data[:64] not in raw
    assert b"".join(storage.iter_decrypted(name, sha256=digest)) == data
    with pytest.raises(NotImplementedError):
        storage.mri_storage().url(storage.key_for(name))


# --- MRIENC2: chunk order and the end are authenticated ---------------------------------
HEADER = len(storage.MAGIC) + storage.FILE_ID_BYTES


def records(raw: bytes) -> tuple[bytes, list[bytes]]:
    out, pos = [], HEADER
    while pos < len(raw):
        (n,) = struct.unpack(">I", raw[pos : pos + 4])
        out.append(raw[pos : pos + 4 + n])
        pos += 4 + n
    return raw[:HEADER], out


def _reorder(head, recs, other):
    return head + recs[0] + recs[2] + recs[1] + recs[3]


def _drop(head, recs, other):
    return head + recs[0] + recs[2] + recs[3]


def _drop_last(head, recs, other):
    return head + b"".join(recs[:3])


def _cut_mid_record(head, recs, other):
    return (head + b"".join(recs))[:-1000]


def _repeat(head, recs, other):
    return head + b"".join(recs) + recs[3]


def _splice(head, recs, other):
    # The same position of another file encrypted with the same key.
    return head + recs[0] + records(other)[1][1] + recs[2] + recs[3]


def _flip(head, recs, other):
    tampered = bytearray(head + b"".join(recs))
    tampered[HEADER + 4 + 500] ^= 0x01
    return bytes(tampered)


TAMPERS = {
    "reordered": _reorder,
    "a chunk dropped": _drop,
    "the last chunk dropped": _drop_last,
    "cut inside a chunk": _cut_mid_record,
    "a chunk repeated at the end": _repeat,
    "a chunk from another file": _splice,
    "a flipped bit": _flip,
}


@pytest.mark.parametrize("how", TAMPERS, ids=list(TAMPERS))
def test_chunk_tampering_is_detected(backend, how):
    data = os.urandom(3 * MiB + 5)
    name, digest = store(data)
    other_name, _ = store(os.urandom(3 * MiB + 5))
    head, recs = records(raw_get(name))
    assert len(recs) == 4
    raw_put(name, TAMPERS[how](head, recs, raw_get(other_name)))
    # TamperedFile, not just the checksum: the chunks alone tell.
    with pytest.raises(storage.TamperedFile):
        b"".join(storage.iter_decrypted(name, sha256=digest))


def test_a_file_that_fails_its_checksum_is_never_yielded_whole(backend):
    data = os.urandom(2 * MiB + 7)
    name, digest = store(data)
    received = []
    with pytest.raises(storage.ChecksumMismatch):
        for chunk in storage.iter_decrypted(name, sha256="0" * 64):
            received.append(chunk)
    assert 0 < len(b"".join(received)) < len(data)  # the last chunk was held back


def test_a_missing_object_is_an_integrity_error(backend):
    name, digest = store(corpus.PDF)
    storage.delete_stored(name)
    with pytest.raises(storage.FileMissing):
        storage.verify_stored(name, sha256=digest)


# --- Old files ------------------------------------------------------------------------
def write_v1(data: bytes) -> tuple[str, str]:
    """A file exactly as the MRIENC1 writer (before issue #12) stored it."""
    from django.conf import settings

    f = MultiFernet([Fernet(k.encode()) for k in settings.INTAKE_FILE_KEYS])
    out = [storage.MAGIC_V1]
    for i in range(0, len(data), storage.CHUNK):
        token = f.encrypt(data[i : i + storage.CHUNK])
        out.append(struct.pack(">I", len(token)) + token)
    name = storage.new_name()
    raw_put(name, b"".join(out))
    return name, hashlib.sha256(data).hexdigest()


def test_old_format_files_are_read_and_rotation_rewrites_them(s3, settings):
    data = os.urandom(2 * MiB + 11)
    name, digest = write_v1(data)
    assert b"".join(storage.iter_decrypted(name, sha256=digest)) == data
    # MRIENC1 cannot tell order by itself; its SHA-256 does.
    head_len = len(storage.MAGIC_V1)
    raw = raw_get(name)
    recs, pos = [], head_len
    while pos < len(raw):
        (n,) = struct.unpack(">I", raw[pos : pos + 4])
        recs.append(raw[pos : pos + 4 + n])
        pos += 4 + n
    raw_put(name, raw[:head_len] + recs[1] + recs[0] + recs[2])
    with pytest.raises(storage.ChecksumMismatch):
        storage.verify_stored(name, sha256=digest)
    raw_put(name, raw)

    settings.INTAKE_FILE_KEYS = [Fernet.generate_key().decode(), *settings.INTAKE_FILE_KEYS]
    storage.rotate_stored(name, sha256=digest)
    assert storage.stored_format(name) == storage.MAGIC
    settings.INTAKE_FILE_KEYS = settings.INTAKE_FILE_KEYS[:1]  # the old key retired
    assert b"".join(storage.iter_decrypted(name, sha256=digest)) == data


# --- rotate_mri_keys through the storage -----------------------------------------------
@pytest.mark.django_db
def test_rotate_mri_keys_through_the_bucket_and_a_failing_file_left_as_it_was(s3, settings, caplog):
    case = CaseFactory()
    good = mri_file_add(uploaded=SimpleUploadedFile("a.pdf", corpus.PDF), case=case)
    old_v1_name, old_v1_digest = write_v1(corpus.PDF)
    old = MriFile.objects.create(
        case=case, original_name="b.pdf", stored_name=old_v1_name, file_type="pdf", size=len(corpus.PDF),
        sha256=old_v1_digest,
    )  # fmt: skip
    bad = mri_file_add(uploaded=SimpleUploadedFile("c.pdf", corpus.PDF), case=case)
    MriFile.objects.filter(pk=bad.pk).update(sha256="0" * 64)
    before = {f.pk: raw_get(f.stored_name) for f in (good, old, bad)}

    settings.INTAKE_FILE_KEYS = [Fernet.generate_key().decode(), *settings.INTAKE_FILE_KEYS]
    with caplog.at_level(logging.ERROR), pytest.raises(Exception, match=r"1 file\(s\) failed") as exc:
        call_command("rotate_mri_keys", stdout=open(os.devnull, "w"))
    assert f"#{bad.pk} (checksum)" in str(exc.value)
    assert raw_get(bad.stored_name) == before[bad.pk]  # untouched
    assert AuditEntry.objects.filter(object_type=INTEGRITY_OBJECT_TYPE, object_ref=str(bad.pk)).count() == 1

    settings.INTAKE_FILE_KEYS = settings.INTAKE_FILE_KEYS[:1]
    for f in (good, old):
        assert raw_get(f.stored_name) != before[f.pk]
        assert storage.stored_format(f.stored_name) == storage.MAGIC
        assert b"".join(storage.iter_decrypted(f.stored_name, sha256=f.sha256)) == corpus.PDF


# --- The download view: checked before the first byte, alerted once ---------------------


@pytest.mark.parametrize("damage", ["swapped for another file", "a flipped bit"])
def test_a_file_that_fails_its_check_is_refused_and_alerted_once(client, staff, backend, damage, caplog, monkeypatch):
    case = make_case(staff.queue_a, first_name="Zebulon", email="zebulon@example.com")
    f = add_pdf(case)
    if damage == "swapped for another file":
        # A well-formed file under the right key: only the SHA-256 can tell.
        other, _ = store(corpus.PDF.replace(b"Catalog", b"Catalxg"))
        raw_put(f.stored_name, raw_get(other))
    else:
        raw = bytearray(raw_get(f.stored_name))
        raw[-10] ^= 0x01
        raw_put(f.stored_name, bytes(raw))
    enqueued = []
    monkeypatch.setattr(alerts, "enqueue_on_commit", lambda task, *args, **kw: enqueued.append((task.name, args)))
    client.force_login(staff.clinician)

    with caplog.at_level(logging.ERROR, logger="intake"):
        first = client.get(file_url(case, f))
        second = client.get(file_url(case, f))
    for response in (first, second):
        assert response.status_code == 500
        assert not response.streaming
        assert b"failed its integrity check" in response.content and b"%PDF" not in response.content
    [alert] = SystemAlert.objects.all()
    assert alert.key == f"mri-integrity:{f.pk}" and alert.occurrences == 2
    assert enqueued == [("intake.tasks.send_system_alert", (alert.pk,))]
    assert AuditEntry.objects.filter(object_type=INTEGRITY_OBJECT_TYPE, object_ref=str(f.pk)).count() == 1
    assert CaseEvent.objects.filter(case=case, summary__contains="failed its integrity check").count() == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len([m for m in errors if f"MRI file {f.pk} failed its integrity check" in m]) == 2
    assert not any("Zebulon" in m or "zebulon" in m for m in errors)

    # The alert's task emails the supervisors, once, with no health data.
    mail.outbox.clear()
    assert alerts.system_alert_send(alert_id=alert.pk) is True
    assert alerts.system_alert_send(alert_id=alert.pk) is False
    [message] = mail.outbox
    assert staff.supervisor.email in message.to
    assert case.reference in message.subject and f"#{f.pk}" in message.body
    assert "Zebulon" not in message.body + message.subject and "zebulon" not in message.body


def test_a_good_file_streams_after_its_check(client, staff, backend):
    case = make_case(staff.queue_a)
    f = add_pdf(case)
    client.force_login(staff.clinician)
    response = client.get(file_url(case, f))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == corpus.PDF
    assert not AuditEntry.objects.filter(object_type=INTEGRITY_OBJECT_TYPE).exists()


class UnreadableStorage(storage.PrivateFileSystemStorage):
    """The private folder on a disk that fails every read."""

    def open_stream(self, name):
        raise OSError(errno.EIO, "Input/output error")


def test_storage_failing_on_download_is_an_error_page_not_a_crash(client, staff, settings):
    case = make_case(staff.queue_a)
    f = add_pdf(case)
    settings.STORAGES = {**settings.STORAGES, "mri": {"BACKEND": f"{__name__}.UnreadableStorage"}}
    client.force_login(staff.clinician)
    response = client.get(file_url(case, f))
    assert response.status_code == 503 and b"not answering" in response.content
    assert not AuditEntry.objects.filter(object_type=INTEGRITY_OBJECT_TYPE).exists()  # not the file's fault


# --- Nothing half-stored ------------------------------------------------------------
class FullDiskStorage(storage.PrivateFileSystemStorage):
    """The private folder, on a disk that fills up after 1.5 MiB of a file."""

    def _save(self, name, content):
        chunks = content.chunks

        def filling(chunk_size=None):
            written = 0
            for chunk in chunks(chunk_size):
                written += len(chunk)
                if written > 1.5 * MiB:
                    raise OSError(errno.ENOSPC, "No space left on device")
                yield chunk

        content.chunks = filling
        return super()._save(name, content)


@pytest.mark.django_db
def test_a_full_disk_raises_storage_unavailable_and_stores_nothing(settings):
    settings.STORAGES = {**settings.STORAGES, "mri": {"BACKEND": f"{__name__}.FullDiskStorage"}}
    big = corpus.PDF + b"0" * (3 * MiB) + b"\n%%EOF\n"
    assert mri_file_add(uploaded=SimpleUploadedFile("small.pdf", corpus.PDF), draft_key="k" * 32)
    with pytest.raises(storage.StorageUnavailable) as exc:
        mri_file_add(uploaded=SimpleUploadedFile("big.pdf", big), draft_key="k" * 32)
    assert exc.value.__cause__.errno == errno.ENOSPC
    assert MriFile.objects.count() == 1
    assert len(local_files(settings.INTAKE_PRIVATE_ROOT)) == 1  # the small file; no part of the big one


class SourceFails:
    """An upload whose reading fails part-way (12 MiB in: a multipart upload has begun)."""

    def __init__(self):
        self.sent = 0

    def read(self, n):
        if self.sent >= 12 * MiB:
            raise OSError(errno.EIO, "Input/output error")
        self.sent += n
        return os.urandom(n)


def test_a_failed_upload_leaves_no_object_and_no_parts_in_the_bucket(s3):
    with pytest.raises(storage.StorageUnavailable):
        storage.store_encrypted(SourceFails())
    assert s3.keys() == []
    assert s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []


def test_an_unreachable_bucket_raises_storage_unavailable(s3, settings):
    from botocore.config import Config

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    options = {**mri_s3_storage(s3.bucket)["OPTIONS"], "endpoint_url": dead}
    options["client_config"] = Config(retries={"max_attempts": 1}, connect_timeout=1)
    settings.STORAGES = {**settings.STORAGES, "mri": {"BACKEND": "intake.storage.PrivateS3Storage", "OPTIONS": options}}
    with pytest.raises(storage.StorageUnavailable):
        storage.store_encrypted(ContentFile(corpus.PDF))


# --- Drafts that ended: their files go ------------------------------------------------
def upload(client):
    response = client.post(
        reverse("intake:upload"),
        {"file": SimpleUploadedFile("scan.pdf", corpus.PDF)},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.content
    return MriFile.objects.get(pk=response.json()["id"])


def test_the_draft_session_key_is_the_one_the_views_use():
    from intake import views

    assert DRAFT_SESSION_KEY == views.SESSION_KEY


@pytest.mark.django_db
def test_files_of_ended_drafts_are_deleted_and_listed_by_the_dry_run(backend, settings):
    from django.contrib.sessions.models import Session
    from django.test import Client

    live, expired, dropped, young = Client(), Client(), Client(), Client()
    files = {}
    for label, c in [("live", live), ("expired", expired), ("dropped", dropped), ("young", young)]:
        fill_until(c, last="safety")
        files[label] = upload(c)
    case = CaseFactory()
    files["claimed"] = mri_file_add(uploaded=SimpleUploadedFile("x.pdf", corpus.PDF), case=case)
    # Two hours ago, except the young one (an upload may still be finishing).
    MriFile.objects.exclude(pk=files["young"].pk).update(uploaded_at=timezone.now() - timedelta(hours=2))
    Session.objects.filter(session_key=expired.session.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    session = dropped.session
    del session[DRAFT_SESSION_KEY]  # as the urgent-care path and the bot check do
    session.save()
    Session.objects.filter(session_key=young.session.session_key).update(expire_date=timezone.now())
    gone = {files["expired"].pk, files["dropped"].pk}

    out = _call("purge_expired_cases", "--dry-run")
    listed = {int(line.split("#")[1].split()[0]) for line in out.splitlines() if "file #" in line}
    assert listed == gone
    assert "scan.pdf" not in out  # a patient's file name can carry their name
    assert MriFile.objects.count() == 5  # a dry run deletes nothing

    out = _call("purge_expired_cases")
    assert "Deleted 2 MRI file(s)" in out
    assert set(MriFile.objects.values_list("pk", flat=True)) == {f.pk for f in files.values()} - gone
    for label, f in files.items():
        assert storage.exists_stored(f.stored_name) == (f.pk not in gone), label
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PURGE, object_type="draft_files").count() == 1
    if backend == "local":
        assert len(local_files(settings.INTAKE_PRIVATE_ROOT)) == 3


@pytest.mark.django_db
def test_a_file_claimed_by_a_submit_is_not_deleted_as_a_draft(client, seeded):
    fill_until(client, last="history")
    f = upload(client)
    MriFile.objects.filter(pk=f.pk).update(uploaded_at=timezone.now() - timedelta(days=5))
    submit_complete(client, mri={"mri_status": "upload"})
    client.session.flush()
    assert draft_files_delete_expired(dry_run=False)["deleted"] == 0
    assert ReviewRequest.objects.get().files.get().pk == f.pk and storage.exists_stored(f.stored_name)


@pytest.mark.django_db
def test_beat_runs_draft_clean_up_and_clearsessions(settings):
    from celery import current_app
    from django.contrib.sessions.models import Session
    from django.test import Client

    import clinic.celery  # noqa: F401  (registers the project's tasks)
    from intake import tasks

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"intake.tasks.delete_expired_draft_files", "intake.tasks.clear_expired_sessions"} <= schedule
    assert {"intake.tasks.delete_expired_draft_files", "intake.tasks.clear_expired_sessions"} <= set(current_app.tasks)

    c = Client()
    fill_until(c, last="safety")
    f = upload(c)
    MriFile.objects.filter(pk=f.pk).update(uploaded_at=timezone.now() - timedelta(days=3))
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert tasks.delete_expired_draft_files() == 1
    assert not storage.exists_stored(f.stored_name)
    tasks.clear_expired_sessions()
    assert Session.objects.count() == 0  # the abandoned draft's answers are gone too


def _call(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- Public media in a bucket ---------------------------------------------------------
def test_public_media_can_live_in_a_bucket(s3, settings):
    env = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "INTAKE_MEDIA_S3_BUCKET": s3.bucket,
        "AWS_S3_ENDPOINT_URL": s3.endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    script = (
        "import json, django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "name = default_storage.save('stretches/cat-cow.png', ContentFile(b'png bytes'))\n"
        "print(json.dumps({'name': name, 'url': default_storage.url(name),"
        " 'img_src': [str(s) for s in settings.SECURE_CSP['img-src']], 'mri': settings.STORAGES['mri']['BACKEND']}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert s3.client.get_object(Bucket=s3.bucket, Key=f"media/{result['name']}")["Body"].read() == b"png bytes"
    assert result["url"].startswith(s3.endpoint) and "Signature" not in result["url"]
    assert s3.endpoint in result["img_src"]  # the pages may show them
    assert result["mri"] == "intake.storage.PrivateFileSystemStorage"  # MRI files stay private and apart


# --- Done when: two web processes, separate local folders, one bucket ---------------------
WEB_B = r"""
import hashlib, json, os, sys
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

settings.INTAKE_FILE_KEYS = json.loads(os.environ["WEB_B_FILE_KEYS"])
step = sys.argv[1]
if step == "download":
    client = Client()
    client.force_login(get_user_model().objects.get(username=os.environ["WEB_B_USER"]))
    response = client.get(sys.argv[2])
    body = b"".join(response.streaming_content) if response.streaming else response.content
    print(json.dumps({"status": response.status_code, "sha256": hashlib.sha256(body).hexdigest()}))
else:
    call_command(step)
"""


def _db_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def test_two_web_processes_with_separate_folders_share_one_bucket(seeded_tx, s3, settings, tmp_path):
    """A file uploaded through web A (this process) is downloaded, re-keyed and
    purged through web B (another process, another local folder)."""
    folder_a, folder_b = tmp_path / "web-a", tmp_path / "web-b"
    settings.INTAKE_PRIVATE_ROOT = folder_a
    old_key = settings.INTAKE_FILE_KEYS[0]
    new_key = Fernet.generate_key().decode()
    UserFactory(username="web-b-clinician", is_superuser=True)
    env_b = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "DATABASE_URL": _db_url(),
        "INTAKE_PRIVATE_ROOT": str(folder_b),
        "INTAKE_MRI_S3_BUCKET": s3.bucket,
        "AWS_S3_ENDPOINT_URL": s3.endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "WEB_B_USER": "web-b-clinician",
    }

    def web_b(*args, keys):
        run = subprocess.run(
            [sys.executable, "-c", WEB_B, *args],
            cwd=ROOT, env={**env_b, "WEB_B_FILE_KEYS": json.dumps(keys)}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        return run.stdout

    # Web A: a patient uploads and sends the request.
    from django.test import Client

    patient = Client()
    fill_until(patient, last="history")
    data = corpus.PDF + b"0" * (2 * MiB) + b"\n%%EOF\n"
    response = patient.post(reverse("intake:upload"), {"file": SimpleUploadedFile("scan.pdf", data)})
    assert response.status_code == 302
    submit_complete(patient, mri={"mri_status": "upload"})
    case = ReviewRequest.objects.get()
    f = case.files.get()
    assert s3.keys() == [f"mri/{storage.key_for(f.stored_name)}"]
    uploaded = s3.client.get_object(Bucket=s3.bucket, Key=s3.keys()[0])["Body"].read()

    # Web B downloads it.
    url = reverse("admin:intake_reviewrequest_file", args=[case.pk, f.pk])
    result = json.loads(web_b("download", url, keys=[old_key]).splitlines()[-1])
    assert result == {"status": 200, "sha256": hashlib.sha256(data).hexdigest()}

    # Web B re-keys it; web A reads it with the new key alone.
    web_b("rotate_mri_keys", keys=[new_key, old_key])
    assert s3.client.get_object(Bucket=s3.bucket, Key=s3.keys()[0])["Body"].read() != uploaded
    settings.INTAKE_FILE_KEYS = [new_key]
    assert b"".join(storage.iter_decrypted(f.stored_name, sha256=f.sha256)) == data
    result = json.loads(web_b("download", url, keys=[new_key]).splitlines()[-1])
    assert result["status"] == 200 and result["sha256"] == f.sha256

    # Web B purges it once retention has run out.
    ReviewRequest.objects.filter(pk=case.pk).update(status="closed", updated_at=timezone.now() - timedelta(days=400))
    web_b("purge_expired_cases", keys=[new_key])
    assert s3.keys() == []
    assert ReviewRequest.objects.get(pk=case.pk).purged_at is not None and not MriFile.objects.exists()
    # Neither web process kept anything on its own disk.
    assert local_files(folder_a) == [] and local_files(folder_b) == []
