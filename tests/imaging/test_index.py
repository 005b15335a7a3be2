"""The index: studies, series, slices from single files, ZIPs, multi-frame and
compressed objects; undecodable series reported by series; run twice is once."""

from datetime import date

import numpy as np
import pytest

from imaging import services
from imaging.models import ImagingInstance, ImagingSeries, ImagingStudy, IndexedFile
from imaging.tasks import index_mri_file
from intake.models import CaseEvent

from . import dicomgen as g
from .conftest import attach

pytestmark = pytest.mark.django_db


def index(f):
    return services.imaging_index_file(mri_file_id=f.pk)


def test_zip_of_20_slices_is_one_sagittal_series_in_position_order(imaging_setup):
    case, *_ = imaging_setup
    f = attach(case, g.zip_of(g.series_bytes(20)), "study.zip")
    done = index(f)
    assert done.state == IndexedFile.State.DONE and done.instances == 20
    study = ImagingStudy.objects.get(case=case)
    assert (study.study_date, study.modality, study.body_part) == (date(2026, 6, 1), "MR", "LSPINE")
    assert study.institution == "Synthetic Imaging Centre"
    assert (study.patient_name, study.patient_birth_date) == ("Example^Pat", date(1970, 3, 21))
    series = ImagingSeries.objects.get(study=study)
    assert (series.plane, series.slice_count, series.problem) == ("sagittal", 20, "")
    assert (series.window_center, series.window_width) == (600, 1200)
    positions = list(series.instances.order_by("index").values_list("position", flat=True))
    assert positions == sorted(positions) and len(set(positions)) == 20
    # The ZIP was written out of order (odd slices first); the stack follows the
    # position along the slice normal (row x column = -x here, so x descending).
    members = list(series.instances.order_by("index").values_list("member", flat=True))
    assert members == [f"DICOM/IM{i:05d}" for i in reversed(range(20))]


def test_single_files_of_one_series_join_one_stack(imaging_setup):
    case, *_ = imaging_setup
    objs = g.series_bytes(3, study_uid="1.2.3.4", series_uid="1.2.3.4.5")
    for i in (2, 0, 1):
        index(attach(case, objs[i], f"im{i}.dcm"))
    series = ImagingSeries.objects.get()
    assert series.slice_count == 3
    numbers = list(series.instances.order_by("index").values_list("instance_number", flat=True))
    assert sorted(numbers) == [1, 2, 3] and len(numbers) == 3


def test_multiframe_object_is_one_slice_per_frame(imaging_setup):
    case, *_ = imaging_setup
    f = attach(case, g.multiframe(frames=6))
    index(f)
    series = ImagingSeries.objects.get()
    assert series.slice_count == 6
    frames = list(series.instances.order_by("index").values_list("frame", flat=True))
    assert sorted(frames) == list(range(6))
    first, last = series.instances.order_by("index")[0], series.instances.order_by("index").last()
    a, b = services.slice_pixels(first), services.slice_pixels(last)
    assert a.shape == (48, 48) and not np.array_equal(a, b)


@pytest.mark.parametrize("maker", [g.rle, g.jpeg2000, g.jpeg_baseline], ids=["rle", "jpeg2000", "jpeg-baseline"])
def test_compressed_series_decode(imaging_setup, maker):
    case, *_ = imaging_setup
    index(attach(case, g.zip_of(maker(2)), "c.zip"))
    series = ImagingSeries.objects.get()
    assert series.problem == ""
    frame = services.slice_pixels(series.instances.first())
    assert frame.shape == (64, 64) and frame.max() > frame.min()


def test_undecodable_series_is_reported_by_series_not_failing_the_file(imaging_setup):
    case, *_ = imaging_setup
    members = g.series_bytes(3) + g.undecodable(2)
    index(attach(case, g.zip_of(members, shuffle=False), "mixed.zip"))
    good = ImagingSeries.objects.get(number=1)
    bad = ImagingSeries.objects.get(number=9)
    assert good.problem == "" and good.slice_count == 3
    assert "JPEG 2000" in bad.problem and bad.problem.startswith("Cannot be shown")
    assert IndexedFile.objects.get().state == IndexedFile.State.DONE


