"""A small per-process LRU of decrypted file bytes and decoded pixel arrays.

In memory only, bounded by bytes (INTAKE_IMAGING_CACHE_BYTES), never on
disk: decrypted pixels must not touch a web machine's disk in the clear. Each
web process has its own; a miss costs one decryption of the stored file.
A per-key lock makes concurrent misses (four clinicians opening the same
series) decrypt once and wait for each other.
"""

import threading
from collections import OrderedDict

from django.conf import settings


def _size(value) -> int:
    nbytes = getattr(value, "nbytes", None)
    return int(nbytes) if nbytes is not None else len(value)


class ByteLRU:
    def __init__(self, max_bytes_setting: str = "INTAKE_IMAGING_CACHE_BYTES"):
        self._setting = max_bytes_setting
        self._data: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict = {}

    @property
    def max_bytes(self) -> int:
        return int(getattr(settings, self._setting, 256 * 1024 * 1024))

    @property
    def current_bytes(self) -> int:
        return self._bytes

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key, value) -> None:
        size = _size(value)
        with self._lock:
            if key in self._data:
                self._bytes -= _size(self._data.pop(key))
            if size > self.max_bytes:
                return  # larger than the whole cache: used once, not kept
            self._data[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _, old = self._data.popitem(last=False)
                self._bytes -= _size(old)

    def get_or_load(self, key, loader):
        value = self.get(key)
        if value is not None:
            return value
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            value = self.get(key)
            if value is None:
                value = loader()
                self.put(key, value)
        with self._lock:
            self._key_locks.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


pixels = ByteLRU()
