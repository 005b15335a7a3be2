"""Issue 22: uploads waited in the temporary folder in plaintext before they
were stored encrypted (and the DICOM node's Orthanc archives past 16 MB).

These tests read the temporary files' bytes from the disk itself, through
/proc/self/fd (the files are unnamed, so the folder lists nothing), and look
for a marker planted in the upload. The DICOM node's archives:
tests/dicomnode/test_spool.py.
"""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from clinic.encrypted_tempfile import EncryptedTemporaryFile
from tests.security.spool_support import temp_files_in

MARKER = b"PLAINTEXT-MARKER-7f3a9c"


def payload(size: int) -> bytes:
    """A large upload with the marker at the start, across chunk edges and at the end."""
    body = bytearray(os.urandom(size))
    for at in (0, 64 * 1024 - 7, size // 2, size - len(MARKER)):
        body[at : at + len(MARKER)] = MARKER
    return bytes(body)


@pytest.fixture
def upload_tmp(settings, tmp_path):
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def test_a_large_upload_waits_on_disk_encrypted_and_reads_back_whole(upload_tmp):
    data = payload(8 * 1024 * 1024 + 123)
    # Django's own multipart parser with the project's upload handlers, as for any request.
    request = RequestFactory().post("/mri-review/upload/", {"file": SimpleUploadedFile("scan.dcm", data)})
    uploaded = request.FILES["file"]
    try:
        on_disk = temp_files_in(upload_tmp)
        assert len(on_disk) == 1 and len(on_disk[0]) == len(data)
        assert MARKER not in on_disk[0]
        assert os.listdir(upload_tmp) == []  # unnamed: nothing to find in the folder
        assert not hasattr(uploaded, "temporary_file_path")
        # What the checks and the storage read is the plaintext, seekable as a file.
        assert uploaded.read() == data
        uploaded.seek(len(data) // 2 + 3)
        assert uploaded.read(100) == data[len(data) // 2 + 3 : len(data) // 2 + 103]
        assert b"".join(uploaded.chunks()) == data
    finally:
        uploaded.close()
    assert temp_files_in(upload_tmp) == []


def test_the_encrypted_file_behaves_as_a_file_for_zip_readers(tmp_path):
    import zipfile

    with EncryptedTemporaryFile(dir=str(tmp_path)) as spool:
        with zipfile.ZipFile(spool, "w") as zf:
            zf.writestr("a.dcm", MARKER * 1000)
            zf.writestr("b.dcm", b"second")
        assert all(MARKER not in raw for raw in temp_files_in(tmp_path))
        spool.seek(0)
        with zipfile.ZipFile(spool) as zf:
            assert zf.testzip() is None
            assert zf.read("a.dcm") == MARKER * 1000 and zf.read("b.dcm") == b"second"
        spool.seek(-6, io.SEEK_END)
        assert len(spool.read()) == 6
        with pytest.raises(OSError):
            spool.fileno()  # no way around the decryption
    assert temp_files_in(tmp_path) == []


def test_a_file_shorter_than_a_zip_record_is_no_zip_not_a_crash(tmp_path):
    """zipfile looks for its end record 22 bytes from the end; on a 3-byte
    upload that seek goes before the start. A file on disk answers EINVAL
    (OSError), which zipfile reads as "not a ZIP": the spool must answer the
    same, or the upload check raised and the patient got a 500."""
    import zipfile

    with EncryptedTemporaryFile(dir=str(tmp_path)) as spool:
        spool.write(b"\xff\xd8\xff")
        spool.seek(0)
        assert zipfile.is_zipfile(spool) is False
        with pytest.raises(OSError):
            spool.seek(-19, io.SEEK_END)


def test_each_file_has_its_own_key(tmp_path):
    with EncryptedTemporaryFile(dir=str(tmp_path)) as a, EncryptedTemporaryFile(dir=str(tmp_path)) as b:
        a.write(MARKER * 100)
        b.write(MARKER * 100)
        a.flush()
        b.flush()
        first, second = temp_files_in(tmp_path)
        assert first != second and MARKER not in first + second
