"""Private, encrypted storage for MRI files, through Django's storage API.

Where: ``STORAGES["mri"]``. By default ``PrivateFileSystemStorage``, a folder
under INTAKE_PRIVATE_ROOT (never under STATIC_ROOT or MEDIA_ROOT, never served
by URL); with INTAKE_MRI_S3_BUCKET an S3-compatible bucket
(``PrivateS3Storage``, django-storages). Uploads, downloads, the retention
purge, draft clean-up and key rotation all go through this one storage, so
with a bucket any web or worker machine can do any of them.

Format MRIENC2 (written since issue #12)::

    b"MRIENC2\\n" + file id (16 random bytes)
    then records: 4-byte big-endian length + Fernet token
    token plaintext: file id (16) + chunk index (8, big-endian) + flags (1; 1 = last) + up to 1 MiB of data

Fernet authenticates each token, and each token names its file, its position
and whether it ends the file, so chunks reordered, dropped, repeated, spliced
from another file, cut off or followed by extra data all fail on read
(``TamperedFile``). MRIENC1 files (records of bare chunks) are still read;
``rotate_stored`` rewrites them as MRIENC2.

Every read checks the plaintext's SHA-256 against the one stored at upload
(``MriFile.sha256``). The last chunk is held back until that check passes, so
even a reader that ignores the error never receives the whole of a bad file.

Writes stream: 1 MiB of plaintext at a time is encrypted and handed to the
storage, never the whole file in memory. The local folder writes a temporary
name and renames it; the bucket only ever holds complete objects (a failed
upload is aborted, and the key deleted to be sure). A backend failure while
storing or deleting is raised as ``StorageUnavailable`` with nothing
half-stored. Keys come from INTAKE_FILE_KEYS, newest first (MultiFernet).
"""

import hashlib
import io
import os
import secrets
import struct
from collections.abc import Iterable, Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

MAGIC_V1 = b"MRIENC1\n"
MAGIC = b"MRIENC2\n"
CHUNK = 1024 * 1024
FILE_ID_BYTES = 16
_CHUNK_HEADER = struct.Struct(">16sQB")  # file id, index, flags
_LAST = 1
# A Fernet token of a 1 MiB chunk is about 1.4 MB; anything much larger is a
# forged length, refused before reading it.
MAX_TOKEN = 2 * CHUNK
STORAGE_ALIAS = "mri"


class StorageUnavailable(Exception):
    """The file storage (disk or bucket) failed while storing or deleting.

    Nothing was half-stored. The caller may tell the person to try again later.
    """


class FileIntegrityError(Exception):
    """A stored MRI file cannot be trusted: it must not be served."""

    reason = "integrity"


class TamperedFile(FileIntegrityError):
    """Chunks fail authentication, are out of order, missing, or cut off."""

    reason = "tampered"


class ChecksumMismatch(FileIntegrityError):
    """The decrypted contents do not match the SHA-256 stored at upload."""

    reason = "checksum"


class FileMissing(FileIntegrityError):
    """The storage has no object for a file the database knows."""

    reason = "missing"


def _is_backend_error(exc: BaseException) -> bool:
    # OSError covers the disk (ENOSPC, EIO, permissions); botocore, boto3 and
    # s3transfer errors cover the bucket. Matched by module so the local
    # default never imports boto3.
    module = type(exc).__module__ or ""
    return isinstance(exc, OSError) or module.split(".")[0] in {"botocore", "boto3", "s3transfer"}


