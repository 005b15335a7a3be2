"""A PDF's structure judged by a PDF parser (qpdf, through pikepdf), in a caged child process.

The upload check (``intake.uploads``) asks one question of a PDF before it is
stored: does it carry active content (scripts, launch or form-submission
actions, embedded files, XFA, rich media), how many pages has it, and how
large is its largest page? Byte scanning could not answer it: the names hide
in object streams behind any chain of filters (ASCIIHex, ASCII85, Flate...),
and a scan with a budget stops where the attacker pads. Here qpdf parses the
file as a viewer does: every object, those inside object streams included,
with their filters decoded; names arrive normalised (``/J#53`` is ``/JS``).

Parsing hostile bytes is itself a risk (a Flate stream that inflates to
gigabytes, a page tree that loops, a parser bug), so ``inspect_caged`` runs
this module as a separate Python process, without Django and without the web
process's environment, under an address-space cap, a CPU-time cap and a wall
timeout. Whatever happens there, the web process only receives a verdict or
an error; an error means the file was not fully checked, and the caller
refuses it. Nothing is accepted because the check ran out of budget.

The limits, and why:
- ``MAX_PAGES`` 200: a radiology report is 1 to 5 pages; a whole clinic
  record printed to PDF runs to a few dozen. 200 leaves room and bounds the
  staff viewer's paging.
- ``MAX_PAGE_SIDE_PT`` 3500 pt (about 123 cm, a little over A0's 3370 pt long
  side): no report is printed on anything larger. A 10000 x 10000 pt page
  asks a renderer for gigapixels at screen resolution.
- ``MAX_OBJECTS`` 250,000: a 100-page report has a few thousand objects.
- ``MAX_DECODED_BYTES`` 256 MiB of non-image streams decoded in all (page
  contents, object streams, fonts, forms): real reports need a few MiB.
  Image streams are not decoded here (only the renderer needs their pixels,
  and they cannot hold actions); their dictionaries are checked all the same.
- ``MEMORY_BYTES`` 1 GiB address space, ``CPU_SECONDS`` 20, ``WALL_SECONDS``
  40: a 100 MB report is parsed in a few seconds within a few hundred MiB.
"""

import io
import json
import resource
import subprocess
import sys
from pathlib import Path

MAX_PAGES = 200
MAX_PAGE_SIDE_PT = 3500
MAX_OBJECTS = 250_000
MAX_DECODED_BYTES = 256 * 1024 * 1024
MAX_NESTING = 100
MEMORY_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 40
_READ_LIMIT = 512 * 1024 * 1024

# Action types (/S) that run something, reach outside the file, or send data.
# /GoTo (a page), /URI (a link the reader clicks) and /Named stay allowed.
ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/Rendition",
    "/RichMediaExecute",
    "/Movie",
    "/Sound",
}
# Annotation subtypes (/Subtype) that embed or play something.
ACTIVE_ANNOTATIONS = {"/RichMedia", "/FileAttachment", "/Movie", "/Sound", "/Screen", "/3D"}


class Active(Exception):
    """The document carries active content; the message names it (for logs)."""


class Unreadable(Exception):
    """The document could not be fully parsed within the budget."""


def _check_dict(d, pikepdf) -> None:
    keys = set(d.keys())
    if "/JS" in keys:
        raise Active("a JavaScript action")
    if "/XFA" in keys:
        raise Active("an XFA form")
    if "/EF" in keys or d.get("/Type") == "/EmbeddedFile":
        raise Active("an embedded file")
    kind = d.get("/S")
    if isinstance(kind, pikepdf.Name) and str(kind) in ACTIVE_ACTIONS:
        raise Active(f"a {str(kind)[1:]} action")
    subtype = d.get("/Subtype")
    if isinstance(subtype, pikepdf.Name) and str(subtype) in ACTIVE_ANNOTATIONS and "/Rect" in keys:
        raise Active(f"a {str(subtype)[1:]} annotation")


def _walk(obj, pikepdf, depth: int = 0) -> None:
    """Every dictionary held directly in one object (indirect references are
    other objects, each visited in its own turn)."""
    if depth > MAX_NESTING:
        raise Unreadable("objects nested too deeply")
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    if isinstance(obj, pikepdf.Dictionary):
        _check_dict(obj, pikepdf)
        children = obj.values()
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if getattr(child, "is_indirect", False):
            continue
        _walk(child, pikepdf, depth + 1)