def test_a_zip_without_images_is_recorded_failed_with_a_reason(imaging_setup):
    case, *_ = imaging_setup
    ds = g.mr_dataset(study_uid="1.2", series_uid="1.3")
    del ds.Rows, ds.Columns, ds.PixelData  # a report object, say: DICOM but no image
    # Refused at upload since issue 21.4 (tests/intake/test_uploads_dicom.py); stored as a
    # file from before that rule, which the index still meets.
    from django.core.files.base import ContentFile

    from intake import storage
    from intake.models import MriFile

    name, size, digest = storage.store_encrypted(ContentFile(g.zip_of([g.to_bytes(ds)])))
    f = MriFile.objects.create(
        case=case, original_name="x.zip", stored_name=name, file_type="zip", size=size, sha256=digest
    )
    done = index(f)
    assert done.state == IndexedFile.State.FAILED
    assert done.problem == "No DICOM images were found in the file."
    assert not ImagingStudy.objects.exists()


def test_index_task_twice_indexes_once(imaging_setup):
    case, *_ = imaging_setup
    f = attach(case, g.zip_of(g.series_bytes(5)), "s.zip")
    assert index_mri_file.apply(args=[f.pk]).get() == "done"
    assert index_mri_file.apply(args=[f.pk]).get() == "done"
    assert ImagingInstance.objects.count() == 5
    assert IndexedFile.objects.count() == 1


def test_old_study_and_mismatch_are_on_the_timeline_without_the_values(imaging_setup):
    case, *_ = imaging_setup
    index(attach(case, g.zip_of(g.series_bytes(2, name="Other^Person", study_date="20240105")), "o.zip"))
    summaries = list(CaseEvent.objects.filter(case=case).values_list("summary", flat=True))
    assert any("name in the images differ" in s for s in summaries)
    assert any("new imaging may be needed" in s for s in summaries)
    assert not any("Other" in s or "Person" in s for s in summaries)


def test_a_slice_is_read_from_its_own_chunks_without_the_whole_file(imaging_setup, monkeypatch, settings):
    """After indexing, a cold process decrypts only the chunks that hold the slice."""
    from imaging.cache import pixels
    from intake import storage

    case, *_ = imaging_setup
    # 40 slices of 256 x 256 (128 KiB each): about 5 MiB, so several 1 MiB chunks.
    f = attach(case, g.zip_of(g.series_bytes(40, rows=256, cols=256)), "big.zip")
    index(f)
    series = ImagingSeries.objects.get()
    last = series.instances.order_by("index").last()
    assert last.chunk_first is not None and last.chunk_count in (1, 2) and last.length > 0
    expected = services.slice_pixels(last)
    pixels.clear()

    def no_whole_reads(*args, **kwargs):
        raise AssertionError("the whole file was decrypted")

    monkeypatch.setattr(storage, "iter_decrypted", no_whole_reads)
    assert np.array_equal(services.slice_pixels(last), expected)


def test_a_replaced_or_rotated_file_falls_back_to_the_checked_whole_read(imaging_setup, settings):
    from imaging.cache import pixels
    from intake import storage

    case, *_ = imaging_setup
    f = attach(case, g.zip_of(g.series_bytes(4)), "s.zip")
    index(f)
    first = ImagingSeries.objects.get().instances.order_by("index").first()
    expected = services.slice_pixels(first)
    old_id = IndexedFile.objects.get().file_id
    storage.rotate_stored(f.stored_name, sha256=f.sha256)  # a new file id
    assert storage.stored_file_id(f.stored_name).hex() != old_id
    with pytest.raises(storage.TamperedFile):
        list(storage.iter_decrypted_chunks(f.stored_name, file_id=bytes.fromhex(old_id), first=0, count=1))
    pixels.clear()
    assert np.array_equal(services.slice_pixels(first), expected)