def _is_not_found(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # A missing bucket is a configuration or outage problem, not a missing file.
        return code != "NoSuchBucket" and (code in {"NoSuchKey", "404", "NotFound"} or status == 404)
    return False


# --- Backends -------------------------------------------------------------------
class PrivateFileSystemStorage(FileSystemStorage):
    """A private local folder: INTAKE_PRIVATE_ROOT unless ``location`` is given.

    Files are written under a temporary name in the same folder and renamed,
    so a reader (or a crash) never sees half a file; an existing name is
    replaced atomically (key rotation rewrites in place). Never served by URL.
    """

    def __init__(self, location=None, file_permissions_mode=0o600, directory_permissions_mode=0o700, **kwargs):
        kwargs.setdefault("allow_overwrite", True)
        super().__init__(
            location=location,
            file_permissions_mode=file_permissions_mode,
            directory_permissions_mode=directory_permissions_mode,
            **kwargs,
        )

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.INTAKE_PRIVATE_ROOT)

    @property
    def location(self):
        # Read each time, not cached: tests and `make run` point
        # INTAKE_PRIVATE_ROOT elsewhere after the storage was created.
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise NotImplementedError("MRI files are never served by URL; use the staff download view.")

    def get_available_name(self, name, max_length=None):
        return name  # names are random (160 bits); the same name means "replace"

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        # makedirs applies its mode to the last folder only: make the root first.
        os.makedirs(self.location, mode=self.directory_permissions_mode, exist_ok=True)
        os.makedirs(directory, mode=self.directory_permissions_mode, exist_ok=True)
        tmp = os.path.join(directory, f".{os.path.basename(full_path)}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.file_permissions_mode)
            with os.fdopen(fd, "wb") as out:
                for chunk in content.chunks(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, full_path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return name

    def open_stream(self, name):
        """A binary file object reading the stored bytes from the start."""
        return open(self.path(name), "rb")


def _make_private_s3_storage():
    from boto3.s3.transfer import TransferConfig
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    class PrivateS3Storage(S3Storage):
        """A private S3-compatible bucket (django-storages' S3Storage).

        Objects are private (no ACL, no URLs) and overwritten in place by key
        rotation; S3 makes an object visible only once its upload completed.
        Reads stream the object's body instead of S3File's download of the
        whole object into memory. Uploads keep at most a few 8 MiB parts in
        memory, whatever the file's size.
        """

        def get_default_settings(self):
            defaults = super().get_default_settings()
            config = TransferConfig(
                multipart_threshold=8 * CHUNK,
                multipart_chunksize=8 * CHUNK,
                max_concurrency=2,
                preferred_transfer_client="classic",
            )
            config.max_in_memory_upload_chunks = 3
            defaults.update(
                default_acl=None, file_overwrite=True, querystring_auth=True, transfer_config=config, gzip=False
            )
            return defaults

        def url(self, name, *args, **kwargs):
            raise NotImplementedError("MRI files are never served by URL; use the staff download view.")

        def open_stream(self, name):
            key = self._normalize_name(clean_name(name))
            return self.bucket.Object(key).get()["Body"]

    return PrivateS3Storage


_lazy_classes = {}


def __getattr__(name):
    # STORAGES names "intake.storage.PrivateS3Storage"; it is built on first
    # use so the local default never pays boto3's import (~0.2 s a process).
    if name == "PrivateS3Storage":
        if name not in _lazy_classes:
            _lazy_classes[name] = _make_private_s3_storage()
        return _lazy_classes[name]
    raise AttributeError(name)


def mri_storage():
    return storages[STORAGE_ALIAS]


# --- Names ----------------------------------------------------------------------
def new_name() -> str:
    return secrets.token_hex(20)


def key_for(stored_name: str) -> str:
    """The storage name of a stored file: two-character fan-out, then the name."""
    if not stored_name or not stored_name.isalnum():
        raise ValueError("bad stored name")
    return f"{stored_name[:2]}/{stored_name}"


def path_for(stored_name: str):
    """The local path of a stored file (local folder storage only)."""
    from pathlib import Path

    return Path(mri_storage().path(key_for(stored_name)))


# --- Encryption -----------------------------------------------------------------
def _fernet() -> MultiFernet:
    keys = settings.INTAKE_FILE_KEYS
    if not keys:
        raise ImproperlyConfigured("INTAKE_FILE_KEYS is empty: MRI files cannot be stored.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def _record(token: bytes) -> bytes:
    return struct.pack(">I", len(token)) + token


def _encrypted_records(blocks: Iterable[bytes], f: MultiFernet) -> Iterator[bytes]:
    """MRIENC2 bytes for the plaintext ``blocks`` (each at most CHUNK).

    One block of look-ahead tells which chunk is the last; an empty file is
    one empty last chunk, so the end is always authenticated.
    """
    file_id = secrets.token_bytes(FILE_ID_BYTES)
    yield MAGIC + file_id
    index = 0
    current = None
    for block in blocks:
        if not block:
            continue
        if current is not None:
            yield _record(f.encrypt(_CHUNK_HEADER.pack(file_id, index, 0) + current))
            index += 1
        current = block
    yield _record(f.encrypt(_CHUNK_HEADER.pack(file_id, index, _LAST) + (current or b"")))


class _IterStream(io.RawIOBase):
    """A read-only, non-seekable file object over an iterator of bytes."""

    def __init__(self, pieces: Iterable[bytes]):
        self._pieces = iter(pieces)
        self._buf = memoryview(b"")

    def readable(self):
        return True

    def readinto(self, b):
        while not self._buf:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._buf = memoryview(piece)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _as_content(pieces: Iterable[bytes], name: str) -> File:
    # BufferedReader: read(n) returns n bytes unless at the end, which S3
    # multipart uploads need (parts under 5 MiB are refused).
    return File(io.BufferedReader(_IterStream(pieces), buffer_size=CHUNK), name=name)


def _save(key: str, pieces: Iterable[bytes], *, replacing: bool) -> None:
    """Save ``pieces`` as ``key``; StorageUnavailable on a backend failure.

    A new key is deleted after a failure (the bucket may hold nothing, but a
    failure after the upload completed must not leave an object no row
    names). A replaced key is left alone: its old contents are intact.
    """
    store = mri_storage()
    try:
        store.save(key, _as_content(pieces, key))
    except Exception as exc:
        if not replacing:
            try:
                store.delete(key)
            except Exception:  # noqa: S110  (best effort; the original error matters)
                pass
        if _is_backend_error(exc):
            raise StorageUnavailable(f"MRI storage failed while storing: {type(exc).__name__}") from exc
        raise


def store_encrypted(src) -> tuple[str, int, str]:
    """Encrypt a readable binary file object into MRI storage.

    Returns (stored name, plaintext size, plaintext SHA-256). Raises
    ``StorageUnavailable`` if the storage fails; nothing is stored then.
    """
    f = _fernet()
    name = new_name()
    digest = hashlib.sha256()
    size = 0
    try:
        src.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass

    def blocks():
        nonlocal size
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    _save(key_for(name), _encrypted_records(blocks(), f), replacing=False)
    return name, size, digest.hexdigest()


# --- Reading --------------------------------------------------------------------
def _read_exact(fh, n: int) -> bytes:
    parts = []
    while n > 0:
        data = fh.read(n)
        if not data:
            break
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def _open_stream(stored_name: str):
    store = mri_storage()
    key = key_for(stored_name)
    try:
        if hasattr(store, "open_stream"):
            return store.open_stream(key)
        return store.open(key, "rb")
    except Exception as exc:
        if _is_not_found(exc):
            raise FileMissing(f"no stored object for file {stored_name[:6]}…") from exc
        if _is_backend_error(exc):
            raise StorageUnavailable(f"MRI storage failed while reading: {type(exc).__name__}") from exc
        raise


def _records(fh) -> Iterator[bytes]:
    """The tokens of a stored file after its header; TamperedFile if cut off."""
    while header := _read_exact(fh, 4):
        if len(header) < 4:
            raise TamperedFile("cut off inside a record header")
        (n,) = struct.unpack(">I", header)
        if n > MAX_TOKEN:
            raise TamperedFile("record longer than any chunk")
        token = _read_exact(fh, n)
        if len(token) < n:
            raise TamperedFile("cut off inside a record")
        yield token


def _plaintext_v1(fh, f: MultiFernet) -> Iterator[bytes]:
    # MRIENC1 cannot tell order or the end by itself; the SHA-256 check does.
    for token in _records(fh):
        try:
            yield f.decrypt(token)
        except InvalidToken as exc:
            raise TamperedFile("a chunk failed authentication") from exc


def _plaintext_v2(fh, f: MultiFernet) -> Iterator[bytes]:
    file_id = _read_exact(fh, FILE_ID_BYTES)
    if len(file_id) < FILE_ID_BYTES:
        raise TamperedFile("cut off inside the header")
    index = 0
    ended = False
    for token in _records(fh):
        if ended:
            raise TamperedFile("data after the last chunk")
        try:
            plain = f.decrypt(token)
        except InvalidToken as exc:
            raise TamperedFile("a chunk failed authentication") from exc
        if len(plain) < _CHUNK_HEADER.size:
            raise TamperedFile("a chunk without its header")
        chunk_file, chunk_index, flags = _CHUNK_HEADER.unpack_from(plain)
        if chunk_file != file_id:
            raise TamperedFile("a chunk from another file")
        if chunk_index != index:
            raise TamperedFile("chunks out of order or missing")
        ended = bool(flags & _LAST)
        index += 1
        yield plain[_CHUNK_HEADER.size :]
    if not ended:
        raise TamperedFile("cut off before the last chunk")


def iter_decrypted(stored_name: str, *, sha256: str) -> Iterator[bytes]:
    """Yield the plaintext of a stored file chunk by chunk, checked.

    Raises ``TamperedFile`` (chunks), ``ChecksumMismatch`` (contents differ
    from ``sha256``), ``FileMissing`` or ``StorageUnavailable``. The last
    chunk is yielded only after the SHA-256 matched.
    """
    if not sha256:
        raise ValueError("the stored SHA-256 is needed to read a file")
    f = _fernet()
    fh = _open_stream(stored_name)
    try:
        magic = _read_exact(fh, len(MAGIC))
        if magic == MAGIC:
            plaintext = _plaintext_v2(fh, f)
        elif magic == MAGIC_V1:
            plaintext = _plaintext_v1(fh, f)
        else:
            raise TamperedFile("not an encrypted MRI file")
        digest = hashlib.sha256()
        held = None
        for chunk in plaintext:
            digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
        if digest.hexdigest() != sha256:
            raise ChecksumMismatch("contents differ from the SHA-256 stored at upload")
        if held:
            yield held
    except FileIntegrityError:
        raise
    except Exception as exc:
        if _is_backend_error(exc):
            raise StorageUnavailable(f"MRI storage failed while reading: {type(exc).__name__}") from exc
        raise
    finally:
        fh.close()


def stored_file_id(stored_name: str) -> bytes:
    """The random file id in an MRIENC2 file's header (b"" for MRIENC1): not a
    secret; it names one encryption of one file (rotation makes a new one)."""
    fh = _open_stream(stored_name)
    try:
        if _read_exact(fh, len(MAGIC)) != MAGIC:
            return b""
        return _read_exact(fh, FILE_ID_BYTES)
    finally:
        fh.close()


def iter_decrypted_chunks(stored_name: str, *, file_id: bytes, first: int, count: int) -> Iterator[bytes]:
    """Plaintext chunks ``first`` .. ``first + count - 1`` of an MRIENC2 file,
    for random access (one slice of a large DICOM ZIP) after a whole, checked
    read (``iter_decrypted``) recorded the file id and the chunk sizes.

    Earlier records are skipped without decrypting them. Each chunk returned
    is authenticated and must name ``file_id`` and its own position, so a
    chunk of another file, a replaced or re-encrypted file (a new file id),
    or a file cut short raises ``TamperedFile``; the caller then reads the
    file whole, which checks the SHA-256 too. There is no whole-file SHA-256
    check here: that is what the random access saves.
    """
    if len(file_id) != FILE_ID_BYTES or first < 0 or count < 1:
        raise ValueError("a file id and a chunk range are needed")
    f = _fernet()
    fh = _open_stream(stored_name)
    try:
        if _read_exact(fh, len(MAGIC)) != MAGIC or _read_exact(fh, FILE_ID_BYTES) != file_id:
            raise TamperedFile("not the file that was indexed")
        index = 0
        while index < first + count:
            header = _read_exact(fh, 4)
            if len(header) < 4:
                raise TamperedFile("cut off before the chunks asked for")
            (n,) = struct.unpack(">I", header)
            if n > MAX_TOKEN:
                raise TamperedFile("record longer than any chunk")
            if index < first:
                if hasattr(fh, "seek") and getattr(fh, "seekable", lambda: False)():
                    fh.seek(n, io.SEEK_CUR)
                elif len(_read_exact(fh, n)) < n:
                    raise TamperedFile("cut off inside a record")
                index += 1
                continue
            token = _read_exact(fh, n)
            try:
                plain = f.decrypt(token)
            except InvalidToken as exc:
                raise TamperedFile("a chunk failed authentication") from exc
            if len(plain) < _CHUNK_HEADER.size:
                raise TamperedFile("a chunk without its header")
            chunk_file, chunk_index, _flags = _CHUNK_HEADER.unpack_from(plain)
            if chunk_file != file_id or chunk_index != index:
                raise TamperedFile("a chunk from another file or position")
            yield plain[_CHUNK_HEADER.size :]
            index += 1
    except FileIntegrityError:
        raise
    except Exception as exc:
        if _is_backend_error(exc):
            raise StorageUnavailable(f"MRI storage failed while reading: {type(exc).__name__}") from exc
        raise
    finally:
        fh.close()


def verify_stored(stored_name: str, *, sha256: str) -> int:
    """Read a whole stored file to check it; returns its size or raises as ``iter_decrypted``."""
    return sum(len(chunk) for chunk in iter_decrypted(stored_name, sha256=sha256))


# --- Rotation and deletion ----------------------------------------------------------
def stored_format(stored_name: str) -> bytes:
    """The magic of a stored file (MAGIC or MAGIC_V1)."""
    fh = _open_stream(stored_name)
    try:
        return _read_exact(fh, len(MAGIC))
    finally:
        fh.close()


def rotate_stored(stored_name: str, *, sha256: str) -> None:
    """Re-encrypt a stored file with the newest key, in the current format.

    The old contents are read and checked as they are rewritten; a file that
    fails its check raises and is left exactly as it was.
    """
    f = _fernet()
    _save(key_for(stored_name), _encrypted_records(iter_decrypted(stored_name, sha256=sha256), f), replacing=True)


def delete_stored(stored_name: str) -> None:
    """Delete a stored file; nothing happens if it is already gone."""
    try:
        mri_storage().delete(key_for(stored_name))
    except FileNotFoundError:
        return
    except Exception as exc:
        if _is_backend_error(exc):
            raise StorageUnavailable(f"MRI storage failed while deleting: {type(exc).__name__}") from exc
        raise


def exists_stored(stored_name: str) -> bool:
    return mri_storage().exists(key_for(stored_name))
