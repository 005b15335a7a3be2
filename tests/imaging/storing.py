"""Files stored as if before today's upload checks: encrypted into storage and
recorded on the case directly, bypassing ``validate_upload`` (what a file
uploaded before the header limits existed looks like now)."""

import hashlib
import io

from intake import storage
from intake.models import MriFile


def store_directly(case, data: bytes, file_type: str, name: str = "old-upload") -> MriFile:
    stored_name, size, digest = storage.store_encrypted(io.BytesIO(data))
    assert digest == hashlib.sha256(data).hexdigest()
    return MriFile.objects.create(
        case=case, original_name=name, stored_name=stored_name, file_type=file_type, size=size, sha256=digest
    )
