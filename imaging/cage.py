"""The decoder cage: every decode of untrusted image or PDF bytes runs here, in
a separate process, never in a web or Celery process.

What it owns:

- A small pool of warm decoder processes per web or worker process
  (``INTAKE_IMAGING_DECODERS``, default 2), started lazily (and pre-warmed
  on a web process's first request, see ``imaging.apps``) and replaced when
  one dies. Each is ``python -m imaging.cage``: a fresh interpreter started by
  fork+exec (``subprocess``), never a fork of a process that holds threads or
  database connections, so gunicorn's and Celery's forking are no concern. It
  imports pydicom, numpy, the native decoders and PDFium once, then serves
  requests one at a time. Its environment holds no secrets (no keys, no
  database URL).
- Limits in the decoder process: an address-space cap (``RLIMIT_AS``,
  ``INTAKE_IMAGING_DECODER_MEMORY_MB``, default 1536), a CPU-time budget per
  request (``RLIMIT_CPU``'s soft limit moved to used + 20 s before each
  request: the kernel kills it with SIGXCPU), no core dumps (patient pixels
  must not land on disk), and a wall timeout enforced by the caller
  (``INTAKE_IMAGING_DECODER_TIMEOUT``, default 30 s: killed with SIGKILL).
- The protocol: length-prefixed messages over the child's stdin and stdout: a
  JSON header and a raw payload each way. The caller only ever receives
  pixels (a numpy array rebuilt from a whitelisted dtype and a checked
  shape), PNG bytes, a page count, or an error: never a pickle, so a
  decoder that a crafted file took over cannot run code in the caller.
- The words: a native abort (SIGABRT), an out-of-memory or a timeout becomes a
  ``CageError`` (a ``dicom.DecodeError``, so every caller's existing handler
  shows it) saying the file cannot be shown and why, never a dead process.

What is decoded here and what is not: ``decode`` (a DICOM object's pixels,
``imaging.dicom.decode``), ``pdf_page_count`` and ``pdf_page_png``
(``imaging.render``, with its page checks), ``image_png`` (Pillow). Headers
are read in the caller (pydicom, pure Python, pixel data not read) and
checked against ``intake.dicomlimits`` before a decoder ever sees the bytes
(``imaging.services``). Windowing a decoded array and encoding the PNG stay
in the caller: they work on pixels already checked here.
"""

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from imaging.dicom import DecodeError

ROOT = Path(__file__).resolve().parent.parent
_HEADER = struct.Struct(">IQ")  # JSON header length, payload length
MAX_HEADER = 64 * 1024
ALLOWED_DTYPES = {"|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"}
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
PIPE_BYTES = 1024 * 1024
CPU_SECONDS = 20  # per request; a 512 x 512 slice takes milliseconds, a big JPEG 2000 frame a second or two


def _setting(name: str, default):
    from django.conf import settings

    return getattr(settings, name, default)


class CageError(Exception):
    """Base of the cage's failures; see ``DecoderFailed`` (a DecodeError) for the words."""


class DecoderFailed(DecodeError, CageError):
    """The decoder said no, died, ran out of memory or time. ``str()`` is a plain
    reason for staff ("this file is too large to decode safely"); ``kind`` is one
    of "refused" (the decoder's own reason), "too_large", "died", "timeout"."""

    def __init__(self, text: str, kind: str):
        super().__init__(text)
        self.kind = kind


TOO_LARGE = "this file is too large to decode safely"
DIED = "it could not be decoded safely (the decoder stopped on it)"
TIMEOUT = "it could not be decoded safely (decoding took too long)"


