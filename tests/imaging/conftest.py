import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from intake.models import QueueMembership
from intake.services.files import mri_file_add
from tests.factories import CaseFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_pixel_cache():
    from imaging.cache import pixels

    pixels.clear()
    yield
    pixels.clear()


@pytest.fixture
def imaging_setup(seeded):
    """A case in the thoracolumbar queue, its coordinator, and a coordinator of another queue."""
    queue = seeded["mri-thoracolumbar"]
    coordinator = UserFactory(username="img_coord", groups=["Coordinator"])
    QueueMembership.objects.create(queue=queue, user=coordinator)
    outsider = UserFactory(username="img_outsider", groups=["Coordinator"])
    QueueMembership.objects.create(queue=seeded["mri-cervical"], user=outsider)
    case = CaseFactory(queue=queue, status="awaiting_mri", first_name="Pat", last_name="Example")
    return case, coordinator, outsider


def attach(case, data: bytes, name: str = "scan.dcm"):
    return mri_file_add(uploaded=SimpleUploadedFile(name, data), case=case)


def is_png(body: bytes) -> bool:
    return body.startswith(b"\x89PNG\r\n\x1a\n")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
