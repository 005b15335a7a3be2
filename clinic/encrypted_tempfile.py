"""A temporary file whose bytes on disk are ciphertext (issue 22).

Patients' uploads (intake.uploadhandlers) and the DICOM node's study archives
(dicomnode.services) are too large to hold in memory, so they wait on disk
while they are checked and then stored encrypted. That wait was in plaintext:
health data in the temporary folder, where a backup, a disk image or a
recovered block could pick it up after the request.

EncryptedTemporaryFile encrypts every byte it writes with AES-256 in CTR mode
under a random key and nonce made for this one file and held only in this
object's memory: when the process ends or the file is closed, nothing on disk
can be read back. CTR is a stream mode, so reads and writes can start at any
offset (ZIP, DICOM and PDF readers seek), and the file is as large as its
plaintext. No integrity tag: the threat is reading the disk, not changing it
under a running request (the checks that follow reject malformed files).

Why not a tmpfs (FILE_UPLOAD_TEMP_DIR on memory)? It needs an operator step on
every machine, it can be swapped to disk, and several 100 MB uploads at once
would take that much memory. This needs neither.

The file is unnamed (tempfile.TemporaryFile: removed from the folder at once)
and has no ``fileno()``: nothing can read the ciphertext in place of the
plaintext by going around this object.
"""

import errno
import io
import os
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 16


class EncryptedTemporaryFile(io.RawIOBase):
    """A seekable, readable, writable binary file, encrypted on disk under a key only this object holds."""

    def __init__(self, dir: str | None = None):
        super().__init__()
        # Unbuffered: each write is ciphertext handed to the OS at once; no plaintext kept here.
        self._disk = tempfile.TemporaryFile(dir=dir, buffering=0)
        self._key = os.urandom(32)
        self._nonce = int.from_bytes(os.urandom(_BLOCK), "big")
        self._pos = 0

    def _keystream_at(self, offset: int):
        """A CTR cipher positioned at ``offset`` (encrypting and decrypting are the same operation)."""
        block, skip = divmod(offset, _BLOCK)
        counter = ((self._nonce + block) % (1 << 128)).to_bytes(_BLOCK, "big")
        cipher = Cipher(algorithms.AES(self._key), modes.CTR(counter)).encryptor()
        if skip:
            cipher.update(bytes(skip))
        return cipher

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._checkClosed()
        self._disk.seek(self._pos)
        data = b""
        while len(data) < len(buffer) and (more := self._disk.read(len(buffer) - len(data))):
            data += more  # an unbuffered read may return less than asked
        plain = self._keystream_at(self._pos).update(data)
        buffer[: len(plain)] = plain
        self._pos += len(plain)
        return len(plain)

    def readall(self) -> bytes:
        # One pass for the rest, rather than RawIOBase's many small reads.
        self._checkClosed()
        self._disk.seek(self._pos)
        plain = self._keystream_at(self._pos).update(self._disk.read())
        self._pos += len(plain)
        return plain

    def write(self, data) -> int:
        self._checkClosed()
        data = bytes(data)
        self._disk.seek(self._pos)
        self._disk.write(self._keystream_at(self._pos).update(data))
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._disk.seek(0, io.SEEK_END) + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            # As a file on disk answers (EINVAL), which readers such as zipfile
            # expect from a file shorter than the record they look for.
            raise OSError(errno.EINVAL, f"negative seek position {pos}")
        self._pos = pos
        return pos

    def tell(self) -> int:
        self._checkClosed()
        return self._pos

    def truncate(self, size: int | None = None) -> int:
        self._checkClosed()
        size = self._pos if size is None else size
        self._disk.truncate(size)
        return size

    def flush(self) -> None:
        if not self.closed:
            self._disk.flush()

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()  # flushes first
        finally:
            self._disk.close()  # an unnamed file: its blocks are freed
            self._key = None