# --- The caller's side -----------------------------------------------------------------------
def _io_deadline(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _write_all(fd: int, data, deadline: float) -> None:
    view = memoryview(data).cast("B")
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        if not poller.poll(_io_deadline(deadline) * 1000):
            continue
        try:
            n = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while got < n:
        if not poller.poll(_io_deadline(deadline) * 1000):
            continue
        try:
            chunk = os.readv(fd, [view[got:]])
        except BlockingIOError:
            continue
        if chunk == 0:
            raise EOFError
        got += chunk
    return buf


class Decoder:
    """One decoder process and its two pipes. Not thread-safe: the pool hands it
    to one caller at a time."""

    def __init__(self):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            # One thread each: the cage's budget is per process, and BLAS
            # thread pools reserve address space the cap would count.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "CAGE_MEMORY_BYTES": str(int(_setting("INTAKE_IMAGING_DECODER_MEMORY_MB", 1536)) * 1024 * 1024),
            "CAGE_CPU_SECONDS": str(int(_setting("INTAKE_IMAGING_DECODER_CPU_SECONDS", CPU_SECONDS))),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "imaging.cage"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=str(ROOT),
            env=env,
            close_fds=True,
        )
        self.pid = self.proc.pid
        for pipe in (self.proc.stdin, self.proc.stdout):
            os.set_blocking(pipe.fileno(), False)
            try:
                # A 512 x 512 slice (512 KB each way) in one or two pipe buffers
                # instead of eight 64 KB ones: fewer wake-ups per slice.
                fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:
                pass  # over /proc/sys/fs/pipe-max-size: the default size works too
        self.served = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, op: str, args: dict, payload: bytes, timeout: float):
        header = json.dumps({"op": op, **args}).encode()
        deadline = time.monotonic() + timeout
        try:
            _write_all(self.proc.stdin.fileno(), _HEADER.pack(len(header), len(payload)) + header, deadline)
            _write_all(self.proc.stdin.fileno(), payload, deadline)
            head_len, body_len = _HEADER.unpack(_read_exact(self.proc.stdout.fileno(), _HEADER.size, deadline))
            if head_len > MAX_HEADER:
                raise EOFError
            head = json.loads(bytes(_read_exact(self.proc.stdout.fileno(), head_len, deadline)))
            body = _read_exact(self.proc.stdout.fileno(), body_len, deadline)
        except TimeoutError:
            self.kill()
            raise DecoderFailed(TIMEOUT, "timeout") from None
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError, ValueError):
            self.kill()
            raise DecoderFailed(self._death_words(), self._death_kind()) from None
        self.served += 1
        return head, body

    def _death_kind(self) -> str:
        code = self.proc.returncode
        # SIGXCPU: the CPU budget; SIGKILL is also what the kernel's OOM killer sends.
        if code == -24:
            return "timeout"
        return "died"

    def _death_words(self) -> str:
        return TIMEOUT if self._death_kind() == "timeout" else DIED

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def drop(self) -> None:
        """Forget a decoder inherited across a fork: close this process's ends only."""
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class DecoderPool:
    """At most ``size`` decoders for this process; idle ones are reused (warm)."""

    def __init__(self):
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[Decoder] = []
        self._busy = 0
        self.started = 0  # decoders ever started here (tests and the bench read it)

    @property
    def size(self) -> int:
        return max(1, int(_setting("INTAKE_IMAGING_DECODERS", 2)))

    def _after_fork(self) -> None:
        # A forked child (gunicorn without preload quirks, Celery's prefork
        # pool) must not share its parent's decoders' pipes.
        for d in self._idle:
            d.drop()
        self._idle = []
        self._busy = 0
        self._cond = threading.Condition()
        self._pid = os.getpid()

    def _take(self) -> Decoder:
        with self._cond:
            while True:
                while self._idle:
                    d = self._idle.pop()
                    if d.alive():
                        self._busy += 1
                        return d
                    d.kill()
                if self._busy < self.size:
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            d = Decoder()
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise
        with self._cond:
            self.started += 1
        return d

    def _give_back(self, d: Decoder | None) -> None:
        with self._cond:
            self._busy -= 1
            if d is not None and d.alive():
                self._idle.append(d)
            self._cond.notify()

    def call(self, op: str, args: dict, payload: bytes):
        timeout = float(_setting("INTAKE_IMAGING_DECODER_TIMEOUT", 30))
        d = self._take()
        try:
            head, body = d.call(op, args, payload, timeout)
        except BaseException:
            d.kill()
            self._give_back(None)
            raise
        self._give_back(d)
        if not head.get("ok"):
            kind = head.get("kind", "refused")
            text = TOO_LARGE if kind == "too_large" else str(head.get("error") or DIED)[:300]
            raise DecoderFailed(text, kind)
        return head, body

    def warm(self) -> None:
        """Start one decoder now if none is idle (it imports while the caller goes on)."""
        with self._cond:
            if self._idle or self._busy:
                return
            self._busy += 1
        try:
            d = Decoder()
            with self._cond:
                self.started += 1
        except OSError:
            d = None
        self._give_back(d)

    def idle_pids(self) -> list[int]:
        with self._cond:
            return [d.pid for d in self._idle]

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for d in idle:
            d.kill()


_pool: DecoderPool | None = None
_pool_lock = threading.Lock()


def pool() -> DecoderPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = DecoderPool()
        elif _pool._pid != os.getpid():
            _pool._after_fork()
        return _pool


def _reset_after_fork():
    global _pool_lock
    _pool_lock = threading.Lock()
    if _pool is not None:
        _pool._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)


def warm() -> None:
    pool().warm()


def decode(raw: bytes):
    """``imaging.dicom.decode`` of one object, in the cage: (frames, rows,
    columns) array. Raises ``dicom.DecodeError`` (``DecoderFailed`` for the cage's own)."""
    import numpy as np

    head, body = pool().call("decode", {}, raw)
    dtype, shape = head.get("dtype"), head.get("shape")
    if dtype not in ALLOWED_DTYPES or not isinstance(shape, list) or len(shape) != 3:
        raise DecoderFailed(DIED, "died")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise DecoderFailed(DIED, "died")
    dt = np.dtype(dtype)
    if shape[0] * shape[1] * shape[2] * dt.itemsize != len(body):
        raise DecoderFailed(DIED, "died")
    return np.frombuffer(body, dtype=dt).reshape(shape)


