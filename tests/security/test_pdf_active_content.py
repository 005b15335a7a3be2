"""Issue 22.4 (and 21.3's PDF part): PDF active content judged by a PDF parser.

The old check scanned bytes for names and inflated Flate streams up to 16 MiB:
a catalog whose JavaScript sat in an object stream encoded /ASCIIHexDecode,
or [/ASCIIHexDecode /FlateDecode], or after a 17 MB all-zero stream, was
accepted. Now qpdf parses the whole object tree in a caged child process
(intake.pdfcheck); a PDF it cannot read to the end is refused, and so are
pages no report is printed on and more pages than a report has.

The PDFs are made by tests/intake/corpus.pdf_doc: a cross-reference stream
and a real object stream, as PDF generators write them (and as the reviewer's
files were, which PDFium read with their scripts).
"""

import io
import zlib

import pytest

from intake import pdfcheck
from tests.intake import corpus
from tests.support.uploads import post_file, refused

pytestmark = pytest.mark.django_db

JS = corpus.PDF_JS_ACTION
# With one page, the first extra object (in the file or in the object stream) is number 5.
OPEN_5 = b"/OpenAction 5 0 R"


# --- The three bypasses of the review -------------------------------------------------
BYPASSES = {
    "object stream /ASCIIHexDecode": corpus.pdf_doc(
        catalog_extra=OPEN_5, in_object_stream=(JS,), object_stream_filters=("/ASCIIHexDecode",)
    ),
    "object stream [/ASCIIHexDecode /FlateDecode]": corpus.pdf_doc(
        catalog_extra=OPEN_5, in_object_stream=(JS,), object_stream_filters=("/ASCIIHexDecode", "/FlateDecode")
    ),
    "after a 17 MB all-zero stream": corpus.pdf_doc(
        catalog_extra=OPEN_5, in_object_stream=(JS,), padding_stream=b"\x00" * (17 * 1024 * 1024)
    ),
}


@pytest.mark.parametrize("data", BYPASSES.values(), ids=BYPASSES.keys())
def test_the_reviews_bypasses_are_refused(patient, data):
    refused(post_file(patient, "report.pdf", data), "script")


def test_the_bypass_files_are_valid_pdfs_that_carry_the_script():
    """Not refused for being broken: a parser reads each file to the end and
    finds the page and the JavaScript action the catalog opens with."""
    import pikepdf

    for data in BYPASSES.values():
        with pikepdf.open(io.BytesIO(data)) as pdf:
            assert len(pdf.pages) == 1
            assert pdf.Root.OpenAction.S == "/JavaScript"
        assert pdfcheck.inspect(data) == {"verdict": "active", "why": "a JavaScript action"}


