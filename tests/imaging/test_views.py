"""The staff imaging views: scoped like the case page, PNG slices that change
with the window, one audit entry per series opened, the header check and
its warning, confirm and detach, staff attach moving the status."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from clinic.models import AuditEntry
from imaging import services
from imaging.models import ImagingSeries, ImagingStudy
from imaging.selectors import case_imaging_flags, cases_with_imaging_flags, mri_age_months
from intake.models import CaseEvent, MriFile, ReviewRequest

from . import dicomgen as g
from .conftest import attach, is_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def zip_case(imaging_setup, client):
    case, coordinator, outsider = imaging_setup
    attach(case, g.zip_of(g.series_bytes(20)), "study.zip")
    client.force_login(coordinator)
    return case, coordinator, outsider, client


def _series(case):
    return ImagingSeries.objects.get(study__case=case)


def _pixels(body: bytes):
    return Image.open(io.BytesIO(body)).tobytes()


def test_viewer_page_indexes_lazily_and_shows_headers_beside_the_case(zip_case):
    case, _, _, client = zip_case
    response = client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    assert response.status_code == 200
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    html = response.content.decode()
    assert "Example^Pat" in html and "Synthetic Imaging Centre" in html and "1970-03-21" in html
    assert "LSPINE" in html and "20 slices" in html
    assert 'src="/static/imaging/viewer.js"' in html and "<script>" not in html
    assert "Check the patient" not in html  # names and dates agree


def test_another_queues_coordinator_gets_404_everywhere(zip_case):
    case, _, outsider, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    client.force_login(outsider)
    for url in (
        reverse("admin:imaging_viewer", args=[case.pk]),
        reverse("admin:imaging_series", args=[case.pk, series.pk]),
        reverse("admin:imaging_slice", args=[case.pk, series.pk, 0]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("admin:imaging_attach", args=[case.pk]), {"reason": "x"}).status_code == 404
    assert not AuditEntry.objects.filter(summary__contains="series").exists()


def test_series_from_another_case_is_404(zip_case, imaging_setup):
    case, coordinator, _, client = zip_case
    services.case_index_pending(case=case)
    from tests.factories import CaseFactory

    other = CaseFactory(queue=case.queue, status="awaiting_mri")
    assert client.get(reverse("admin:imaging_series", args=[other.pk, _series(case).pk])).status_code == 404


def test_slices_are_pngs_that_change_with_the_window_and_the_slice(zip_case):
    case, _, _, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    manifest = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).json()
    assert len(manifest["slices"]) == 20 and manifest["window"] == {"center": 600, "width": 1200}
    base = manifest["slice_base"]
    narrow = client.get(f"{base}/5.png?wc=300&ww=200")
    wide = client.get(f"{base}/5.png?wc=600&ww=2000")
    other_slice = client.get(f"{base}/15.png?wc=600&ww=2000")
    for r in (narrow, wide, other_slice):
        assert r.status_code == 200 and r["Content-Type"] == "image/png" and is_png(r.content)
        assert {"private", "no-store"} <= set(r["Cache-Control"].replace(" ", "").split(","))
    assert Image.open(io.BytesIO(wide.content)).size == (64, 64)
    assert _pixels(narrow.content) != _pixels(wide.content)
    assert _pixels(wide.content) != _pixels(other_slice.content)
    assert client.get(f"{base}/20.png").status_code == 404


def test_one_audit_entry_per_series_opened_not_per_slice(zip_case):
    case, coordinator, _, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    before = AuditEntry.objects.count()
    base = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).json()["slice_base"]
    for i in range(20):
        assert client.get(f"{base}/{i}.png").status_code == 200
    entries = AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk}")
    assert entries.count() == 1 and AuditEntry.objects.count() == before + 1
    entry = entries.get()
    assert entry.actor == coordinator and entry.object_ref == case.reference
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FILE_ACCESS).count() == 1


def test_a_slice_without_its_manifest_still_records_the_opening_once(zip_case):
    case, _, _, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    for i in (0, 1, 2):
        assert client.get(reverse("admin:imaging_slice", args=[case.pk, series.pk, i])).status_code == 200
    assert AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk}").count() == 1


def _initial_manifest(html: str):
    import json
    import re

    found = re.search(r'<script id="imaging-initial" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_the_page_opens_its_first_series_once_and_carries_its_manifest(zip_case):
    """The page's first request is slice 0: the manifest is in the page (a JSON
    data block, not a script), and the page records the opening, once."""
    case, coordinator, _, client = zip_case
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    series = _series(case)
    initial = _initial_manifest(html)
    assert initial is not None and initial["series"] == series.pk and len(initial["slices"]) == 20
    assert initial["window"] == {"center": 600, "width": 1200}
    assert "<script>" not in html
    # Slice 0 in the series' window is preloaded: exactly the URL viewer.js asks for first.
    first_slice = f"{initial['slice_base']}/0.png?wc=600&amp;ww=1200"
    assert f'<link rel="preload" href="{first_slice}" as="fetch" crossorigin>' in html
    opened = AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk} ")
    assert opened.count() == 1 and opened.get().actor == coordinator
    for i in range(3):
        assert client.get(f"{initial['slice_base']}/{i}.png?wc=600&ww=1200").status_code == 200
    assert opened.count() == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FILE_ACCESS).count() == 1
    # Reloading the page opens the series again: a new entry, as the manifest does.
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    assert opened.count() == 2


def test_the_preloaded_first_slice_url_rounds_the_window_as_the_script_does():
    """viewer.js asks for Math.round(centre) and Math.round(width || 1)."""
    from imaging.views import _first_slice_url

    def url(center, width):
        return _first_slice_url({"slice_base": "/s", "window": {"center": center, "width": width}})

    assert url(600.0, 1200.0) == "/s/0.png?wc=600&ww=1200"
    assert url(2.5, 0) == "/s/0.png?wc=3&ww=1"  # Math.round(2.5) is 3; a width of 0 is 1
    assert url(-2.5, 99.49) == "/s/0.png?wc=-2&ww=99"  # Math.round(-2.5) is -2


def test_a_page_that_cannot_read_its_first_series_leaves_it_to_the_manifest(zip_case, monkeypatch):
    """No window in the headers and the storage down: the page still shows, without
    the manifest and without recording an opening; the manifest request says why."""
    from intake import storage

    case, _, _, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    ImagingSeries.objects.filter(pk=series.pk).update(window_center=None, window_width=None)

    def down(*args, **kwargs):
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(services, "slice_pixels", down)
    response = client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    assert response.status_code == 200 and _initial_manifest(response.content.decode()) is None
    assert 'rel="preload"' not in response.content.decode()
    assert f'data-initial="{reverse("admin:imaging_series", args=[case.pk, series.pk])}"' in response.content.decode()
    assert not AuditEntry.objects.filter(summary__startswith=f"Viewed MRI series #{series.pk} ").exists()
    assert client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).status_code == 503


def test_undecodable_series_answers_its_reason(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.undecodable(2)), "bad.zip")
    client.force_login(coordinator)
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    series = _series(case)
    assert "Cannot be shown" in html and "JPEG 2000" in html
    response = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk]))
    assert response.status_code == 422 and "JPEG 2000" in response.json()["error"]


def test_name_mismatch_warns_on_case_page_and_list_marker(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2, name="Someone^Else")), "wrong.zip")
    client.force_login(coordinator)
    viewer = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    assert "Check the patient" in viewer and "differs" in viewer
    page = client.get(reverse("admin:intake_reviewrequest_change", args=[case.pk])).content.decode()
    assert "Check the patient" in page and reverse("admin:imaging_viewer", args=[case.pk]) in page
    flagged = cases_with_imaging_flags(ReviewRequest.objects.filter(pk=case.pk)).get()
    assert flagged.imaging_mismatch is True and flagged.imaging_old is False


def test_birth_date_mismatch_warns_and_confirm_clears_it(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2, name="EXAMPLE^PAT^^^", birth_date="19710321")), "d.zip")
    client.force_login(coordinator)
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    study = ImagingStudy.objects.get(case=case)
    assert study.name_matches is True and study.birth_date_matches is False
    assert case_imaging_flags(case).mismatch
    response = client.post(reverse("admin:imaging_study_confirm", args=[case.pk, study.pk]))
    assert response.status_code == 302
    assert not case_imaging_flags(case).mismatch
    assert AuditEntry.objects.filter(summary=f"Confirmed imaging study #{study.pk} as the patient's").count() == 1


def test_detach_unlinks_the_files_with_audit(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    f = attach(case, g.zip_of(g.series_bytes(2, name="Someone^Else")), "wrong.zip")
    client.force_login(coordinator)
    client.get(reverse("admin:imaging_viewer", args=[case.pk]))
    study = ImagingStudy.objects.get(case=case)
    url = reverse("admin:imaging_study_detach", args=[case.pk, study.pk])
    client.post(url, {})  # without the tick: nothing changes
    assert MriFile.objects.get(pk=f.pk).case_id == case.pk
    client.post(url, {"sure": "on"})
    f.refresh_from_db()
    assert f.case_id is None and f.draft_key == f"detached:{case.reference}"
    assert not ImagingStudy.objects.filter(case=case).exists()
    assert not case_imaging_flags(case).mismatch
    assert AuditEntry.objects.filter(summary__startswith=f"Detached MRI files #{f.pk}").count() == 1


def test_old_study_flags_new_imaging_and_sets_the_mri_age(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    attach(case, g.zip_of(g.series_bytes(2, study_date="20230110")), "old.zip")
    client.force_login(coordinator)
    html = client.get(reverse("admin:imaging_viewer", args=[case.pk])).content.decode()
    assert "new imaging may be needed" in html
    assert case_imaging_flags(case).old_study
    assert mri_age_months(case) > 12  # the study date, not the month the patient typed (2026-06)
    assert cases_with_imaging_flags(ReviewRequest.objects.filter(pk=case.pk)).get().imaging_old


def test_staff_attach_checks_encrypts_and_moves_to_mri_received(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    client.force_login(coordinator)
    data = g.zip_of(g.series_bytes(3))
    response = client.post(
        reverse("admin:imaging_attach", args=[case.pk]), {"files": [SimpleUploadedFile("cd.zip", data)]}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "mri_received" and case.mri_received_at is not None
    f = MriFile.objects.get(case=case)
    assert f.file_type == "zip" and f.size == len(data)
    from intake import storage

    assert data[:64] not in storage.path_for(f.stored_name).read_bytes()  # encrypted at rest
    assert AuditEntry.objects.filter(summary=f"Attached MRI file #{f.pk} (zip) for the patient").count() == 1


def test_staff_attach_refuses_a_non_image_and_changes_nothing(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    client.force_login(coordinator)
    bad = SimpleUploadedFile("notes.zip", b"hello, not a scan")
    client.post(reverse("admin:imaging_attach", args=[case.pk]), {"files": [bad]})
    case.refresh_from_db()
    assert case.status == "awaiting_mri" and not MriFile.objects.filter(case=case).exists()


def test_mri_received_without_a_file_needs_a_reason(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    client.force_login(coordinator)
    client.post(reverse("admin:imaging_attach", args=[case.pk]), {"reason": ""})
    case.refresh_from_db()
    assert case.status == "awaiting_mri"
    client.post(reverse("admin:imaging_attach", args=[case.pk]), {"reason": "Films seen at the imaging centre"})
    case.refresh_from_db()
    assert case.status == "mri_received"
    assert case.events.filter(to_status="mri_received", body="Films seen at the imaging centre").exists()


def test_pdf_report_is_drawn_as_png_pages_without_serving_the_pdf(imaging_setup, client):
    import pypdfium2 as pdfium

    case, coordinator, _ = imaging_setup
    doc = pdfium.PdfDocument.new()
    doc.new_page(300, 400)
    doc.new_page(300, 400)
    buf = io.BytesIO()
    doc.save(buf)
    f = attach(case, buf.getvalue(), "report.pdf")
    client.force_login(coordinator)
    manifest = client.get(reverse("admin:imaging_file", args=[case.pk, f.pk])).json()
    assert manifest["pages"] == 2
    page = client.get(f"{manifest['page_base']}/2.png")
    assert page.status_code == 200 and is_png(page.content) and page["Content-Type"] == "image/png"
    assert client.get(f"{manifest['page_base']}/3.png").status_code == 404
    assert AuditEntry.objects.filter(summary__startswith=f"Viewed MRI file #{f.pk}").count() == 1


def test_jpeg_is_reencoded_as_png(imaging_setup, client):
    case, coordinator, _ = imaging_setup
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    f = attach(case, buf.getvalue(), "photo.jpg")
    client.force_login(coordinator)
    base = client.get(reverse("admin:imaging_file", args=[case.pk, f.pk])).json()["page_base"]
    body = client.get(f"{base}/1.png").content
    assert is_png(body) and Image.open(io.BytesIO(body)).size == (40, 30)


def test_a_warm_slice_costs_a_fixed_few_queries(zip_case, django_assert_max_num_queries):
    """Session, user, permissions (2), and the slice joined to its visible case."""
    case, _, _, client = zip_case
    services.case_index_pending(case=case)
    series = _series(case)
    base = client.get(reverse("admin:imaging_series", args=[case.pk, series.pk])).json()["slice_base"]
    client.get(f"{base}/0.png")
    for i in (1, 19):
        with django_assert_max_num_queries(5):
            assert client.get(f"{base}/{i}.png").status_code == 200
