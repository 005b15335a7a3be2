"""What a DICOM header may declare before anything decodes its pixels, and
what a DICOM file without its preamble looks like.

One rule for the upload check (``intake.uploads``) and for the viewer's
decoding of files already stored (``imaging``): the declared image size is
read from the header, never from decoding, and compared with limits no real
MRI reaches, so a header that asks a native decoder for gigabytes is refused
before the decoder sees it.

Why these numbers: clinical MR matrices are 128-1024 pixels a side (a
high-resolution 3 T spine series reaches 1024 x 1024; reconstructions
interpolated to 2048 are rare). Digital X-ray plates, which a patient may
still send, reach about 4300 x 4300. 8192 a side leaves room for both; a
frame of 8192 x 8192 x 3 samples x 2 bytes is 384 MiB, so one frame is capped
at 256 MiB decoded (a 4320 x 4320 16-bit plate is 36 MiB). An enhanced
multi-frame MR series of 1,000 frames of 512 x 512 x 2 bytes is 500 MiB in
all; whole-object totals are capped at 2 GiB (the viewer decodes one frame at
a time, so the total bounds the work, not the memory).
"""

import struct
from dataclasses import dataclass

MAX_DIMENSION = 8192
MAX_FRAMES = 5000
MAX_FRAME_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Declared:
    rows: int
    columns: int
    frames: int
    samples: int
    bits_allocated: int

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * self.samples * max(1, (self.bits_allocated + 7) // 8)

    @property
    def total_bytes(self) -> int:
        return self.frame_bytes * self.frames

    @property
    def invalid(self) -> bool:
        """A zero, negative or unreadable value: a damaged header rather than a
        large one (the upload check words the two differently)."""
        return min(self.rows, self.columns, self.frames, self.samples, self.bits_allocated) <= 0


def _int(value, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return -1


def declared(ds) -> Declared | None:
    """The image size a dataset's header declares, or None when it has no
    pixel description (no Rows/Columns). Reads header values only."""
    if "Rows" not in ds or "Columns" not in ds:
        return None
    return Declared(
        rows=_int(ds.get("Rows"), 0),
        columns=_int(ds.get("Columns"), 0),
        frames=_int(ds.get("NumberOfFrames"), 1),
        samples=_int(ds.get("SamplesPerPixel"), 1),
        bits_allocated=_int(ds.get("BitsAllocated"), 16),
    )


def size_problem(d: Declared) -> str | None:
    """A short reason for staff logs when the declared size breaks a limit
    (never shown to patients as is), or None when it is within them."""
    if d.invalid:
        return "header declares an empty or invalid image size"
    if d.samples > 4 or d.bits_allocated > 64:
        return f"header declares {d.samples} samples of {d.bits_allocated} bits"
    if d.rows > MAX_DIMENSION or d.columns > MAX_DIMENSION:
        return f"header declares {d.columns} x {d.rows} pixels (limit {MAX_DIMENSION} a side)"
    if d.frames > MAX_FRAMES:
        return f"header declares {d.frames} frames (limit {MAX_FRAMES})"
    if d.frame_bytes > MAX_FRAME_BYTES:
        return f"one frame would decode to {d.frame_bytes} bytes (limit {MAX_FRAME_BYTES})"
    if d.total_bytes > MAX_TOTAL_BYTES:
        return f"the object would decode to {d.total_bytes} bytes (limit {MAX_TOTAL_BYTES})"
    return None


# Explicit VRs with a 4-byte length (after two reserved bytes).
LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
VRS = LONG_VRS | {
    v.encode()
    for v in "AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST SV TM UI UL US UV".split()  # noqa: SIM905 -- reads as the standard's list
}


def looks_like_raw_dicom(head: bytes) -> bool:
    """DICOM without the 128-byte preamble and "DICM" (older discs write it so):
    the first element is in the file meta group (0002) or the identifying
    group (0008), with a real VR or, implicit, a small length. Only then is
    pydicom asked to read it with ``force=True`` (the upload check and the
    viewer both ask this one rule)."""
    if len(head) < 8:
        return False
    group, element = struct.unpack("<HH", head[:4])
    if group not in (0x0002, 0x0008) or element > 0x0100:
        return False
    if head[4:6] in VRS:
        return True
    return group == 0x0008 and struct.unpack("<I", head[4:8])[0] < 1024
