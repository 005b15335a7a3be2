"""Issue 23 point 4: a decision needs the case's images opened by its author
(the viewer's read audit) or a stated reason, refused in the service with a
clear message; the review page carries the viewer and adds rows without a
reload (and, without JavaScript, by posting back with nothing saved)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imaging import services as imaging_services
from imaging.models import ImagingSeries
from intake.models import MriFile, ReviewRequest
from intake.services.files import mri_file_add, mri_file_open
from intake.transitions import Status
from reviews.models import Review, ReviewVersion
from reviews.services import ImagesNotOpened, review_save
from tests.imaging import dicomgen as g
from tests.intake.test_admin_support import PDF, make_case

from .conftest import review_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_images(staff):
    case = make_case(staff.queue_a, status=Status.MRI_RECEIVED)
    mri_file_add(uploaded=SimpleUploadedFile("study.zip", g.zip_of(g.series_bytes(3))), case=case)
    imaging_services.case_index_pending(case=case)
    return case


def _without_reason(decision="candidate"):
    return review_data(decision, no_images_reason="")


def _open_series(case, user):
    series = ImagingSeries.objects.select_related("study__case").get(study__case=case)
    imaging_services.imaging_series_open(series=series, user=user)


def test_a_decision_without_the_images_opened_and_no_reason_is_refused_and_nothing_saved(staff, with_images):
    with pytest.raises(ImagesNotOpened, match="you have not opened this case's images"):
        review_save(case=with_images, author=staff.clinician, data=_without_reason(), expected_version=0)
    assert not ReviewVersion.objects.exists() and not Review.objects.exists()
    assert ReviewRequest.objects.get(pk=with_images.pk).status == Status.MRI_RECEIVED


def test_the_images_opened_by_the_author_let_the_decision_through_and_are_recorded(staff, with_images):
    _open_series(with_images, staff.clinician)
    version = review_save(case=with_images, author=staff.clinician, data=_without_reason(), expected_version=0)
    assert version.images_opened is True and version.no_images_reason == ""
    assert ReviewRequest.objects.get(pk=with_images.pk).status == Status.CANDIDATE


def test_someone_elses_opening_does_not_count_for_the_author(staff, with_images):
    _open_series(with_images, staff.coord_a)
    with pytest.raises(ImagesNotOpened):
        review_save(case=with_images, author=staff.clinician, data=_without_reason(), expected_version=0)


def test_a_stated_reason_lets_a_decision_through_without_the_images_and_is_kept(staff, in_review):
    version = review_save(
        case=in_review,
        author=staff.clinician,
        data=review_data("candidate", no_images_reason="Report only, no images sent."),
        expected_version=0,
    )
    assert version.images_opened is False and version.no_images_reason == "Report only, no images sent."


def test_reading_the_pdf_report_is_not_opening_the_images(staff, in_review):
    report = mri_file_add(uploaded=SimpleUploadedFile("r.pdf", PDF, content_type="application/pdf"), case=in_review)
    imaging_services.imaging_file_view(mri_file=report, user=staff.clinician)
    with pytest.raises(ImagesNotOpened):
        review_save(case=in_review, author=staff.clinician, data=_without_reason(), expected_version=0)


def test_downloading_the_images_from_the_case_page_counts(staff, with_images):
    zip_file = MriFile.objects.get(case=with_images)
    b"".join(mri_file_open(mri_file=zip_file, user=staff.clinician))
    version = review_save(case=with_images, author=staff.clinician, data=_without_reason(), expected_version=0)
    assert version.images_opened is True


# --- The page ---------------------------------------------------------------------
def _post(version=0, **extra):
    data = {
        "version": version,
        "impression": "Worn discs at the bottom of the back.",
        "decision": "candidate",
        "decision_detail": "",
        "next_step": "A consultation with our surgeon.",
        "no_images_reason": "",
        "f-TOTAL_FORMS": "1",
        "f-INITIAL_FORMS": "0",
        "f-MIN_NUM_FORMS": "0",
        "f-MAX_NUM_FORMS": "1000",
        "f-0-level": "L4-5",
        "f-0-herniation": "on",
        "f-0-herniation_side": "left",
    }
    data.update(extra)
    return data


def _url(case):
    return reverse("admin:reviews_case_review", args=[case.pk])


def test_the_page_says_why_a_decision_was_refused(client, staff, in_review):
    client.force_login(staff.clinician)
    response = client.post(_url(in_review), _post())
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("you have not opened this case's images" in m and "report only, no images sent" in m for m in messages)
    assert not ReviewVersion.objects.exists()
    assert "Worn discs at the bottom" in response.content.decode(), "the form comes back as written"


def test_the_page_shows_the_viewer_beside_the_form_and_opening_it_counts(client, staff, with_images):
    client.force_login(staff.clinician)
    html = client.get(_url(with_images)).content.decode()
    assert 'id="imaging-viewer"' in html and 'id="review-form"' in html
    assert 'id="imaging-initial"' in html, "the first series opens with the page (audited)"
    assert "You have opened this case's images" in html
    response = client.post(_url(with_images), _post())
    assert response.status_code == 302
    assert ReviewVersion.objects.get().images_opened is True


def test_add_a_level_without_javascript_posts_back_one_more_row_and_saves_nothing(client, staff, in_review):
    client.force_login(staff.clinician)
    response = client.post(_url(in_review), _post(add_finding="1"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="f-TOTAL_FORMS" value="2"' in html and 'id="id_f-1-level"' in html
    assert 'name="f-0-level"' in html and '<option value="L4-5" selected>' in html
    assert not ReviewVersion.objects.exists()
    assert not [str(m) for m in response.context["messages"]]


def test_the_page_carries_the_empty_row_template_for_adding_rows(client, staff, in_review):
    client.force_login(staff.clinician)
    html = client.get(_url(in_review)).content.decode()
    assert '<template id="finding-empty">' in html and 'id="id_f-__prefix__-level"' in html
    assert 'name="f-TOTAL_FORMS" value="1"' in html and 'id="add-finding"' in html


def test_the_viewer_links_a_clinician_to_the_review_beside_the_images(client, staff, with_images):
    viewer = reverse("admin:imaging_viewer", args=[with_images.pk])
    client.force_login(staff.clinician)
    assert _url(with_images) in client.get(viewer).content.decode()
    client.force_login(staff.coord_a)
    assert 'id="review-beside-images"' not in client.get(viewer).content.decode()
