"""Issue 22: the DICOM node's Orthanc archive waited in a SpooledTemporaryFile,
which keeps up to 16 MB in memory and writes the rest to the temporary folder
in plaintext. Now the archive waits in clinic.encrypted_tempfile's file.

A real Orthanc, a study larger than 16 MB, and the bytes of the temporary
file read from the disk (/proc/self/fd) while the study is being attached:
Orthanc's ZIP names every member after the patient, so the name would be
there in plaintext.
"""

import time

import pytest
from django.conf import settings

from dicomnode import services
from dicomnode.models import ReceivedStudy
from dicomnode.services import orthanc_poll
from intake.transitions import Status
from tests.factories import CaseFactory
from tests.security.spool_support import temp_files_in

from .dicomdata import write_mr_series

S = ReceivedStudy.State
MARKER = "SPOOLMARKER"


@pytest.mark.django_db
def test_a_large_orthanc_archive_never_waits_on_disk_in_plaintext(orthanc, tmp_path, monkeypatch):
    spool_dir = tmp_path / "upload-tmp"
    spool_dir.mkdir()
    monkeypatch.setattr(settings, "FILE_UPLOAD_TEMP_DIR", str(spool_dir))
    case = CaseFactory(status=Status.AWAITING_MRI)
    # 40 slices of 512 x 512 noise: about 20 MB, past the old 16 MB spool.
    files, _ = write_mr_series(
        tmp_path / "s", patient_name=f"{MARKER}^PATIENT", patient_id="H-SPOOL1", accession=case.reference,
        slices=40, size=512,
    )  # fmt: skip
    seen = []
    attach = services._attach

    def attach_and_look(*args, uploaded, **kwargs):
        seen.append((uploaded.size, temp_files_in(spool_dir)))
        return attach(*args, uploaded=uploaded, **kwargs)

    monkeypatch.setattr(services, "_attach", attach_and_look)
    orthanc.send(files)
    deadline = time.monotonic() + 60
    while not ReceivedStudy.objects.filter(state=S.ATTACHED).exists():
        assert time.monotonic() < deadline, "the study was not attached within 60 s"
        orthanc_poll()
        time.sleep(0.2)

    [(size, on_disk)] = seen
    assert size > 16 * 1024 * 1024
    assert len(on_disk) == 1 and len(on_disk[0]) == size
    assert MARKER.encode() not in on_disk[0] and not on_disk[0].startswith(b"PK")
    assert case.files.count() == 1
    assert temp_files_in(spool_dir) == []
