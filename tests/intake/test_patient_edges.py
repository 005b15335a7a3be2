"""The patient's rough edges from issue #13 point 13, through Django's client:
continuing after a non-emergency red flag, the MRI step's order and wording,
the reference kept whole, phone numbers as links, and the status page's steps."""

import re

import pytest
from django.urls import reverse

from intake.models import ReviewRequest
from intake.status_links import status_link

from .helpers import CONSENT, CONTACT, HISTORY, MRI, PAIN, SAFETY_NO, fill_until, step_url

pytestmark = pytest.mark.django_db


def _continue_link(body):
    return f'href="{step_url("contact")}"' in body


# --- A red flag that is not an emergency -------------------------------------
def test_cancer_history_alone_offers_the_call_back_and_a_way_to_continue(client):
    response = client.post(step_url("safety"), {**SAFETY_NO, "cancer": "yes"}, follow=True)
    body = response.content.decode()
    assert "Please get medical care today" in body
    assert "Call me back urgently" in body  # the call-back is still offered
    assert _continue_link(body)
    assert "Continue my MRI review request" in body


def test_continuing_keeps_the_flag_and_the_case_is_routed_as_urgent(client, seeded, django_capture_on_commit_callbacks):
    from intake.services.routing import case_route

    urgent = client.post(step_url("safety"), {**SAFETY_NO, "cancer": "yes"}, follow=True).content.decode()
    # The continue link on the advice page leads to the next step, with the screen's answers kept.
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*>\s*Continue my MRI review request', urgent)
    assert link, "no continue link"
    response = client.get(link.group(1))
    assert response.status_code == 200 and 'name="first_name"' in response.content.decode()
    for name, data in (("contact", CONTACT), ("pain", PAIN), ("history", HISTORY), ("mri", MRI)):
        assert client.post(step_url(name), data).status_code == 302, name
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(step_url("consent"), CONSENT)
    assert response["Location"] == reverse("intake:submitted")
    case = ReviewRequest.objects.get()
    assert case.kind == "review" and case.red_flags == ["cancer"] and case.is_urgent
    case_route(case_id=case.pk)
    case.refresh_from_db()
    assert case.queue.name == "Urgent clinical call-back"


@pytest.mark.parametrize("flag", ["bladder_bowel", "saddle_numbness", "weakness"])
def test_emergency_flags_keep_the_emergency_advice_first_and_offer_no_continue(client, flag):
    body = client.post(step_url("safety"), {**SAFETY_NO, flag: "yes", "cancer": "yes"}, follow=True).content.decode()
    assert "Please go to an emergency department now" in body
    assert body.index("Please go to an emergency department now") < body.index("Call me back urgently")
    assert not _continue_link(body)


# --- The MRI step ----------------------------------------------------------------
def _mri_page(client, **mri):
    fill_until(client, last="history")
    if mri:
        client.post(step_url("mri"), {**MRI, **mri})
    return client.get(step_url("mri")).content.decode()


def _step_form(body):
    start = body.index('id="step-form"')
    return body[start : body.index("</form>", start)]


def test_the_upload_box_comes_after_the_question_it_depends_on(client):
    body = _mri_page(client)
    question = body.index('name="mri_status"')
    upload_box = body.index('id="files"')
    assert question < upload_box < body.index('name="mri_month"')
    # Inside the step's form, but never a form within a form: its fields
    # belong to the upload form through form="upload-form".
    inner = _step_form(body)
    assert 'id="id_file"' in inner and "<form" not in inner.split(">", 1)[1]
    assert re.search(r'<input[^>]*type="file"[^>]*form="upload-form"', inner)
    assert re.search(r'<button[^>]*form="upload-form"[^>]*>\s*Upload file', inner)
    assert 'id="upload-form"' in body and 'enctype="multipart/form-data"' in body


def test_the_upload_box_is_marked_for_the_upload_choice_only(client):
    body = _mri_page(client)
    assert 'data-show-for="upload"' in body  # steps.js hides it for other answers
    assert "(optional)" not in body


def test_the_upload_box_works_without_javascript(client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from . import corpus

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    _mri_page(client)
    response = client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("scan.pdf", corpus.PDF)}, follow=True)
    body = response.content.decode()
    assert "scan.pdf was uploaded." in body
    # The remove button posts its own small form, also from outside the step's form.
    inner = _step_form(body)
    assert re.search(r'<button[^>]*form="file-actions"[^>]*formaction="/mri-review/upload/\d+/remove/"', inner)
    assert 'id="file-actions"' in body