def test_png_writer_is_lossless():
    import io

    from PIL import Image

    from imaging import render

    a = np.random.default_rng(3).integers(0, 256, (37, 53), dtype=np.uint8)
    body = render.png(a)
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(body))), a)


def test_the_index_task_keeps_no_decrypted_file_in_the_worker(imaging_setup):
    from imaging.cache import pixels

    case, *_ = imaging_setup
    f = attach(case, g.zip_of(g.series_bytes(3)), "s.zip")
    assert index_mri_file.apply(args=[f.pk]).get() == "done"
    assert pixels.current_bytes == 0


def test_a_deflated_zip_member_is_read_from_its_chunks(imaging_setup, monkeypatch):
    import io
    import zipfile

    from imaging.cache import pixels
    from intake import storage

    case, *_ = imaging_setup
    rng = np.random.default_rng(5)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        study, series = "1.2.3.9", "1.2.3.9.1"
        for i in range(20):
            noisy = (g.phantom(256, 256, i, 20) + rng.integers(0, 400, (256, 256), dtype=np.uint16)).astype(np.uint16)
            ds = g.mr_dataset(study_uid=study, series_uid=series, index=i, count=20, pixels=noisy)
            zf.writestr(f"IM{i}", g.to_bytes(ds))
    f = attach(case, buf.getvalue(), "deflated.zip")
    index(f)
    instances = list(ImagingSeries.objects.get().instances.order_by("index"))
    assert all(i.deflated and i.chunk_first is not None for i in instances)
    # Past the first 1 MiB chunk, and one member across a chunk boundary.
    assert max(i.chunk_first for i in instances) >= 1 and max(i.chunk_count for i in instances) == 2
    expected = [services.slice_pixels(i) for i in instances]
    pixels.clear()
    monkeypatch.setattr(storage, "iter_decrypted", lambda *a, **k: (_ for _ in ()).throw(AssertionError("whole read")))
    for inst, want in zip(instances, expected, strict=True):
        assert np.array_equal(services.slice_pixels(inst), want)


@pytest.fixture
def eager_tasks():
    from clinic.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_zip_staff_attach_is_indexed_once_the_attachment_commits(
    imaging_setup, eager_tasks, django_capture_on_commit_callbacks
):
    case, *_ = imaging_setup
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        f = attach(case, g.zip_of(g.series_bytes(4)), "cd.zip")
    assert not IndexedFile.objects.filter(mri_file=f).exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert IndexedFile.objects.get(mri_file=f).state == IndexedFile.State.DONE
    assert ImagingSeries.objects.get(study__case=case).slice_count == 4


def test_a_patients_uploads_are_indexed_when_the_request_is_sent_not_when_first_viewed(
    seeded, eager_tasks, django_capture_on_commit_callbacks
):
    from datetime import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile

    from intake.services.files import mri_file_add
    from intake.services.submission import review_request_submit
    from tests.intake import corpus

    zipped = mri_file_add(uploaded=SimpleUploadedFile("mri.zip", g.zip_of(g.series_bytes(5))), draft_key="d1")
    report = mri_file_add(uploaded=SimpleUploadedFile("report.pdf", corpus.PDF), draft_key="d1")
    answers = dict(
        first_name="Pat", last_name="Example", email="pat@example.com", phone="+13125550142",
        date_of_birth=datetime(1970, 3, 21).date(), contact_method="email", regions=["lower_back"],
        pain_duration="gt_12m", severity=5, mri_status="upload", mri_taken_on=datetime(2026, 6, 1).date(),
        mri_region="lower_back", imaging_centre="Somewhere", consent_privacy=True, consent_email=True,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        case = review_request_submit(answers=answers, draft_key="d1")
    assert IndexedFile.objects.get(mri_file=zipped).state == IndexedFile.State.DONE
    assert ImagingSeries.objects.get(study__case=case).slice_count == 5
    # A PDF report is shown as it is: nothing to index.
    assert not IndexedFile.objects.filter(mri_file=report).exists()
