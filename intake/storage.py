"""Private, encrypted storage for MRI files.

Files live under INTAKE_PRIVATE_ROOT (never under STATIC_ROOT or MEDIA_ROOT)
with random names. Contents are encrypted at rest in 1 MiB chunks, each a
Fernet token, so large files stream in and out without sitting in memory.
Keys come from INTAKE_FILE_KEYS, newest first; MultiFernet decrypts with any
of them and ``rotate_stored`` re-encrypts with the newest.
"""

import hashlib
import os
import secrets
import struct
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"MRIENC1\n"
CHUNK = 1024 * 1024


def _fernet() -> MultiFernet:
    keys = settings.INTAKE_FILE_KEYS
    if not keys:
        raise ImproperlyConfigured("INTAKE_FILE_KEYS is empty: MRI files cannot be stored.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def root() -> Path:
    path = Path(settings.INTAKE_PRIVATE_ROOT)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def path_for(stored_name: str) -> Path:
    if not stored_name or "/" in stored_name or stored_name.startswith("."):
        raise ValueError("bad stored name")
    return root() / stored_name[:2] / stored_name


def new_name() -> str:
    return secrets.token_hex(20)


def store_encrypted(src) -> tuple[str, int, str]:
    """Encrypt a readable binary file object into private storage.

    Returns (stored name, plaintext size, plaintext SHA-256). Written to a
    temporary name first and renamed, so a failure leaves nothing behind.
    """
    f = _fernet()
    name = new_name()
    dest = path_for(name)
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = dest.with_suffix(".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            os.chmod(tmp, 0o600)
            out.write(MAGIC)
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                token = f.encrypt(chunk)
                out.write(struct.pack(">I", len(token)))
                out.write(token)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return name, size, digest.hexdigest()


def iter_decrypted(stored_name: str):
    """Yield the plaintext of a stored file chunk by chunk."""
    f = _fernet()
    with open(path_for(stored_name), "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise ValueError("not an encrypted MRI file")
        while header := fh.read(4):
            (n,) = struct.unpack(">I", header)
            yield f.decrypt(fh.read(n))


def rotate_stored(stored_name: str) -> None:
    """Re-encrypt a stored file with the newest key (after adding a key)."""
    f = _fernet()
    src = path_for(stored_name)
    tmp = src.with_suffix(".rot")
    try:
        with open(src, "rb") as fh, open(tmp, "wb") as out:
            out.write(fh.read(len(MAGIC)))
            while header := fh.read(4):
                (n,) = struct.unpack(">I", header)
                token = f.rotate(fh.read(n))
                out.write(struct.pack(">I", len(token)))
                out.write(token)
        os.replace(tmp, src)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def delete_stored(stored_name: str) -> None:
    path_for(stored_name).unlink(missing_ok=True)