# --- Where active content lives, however it is spelled ---------------------------------
ACTIVE = {
    "OpenAction JavaScript": corpus.pdf_doc(catalog_extra=OPEN_5, extra_objects=(JS,)),
    "names in #xx escapes": corpus.pdf_doc(
        catalog_extra=OPEN_5, extra_objects=(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",)
    ),
    "Launch on open": corpus.pdf_doc(catalog_extra=b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
    "document JavaScript name tree": corpus.pdf_doc(
        catalog_extra=b"/Names << /JavaScript << /Names [(a) 5 0 R] >> >>", extra_objects=(JS,)
    ),
    "embedded file": corpus.pdf_doc(
        catalog_extra=b"/Names << /EmbeddedFiles << /Names [(x.exe) 5 0 R] >> >>",
        extra_objects=(b"<< /Type /Filespec /F (x.exe) /EF << /F 6 0 R >> >>", b"<< /Length 0 >>\nstream\n\nendstream"),
    ),
    "page /AA": corpus.pdf_doc(page_extra=b"/AA << /O 5 0 R >>", in_object_stream=(JS,)),
    "catalog /AA SubmitForm": corpus.pdf_doc(catalog_extra=b"/AA << /WC << /S /SubmitForm /F (http://x/) >> >>"),
    "annotation ImportData": corpus.pdf_doc(
        page_extra=b"/Annots [5 0 R]",
        extra_objects=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /ImportData /F (x.fdf) >> >>",),
    ),
    "annotation GoToR": corpus.pdf_doc(
        page_extra=b"/Annots [5 0 R]",
        extra_objects=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /GoToR /F (x.pdf) /D [0 /Fit] >> >>",),
    ),
    "field /AA in an object stream": corpus.pdf_doc(
        catalog_extra=b"/AcroForm << /Fields [5 0 R] >>",
        in_object_stream=(b"<< /FT /Tx /T (a) /AA << /K << /S /JavaScript /JS (1) >> >> >>",),
        object_stream_filters=("/ASCII85Decode", "/FlateDecode"),
    ),
    "XFA form": corpus.pdf_doc(catalog_extra=b"/AcroForm << /Fields [] /XFA 5 0 R >>", extra_objects=(JS,)),
    "RichMedia annotation": corpus.pdf_doc(
        page_extra=b"/Annots [5 0 R]", extra_objects=(b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>",)
    ),
}


@pytest.mark.parametrize("data", ACTIVE.values(), ids=ACTIVE.keys())
def test_active_content_is_refused_wherever_it_is(patient, data):
    refused(post_file(patient, "report.pdf", data), "script")


@pytest.mark.parametrize(
    "data",
    [
        corpus.PDF,
        # Report generators add "open at page 1, fit width", and links to a web page.
        corpus.pdf_doc(catalog_extra=b"/OpenAction [4 0 R /FitH null]"),
        corpus.pdf_doc(
            page_extra=b"/Annots [5 0 R]",
            in_object_stream=(b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /URI /URI (https://x/) >> >>",),
            object_stream_filters=("/ASCIIHexDecode", "/FlateDecode"),
        ),
    ],
    ids=["one page", "open at page 1", "a link in an object stream"],
)
def test_plain_reports_are_accepted(patient, data):
    assert post_file(patient, "report.pdf", data).status_code == 200


# --- What a renderer would be asked to draw ---------------------------------------------
def test_a_10000_point_page_is_refused(patient):
    """A 333-byte PDF with a 10000 x 10000 pt page took a web worker to 1.9 GiB when staff viewed it."""
    refused(post_file(patient, "report.pdf", corpus.pdf_doc(media_box=(0, 0, 10000, 10000))), "far larger")


def test_a_page_scaled_up_by_user_unit_is_refused(patient):
    refused(post_file(patient, "report.pdf", corpus.pdf_doc(page_extra=b"/UserUnit 20")), "far larger")


def test_an_a0_poster_page_is_accepted(patient):
    assert post_file(patient, "report.pdf", corpus.pdf_doc(media_box=(0, 0, 2384, 3370))).status_code == 200


def test_too_many_pages_are_refused(patient):
    refused(post_file(patient, "report.pdf", corpus.pdf_doc(pages=pdfcheck.MAX_PAGES + 1)), "201 pages", "200")
    assert post_file(patient, "report.pdf", corpus.pdf_doc(pages=pdfcheck.MAX_PAGES)).status_code == 200


# --- Whatever cannot be read to the end is refused --------------------------------------
UNREADABLE = {
    "no page tree": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    "garbage between header and end": b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n",
    "an object stream that does not decode": corpus.pdf_doc(
        catalog_extra=OPEN_5, in_object_stream=(JS,), object_stream_filters=("/FlateDecode",)
    ).replace(b"/Filter [/FlateDecode]", b"/Filter [/ASCIIHexDecode]"),
    "a content stream that does not decode": corpus.pdf_doc().replace(
        b"<< /Length 30 >>", b"<< /Length 30 /Filter /FlateDecode >>"
    ),
}


@pytest.mark.parametrize("data", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_pdf_that_cannot_be_parsed_is_refused(patient, data):
    refused(post_file(patient, "report.pdf", data), "could not read this PDF all the way through")


def test_a_parse_that_outgrows_its_memory_cap_is_refused_not_accepted():
    """The checker is a child process: a stream that inflates past its memory
    cap (here 200 MiB of zeros in a 200 KB Flate stream, with the cap lowered
    to 160 MiB so the test stays small) ends the child, never the web
    process, and the verdict is "unreadable"."""
    bomb = zlib.compress(b"\x00" * (200 * 1024 * 1024), 9)
    data = corpus.pdf_doc(
        extra_objects=(
            b"<< /Length " + str(len(bomb)).encode() + b" /Filter /FlateDecode >>\nstream\n" + bomb + b"\nendstream",
        )
    )
    assert pdfcheck.inspect_caged(io.BytesIO(data), memory_bytes=160 * 1024 * 1024)["verdict"] == "unreadable"
    # The same file with room to parse it is read to the end.
    assert pdfcheck.inspect_caged(io.BytesIO(data))["verdict"] == "ok"


def test_a_checker_that_hangs_is_stopped_and_the_file_refused():
    verdict = pdfcheck.inspect_caged(io.BytesIO(corpus.PDF), wall_seconds=0.001)
    assert verdict["verdict"] == "unreadable"


def test_the_checker_never_sees_the_web_process_environment(monkeypatch):
    import subprocess

    seen = {}
    real = subprocess.Popen

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-the-child")
    assert pdfcheck.inspect_caged(io.BytesIO(corpus.PDF))["verdict"] == "ok"
    assert seen["env"] == {"LANG": "C.UTF-8"}