def inspect(data: bytes) -> dict:
    """The verdict on one PDF's bytes. Run in the child process."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return {"verdict": "password"}
    except Exception as exc:
        return {"verdict": "unreadable", "why": f"qpdf could not open it ({type(exc).__name__})"}
    try:
        with pdf:
            root = pdf.Root
            names = root.get("/Names")
            if isinstance(names, pikepdf.Dictionary):
                if "/JavaScript" in names:
                    raise Active("document-level JavaScript")
                if "/EmbeddedFiles" in names:
                    raise Active("embedded files")
            objects = pdf.objects
            if len(objects) > MAX_OBJECTS:
                raise Unreadable(f"{len(objects)} objects (limit {MAX_OBJECTS})")
            decoded = 0
            for obj in objects:
                _walk(obj, pikepdf)
                if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Subtype") != "/Image":
                    try:
                        decoded += len(obj.read_bytes())
                    except Exception as exc:
                        raise Unreadable(f"a stream could not be decoded ({type(exc).__name__})") from None
                    if decoded > MAX_DECODED_BYTES:
                        raise Unreadable(f"streams decode to more than {MAX_DECODED_BYTES} bytes")
            # The trailer and catalog too (an /OpenAction or /AA held directly there).
            _walk(pdf.trailer, pikepdf)
            pages = len(pdf.pages)
            if pages == 0:
                return {"verdict": "no_pages"}
            if pages > MAX_PAGES:
                return {"verdict": "too_many_pages", "pages": pages}
            largest = 0.0
            for page in pdf.pages:
                unit = float(page.obj.get("/UserUnit", 1) or 1)
                for box in (page.mediabox, page.cropbox):
                    x0, y0, x1, y1 = (float(v) for v in box)
                    largest = max(largest, abs(x1 - x0) * unit, abs(y1 - y0) * unit)
            if largest > MAX_PAGE_SIDE_PT:
                return {"verdict": "page_too_large", "side": largest}
            return {"verdict": "ok", "pages": pages, "side": largest}
    except Active as exc:
        return {"verdict": "active", "why": str(exc)}
    except Unreadable as exc:
        return {"verdict": "unreadable", "why": str(exc)}
    except Exception as exc:
        return {"verdict": "unreadable", "why": f"parsing failed ({type(exc).__name__})"}


def _cage(memory_bytes: int) -> None:
    """In the child, before it runs: the caps (the parent keeps its own)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def inspect_caged(fh, *, memory_bytes: int | None = None, wall_seconds: float | None = None) -> dict:
    """Send the file's bytes to a fresh child process that runs ``inspect``;
    return its verdict, or ``{"verdict": "unreadable"}`` when the child died,
    ran out of time or memory, or said nothing sensible."""
    memory = memory_bytes or MEMORY_BYTES
    wall = wall_seconds or WALL_SECONDS

    # -I: no user site-packages, no PYTHON* variables, not the current folder;
    # env: none of the web process's settings or secrets.
    proc = subprocess.Popen(  # noqa: S603  (a fixed argv: this interpreter and this module; the file goes to stdin)
        [sys.executable, "-I", str(Path(__file__).resolve())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"LANG": "C.UTF-8"},
        # The caps are set in the child between fork and exec (a sync worker: no threads fork here).
        preexec_fn=lambda: _cage(memory),
        close_fds=True,
    )
    try:
        fh.seek(0)
        try:
            while block := fh.read(1024 * 1024):
                proc.stdin.write(block)
        except (BrokenPipeError, OSError):
            pass  # the child died while reading: judged below by its exit
        # communicate() closes the child's input, then reads its verdict.
        out, _ = proc.communicate(timeout=wall)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"verdict": "unreadable", "why": "timed out"}
    finally:
        fh.seek(0)
    if proc.returncode != 0:
        return {"verdict": "unreadable", "why": f"the checking process ended with status {proc.returncode}"}
    try:
        result = json.loads(out)
    except ValueError:
        return {"verdict": "unreadable", "why": "no verdict"}
    if not isinstance(result, dict) or "verdict" not in result:
        return {"verdict": "unreadable", "why": "no verdict"}
    return result


if __name__ == "__main__":
    payload = sys.stdin.buffer.read(_READ_LIMIT + 1)
    if len(payload) > _READ_LIMIT:
        verdict = {"verdict": "unreadable", "why": "too large"}
    else:
        verdict = inspect(payload)
    sys.stdout.write(json.dumps(verdict))