def test_the_no_file_error_is_marked_so_a_good_upload_clears_it(client):
    fill_until(client, last="history")
    body = client.post(step_url("mri"), {**MRI, "mri_status": "upload"}).content.decode()
    assert "no file is uploaded yet" in body
    assert 'data-no-file-error="' in body


def test_the_history_step_offers_not_sure(client):
    fill_until(client, last="pain")
    body = client.get(step_url("history")).content.decode()
    assert 'value="unsure"' in body
    assert client.post(step_url("history"), {**HISTORY, "diagnoses": ["unsure"]}).status_code == 302


def test_not_told_and_not_sure_together_is_explained(client):
    fill_until(client, last="pain")
    response = client.post(step_url("history"), {**HISTORY, "diagnoses": ["none", "unsure"]})
    assert "and “I am not sure”. Please choose one." in str(response.context["form"].errors["diagnoses"])


# --- The reference, phone numbers, the header ------------------------------------
def _submitted_case(client):
    fill_until(client)
    client.post(step_url("consent"), CONSENT)
    return ReviewRequest.objects.get()


def test_the_reference_is_marked_to_stay_on_one_line(client, seeded):
    case = _submitted_case(client)
    body = client.get(reverse("intake:submitted")).content.decode()
    assert re.search(rf'class="[^"]*\bref\b[^"]*"[^>]*>{case.reference}<', body)
    status = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    assert re.search(rf'class="[^"]*\bref\b[^"]*">{case.reference}<', status)


def test_phone_numbers_are_links(client, settings):
    settings.INTAKE_CLINIC_PHONE = "(312) 555-0100"
    home = client.get("/").content.decode()
    assert 'href="tel:+13125550100"' in home
    safety = client.get(step_url("safety")).content.decode()
    assert 'href="tel:911"' in safety
    urgent = client.post(step_url("safety"), {**SAFETY_NO, "fever": "yes"}, follow=True).content.decode()
    assert 'href="tel:911"' in urgent


def test_a_phone_number_that_cannot_be_parsed_keeps_its_digits():
    from clinic.templatetags.phone import tel_href

    assert tel_href("(555) 010-0199") == "tel:+15550100199"
    assert tel_href("911") == "tel:911"
    assert tel_href("call the front desk") == ""


# --- The status page's steps --------------------------------------------------------
def _steps(body):
    steps = re.search(r'<ol class="status-steps[^"]*"[^>]*>(.*?)</ol>', body, re.S)
    assert steps, "no list of steps"
    items = re.findall(r"<li([^>]*)>(.*?)</li>", steps.group(1), re.S)
    return [(re.sub(r"<[^>]+>|\s+", " ", text).strip(), 'aria-current="step"' in attrs) for attrs, text in items]


@pytest.mark.parametrize(
    ("status", "current"),
    [("submitted", 0), ("triage", 1), ("awaiting_mri", 2), ("mri_received", 2), ("in_review", 3),
     ("needs_more_info", 3), ("candidate", 4), ("not_candidate", 4), ("consult_scheduled", 4)],
)  # fmt: skip
def test_status_page_shows_the_steps_with_the_current_one_marked(client, seeded, status, current):
    case = _submitted_case(client)
    ReviewRequest.objects.filter(pk=case.pk).update(status=status)
    body = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    steps = _steps(body)
    labels = [label for label, _ in steps]
    assert labels[0].startswith("Request received") and labels[2].startswith("Images")
    assert len(steps) == 5
    assert [is_current for _, is_current in steps] == [i == current for i in range(5)]


def test_status_page_shows_no_steps_for_a_request_off_the_path(client, seeded):
    case = _submitted_case(client)
    ReviewRequest.objects.filter(pk=case.pk).update(status="withdrawn")
    body = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    assert "This request was withdrawn" in body
    assert "status-steps" not in body


def test_every_status_is_on_a_step_or_explicitly_off_the_path():
    from intake.patient_steps import OFF_PATH, STEP_OF_STATUS
    from intake.transitions import Status

    assert set(STEP_OF_STATUS) | OFF_PATH == set(Status) and not set(STEP_OF_STATUS) & OFF_PATH


def test_a_request_without_an_mri_has_no_images_step_and_no_talk_of_your_mri(client, seeded):
    case = _submitted_case(client)
    ReviewRequest.objects.filter(pk=case.pk).update(status="in_review", mri_status="none")
    body = client.post(status_link(case), {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()
    labels = [label for label, _ in _steps(body)]
    assert len(labels) == 4 and not any(label.startswith("Images") for label in labels)
    assert "your MRI" not in body and "reviewing your request" in body
