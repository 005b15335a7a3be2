"""The decoder cage (imaging.cage): decoders really killed, out of memory or of
time give an error and a fresh decoder next time; files stored before the
header limits existed (a 65535 x 65535 JPEG-LS, a 16384 x 16384 RLE, a
10000 x 10000 pt PDF) are "cannot be shown" to staff with the reason, one
alert each, and no web or worker process dies."""

import os
import signal
import struct
import threading

import pytest
from django.urls import reverse

from imaging import cage
from imaging.models import ImagingSeries
from intake.models import SystemAlert
from tests.support.processes import wait_for

from . import dicomgen as g
from .conftest import is_png
from .storing import store_directly


@pytest.fixture
def fresh_cage(settings):
    """Decoders started under this test's settings, and none left behind."""
    cage.pool().close()
    yield cage.pool()
    cage.pool().close()


def _wait(predicate):
    return wait_for(predicate, timeout=20.0, interval=0.02)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _png_size(body: bytes) -> tuple[int, int]:
    return struct.unpack(">II", body[16:24])


# --- The cage alone -------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGABRT, signal.SIGKILL])
def test_a_decoder_killed_mid_request_is_an_error_and_the_next_decode_gets_a_fresh_one(fresh_cage, sig):
    raw = g.series_bytes(1, rows=256, cols=256)[0]
    fresh_cage.warm()
    [pid] = fresh_cage.idle_pids()
    # Frozen, so the request is certainly in flight when the signal lands.
    os.kill(pid, signal.SIGSTOP)
    outcome = {}

    def decode():
        try:
            outcome["array"] = cage.decode(raw)
        except Exception as exc:
            outcome["error"] = exc

    caller = threading.Thread(target=decode)
    caller.start()
    _wait(lambda: not fresh_cage.idle_pids())  # taken by the caller, request being written
    os.kill(pid, sig)
    os.kill(pid, signal.SIGCONT)
    caller.join(30)
    error = outcome.get("error")
    assert isinstance(error, cage.DecoderFailed), outcome
    assert error.kind == "died"
    assert str(error) == cage.DIED
    assert _gone(pid)

    frames = cage.decode(raw)  # a new decoder, in this same (living) process
    assert frames.shape == (1, 256, 256)
    [new_pid] = fresh_cage.idle_pids()
    assert new_pid != pid


def test_a_decoder_out_of_time_is_killed_and_replaced(fresh_cage, settings):
    settings.INTAKE_IMAGING_DECODER_TIMEOUT = 0.5
    raw = g.series_bytes(1)[0]
    fresh_cage.warm()
    [pid] = fresh_cage.idle_pids()
    os.kill(pid, signal.SIGSTOP)  # hung: it never answers
    with pytest.raises(cage.DecoderFailed) as caught:
        cage.decode(raw)
    assert caught.value.kind == "timeout"
    assert _gone(pid)
    settings.INTAKE_IMAGING_DECODER_TIMEOUT = 30
    assert cage.decode(raw).shape == (1, 64, 64)


def test_a_decode_over_the_memory_cap_is_refused_not_fatal(fresh_cage, settings):
    # 4096 x 4096 16-bit, rescaled: some 32 MB in, over 200 MB to decode.
    settings.INTAKE_IMAGING_DECODER_MEMORY_MB = 220
    with pytest.raises(cage.DecoderFailed) as caught:
        cage.decode(g.big_valid(4096))
    assert caught.value.kind == "too_large"
    assert str(caught.value) == cage.TOO_LARGE
    assert cage.decode(g.series_bytes(1)[0]).shape == (1, 64, 64)


def test_decoded_pixels_are_the_same_as_in_process(fresh_cage):
    from imaging import dicom

    for raw in (*g.rle(1), *g.jpeg2000(1), g.multiframe(4)):
        caged = cage.decode(raw)
        assert caged.dtype == dicom.decode(raw).dtype
        assert (caged == dicom.decode(raw)).all()