def pdf_page_count(data: bytes) -> int:
    head, _ = pool().call("pdf_pages", {}, data)
    count = head.get("pages")
    if not isinstance(count, int) or count < 0:
        raise DecoderFailed(DIED, "died")
    return count


def _png(head, body) -> bytes:
    if not bytes(body[:8]) == b"\x89PNG\r\n\x1a\n":
        raise DecoderFailed(DIED, "died")
    return bytes(body)


def pdf_page_png(data: bytes, page_index: int) -> bytes:
    """One page drawn by ``render.pdf_page_png`` in the cage. Raises IndexError
    for a page the document does not have."""
    try:
        return _png(*pool().call("pdf_page", {"page": int(page_index)}, data))
    except DecoderFailed as exc:
        if exc.kind == "no_page":
            raise IndexError("no such page") from None
        raise


def image_png(data: bytes) -> bytes:
    return _png(*pool().call("image", {}, data))


# --- The decoder's side (python -m imaging.cage) -------------------------------------------------
def _child_read(stream, n: int) -> bytes | None:
    data = stream.read(n)
    if len(data) < n:
        return None
    return data


def _child_send(out, head: dict, body=b"") -> None:
    header = json.dumps(head).encode()
    out.write(_HEADER.pack(len(header), len(body)) + header)
    if len(body):
        out.write(body)
    out.flush()


def _no_core_dumps() -> None:
    import ctypes
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        # Also covers a core_pattern that pipes to a collector (which ignores RLIMIT_CORE 0).
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def _out_of_memory(exc: BaseException) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, MemoryError) or "MemoryError" in str(exc) or "Unable to allocate" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _child_main() -> None:  # pragma: no cover - runs in the decoder process (its tests drive it)
    import resource

    inp = sys.stdin.buffer
    # The protocol gets its own descriptor; fd 1 becomes stderr (discarded), so
    # whatever a native library prints (GDCM's warnings) never enters the protocol.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _no_core_dumps()

    import numpy as np

    from imaging import dicom, render

    for optional in ("gdcm", "pylibjpeg", "openjpeg", "rle", "pypdfium2", "PIL.Image"):
        try:
            __import__(optional)
        except ImportError:
            pass

    memory = int(os.environ.get("CAGE_MEMORY_BYTES") or 0)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu_budget = int(os.environ.get("CAGE_CPU_SECONDS") or CPU_SECONDS)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)

    while True:
        fixed = _child_read(inp, _HEADER.size)
        if fixed is None:
            return  # the caller closed the pipe or exited
        head_len, body_len = _HEADER.unpack(fixed)
        if head_len > MAX_HEADER:
            return
        head = _child_read(inp, head_len)
        body = _child_read(inp, body_len) if body_len else b""
        if head is None or body is None:
            return
        request = json.loads(head)
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        soft = int(used) + cpu_budget
        if cpu_hard != resource.RLIM_INFINITY:
            soft = min(soft, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        try:
            op = request.get("op")
            if op == "decode":
                array = np.ascontiguousarray(dicom.decode(body))
                if array.ndim == 2:
                    array = array[np.newaxis]
                dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
                array = array.astype(dtype, copy=False)
                _child_send(
                    out, {"ok": True, "dtype": array.dtype.str, "shape": list(array.shape)}, memoryview(array).cast("B")
                )
                del array
            elif op == "pdf_pages":
                _child_send(out, {"ok": True, "pages": render.pdf_page_count(body)})
            elif op == "pdf_page":
                _child_send(out, {"ok": True}, render.pdf_page_png(body, int(request.get("page", 0))))
            elif op == "image":
                _child_send(out, {"ok": True}, render.image_png(body))
            else:
                _child_send(out, {"ok": False, "kind": "refused", "error": "unknown request"})
        except MemoryError:
            _child_send(out, {"ok": False, "kind": "too_large"})
        except dicom.DecodeError as exc:
            # pydicom wraps a decoder's MemoryError (the cap reached) in its own error.
            kind = "too_large" if _out_of_memory(exc) else "refused"
            _child_send(out, {"ok": False, "kind": kind, "error": str(exc)})
        except render.RenderRefused as exc:
            _child_send(out, {"ok": False, "kind": "refused", "error": str(exc)})
        except IndexError:
            _child_send(out, {"ok": False, "kind": "no_page", "error": "no such page"})
        except Exception as exc:
            reason = f"it could not be decoded ({type(exc).__name__})"
            _child_send(out, {"ok": False, "kind": "refused", "error": reason})


if __name__ == "__main__":
    _child_main()