# --- Stored before the limits: the web side ----------------------------------------------------------
@pytest.mark.django_db
def test_oversized_files_stored_before_the_limits_cannot_be_shown_and_alert_once(imaging_setup, client, fresh_cage):
    case, coordinator, _ = imaging_setup
    jls = store_directly(case, g.jpegls_65535(), "dicom")
    rle = store_directly(case, g.rle_16384(), "dicom")
    client.force_login(coordinator)
    started_before = fresh_cage.started  # the pool's count runs over the whole test session

    page = client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    series = {s.instances.first().mri_file_id: s for s in ImagingSeries.objects.all()}
    assert series[jls.pk].problem == (
        "Cannot be shown: this file is too large to decode safely: "
        "header declares 65535 x 65535 pixels (limit 8192 a side)."
    )
    assert series[rle.pk].problem.startswith(
        "Cannot be shown: this file is too large to decode safely: header declares"
    )
    assert "16384 x 16384" in series[rle.pk].problem
    assert text.count("Cannot be shown: this file is too large to decode safely") == 2
    for s in series.values():
        manifest = client.get(reverse("admin:imaging_series", args=[case.pk, s.pk]))
        assert manifest.status_code == 422
        assert "too large" in manifest.json()["error"]
    # No decoder was asked: the header check refused both files first.
    assert fresh_cage.started - started_before <= 1  # the page's pre-warm only
    assert set(SystemAlert.objects.values_list("key", flat=True)) == {
        f"mri-unsafe-file:{jls.pk}",
        f"mri-unsafe-file:{rle.pk}",
    }
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    assert SystemAlert.objects.count() == 2


@pytest.mark.django_db
def test_a_slice_of_a_file_indexed_before_the_limits_is_refused_with_the_reason(imaging_setup, client, fresh_cage):
    """An index made before the header check (its series says nothing): the slice
    request checks the header itself and never decodes."""
    from imaging.cache import pixels
    from imaging.services import imaging_index_file

    case, coordinator, _ = imaging_setup
    rle = store_directly(case, g.rle_16384(), "dicom")
    imaging_index_file(mri_file_id=rle.pk)
    series = ImagingSeries.objects.get()
    ImagingSeries.objects.filter(pk=series.pk).update(problem="")  # as indexed before the fix
    pixels.clear()
    client.force_login(coordinator)
    response = client.get(reverse("admin:imaging_slice", args=[case.pk, series.pk, 0]) + "?wc=100&ww=200")
    assert response.status_code == 422
    assert response.json()["error"].startswith("Cannot be shown: this file is too large to decode safely: header")
    assert response["Cache-Control"].startswith("private, no-store")


@pytest.mark.django_db
def test_a_10000_pt_pdf_page_is_drawn_in_the_cage_at_a_bounded_size(imaging_setup, client, fresh_cage, settings):
    # Drawn as before (scale 1.5: 15000 x 15000 px, 900 MB) it would not fit this cap.
    settings.INTAKE_IMAGING_DECODER_MEMORY_MB = 400
    case, coordinator, _ = imaging_setup
    pdf = store_directly(case, g.pdf_page_of(10000, 10000), "pdf")
    client.force_login(coordinator)
    manifest = client.get(reverse("admin:imaging_file", args=[case.pk, pdf.pk]))
    assert manifest.status_code == 200
    assert manifest.json()["pages"] == 1
    page = client.get(reverse("admin:imaging_file_page", args=[case.pk, pdf.pk, 1]))
    assert page.status_code == 200
    assert is_png(page.content)
    assert max(_png_size(page.content)) <= 2000


@pytest.mark.django_db
def test_pdf_pages_beyond_the_limits_are_refused_before_drawing(imaging_setup, client, fresh_cage):
    case, coordinator, _ = imaging_setup
    huge = store_directly(case, g.pdf_page_of(20000, 300), "pdf")
    many = store_directly(case, g.pdf_page_of(100, 100, pages=501), "pdf")
    client.force_login(coordinator)
    page = client.get(reverse("admin:imaging_file_page", args=[case.pk, huge.pk, 1]))
    assert page.status_code == 422
    assert page.json()["error"] == "Cannot be shown: a page declares 20000 x 300 pt."
    manifest = client.get(reverse("admin:imaging_file", args=[case.pk, many.pk]))
    assert manifest.status_code == 422
    assert manifest.json()["error"] == "Cannot be shown: the report has 501 pages (limit 500)."
