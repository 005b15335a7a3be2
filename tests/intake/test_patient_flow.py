"""The patient's path through the views: red flags, drafts, confirmation,
duplicates, bots, rate limits and the status page."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse

from intake.models import CaseEvent, Outbox, ReviewRequest
from intake.status_links import STATUS_SALT, case_for_token, status_link

from .helpers import CONSENT, CONTACT, MRI, SAFETY_NO, fill_until, step_url, submit_complete

pytestmark = pytest.mark.django_db


def test_red_flag_shows_emergency_advice_and_offers_a_call_back(client, seeded):
    response = client.post(step_url("safety"), {**SAFETY_NO, "bladder_bowel": "yes"}, follow=True)
    body = response.content.decode()
    assert "Please go to an emergency department now" in body
    assert "New loss of control of your bladder or bowels" in body

    response = client.post(
        reverse("intake:urgent"),
        {"first_name": "Sam", "last_name": "Urgent", "phone": "(312) 555-0199", "consent_phone": "on"},
    )
    assert response.status_code == 200
    case = ReviewRequest.objects.get()
    assert case.kind == "urgent_callback" and case.is_urgent
    assert case.red_flags == ["bladder_bowel"]
    assert case.phone == "+13125550199"
    assert case.reference in response.content.decode()
    assert Outbox.objects.filter(case=case, state="pending").exists()


def test_same_day_flag_gets_same_day_advice(client):
    response = client.post(step_url("safety"), {**SAFETY_NO, "fever": "yes"}, follow=True)
    body = response.content.decode()
    assert "Please get medical care today" in body
    assert "emergency department now" not in body


def test_call_back_needs_consent_and_a_real_phone(client):
    client.post(step_url("safety"), {**SAFETY_NO, "cancer": "yes"})
    response = client.post(reverse("intake:urgent"), {"first_name": "Sam", "last_name": "U", "phone": "12"})
    errors = response.context["form"].errors
    assert "We need your permission to call you back." in errors["consent_phone"]
    assert errors["phone"]
    assert ReviewRequest.objects.count() == 0


def test_answers_survive_a_refresh_and_the_back_button(client):
    fill_until(client, last="contact")
    response = client.get(step_url("contact"))  # back to a finished step
    html = response.content.decode()
    assert 'value="pat@example.com"' in html and 'value="1970-03-21"' in html
    response = client.get(step_url("pain"))  # reload of the current step
    assert response.status_code == 200


def test_complete_request_creates_case_outbox_and_confirmation(client, seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = submit_complete(client)
    assert response.status_code == 302
    case = ReviewRequest.objects.get()
    assert case.reference.startswith("MR-") and len(case.reference) == 9
    assert case.consent_version and case.consent_ip == "127.0.0.1" and case.consented_at
    assert case.regions == ["lower_back"] and case.treatments == {"physical_therapy": "6w_3m"}
    assert case.mri_taken_on == date(2026, 6, 1)
    assert Outbox.objects.get(case=case).state == "pending"
    assert len(callbacks) == 2  # the confirmation email and the routing task, both after commit
    page = client.get(reverse("intake:submitted")).content.decode()
    assert case.reference in page
    assert "will contact you by" in page  # the promised date from the queue's SLA
    # The link is signed with the second it was made in: read it back from the page, not re-made here.
    [token] = re.findall(r"/mri-review/status/([^/\"']+)/", page)[:1]
    assert case_for_token(token) == case
    assert status_link(case).rsplit(":", 2)[0] == reverse("intake:status", args=[token]).rsplit(":", 2)[0]
    assert "intake_draft" not in client.session


def test_confirmation_email_carries_no_health_information(client, seeded, django_capture_on_commit_callbacks):
    from intake.services.notifications import notification_send

    with django_capture_on_commit_callbacks(execute=False):
        submit_complete(client)
    case = ReviewRequest.objects.get()
    notification_send(notification_id=case.notifications.get().pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    text = (message.subject + message.body).lower()
    assert case.reference.lower() in text
    for word in ("back", "lumbar", "herniated", "disc", "pain level", "severity", "lakeside", "physical therapy"):
        assert word not in text.replace("get back", ""), word


def test_duplicate_is_flagged_and_linked_not_rejected(client, seeded):
    submit_complete(client)
    first = ReviewRequest.objects.get()
    submit_complete(client, contact={"email": "other@example.com"})  # same phone and birth date
    second = ReviewRequest.objects.exclude(pk=first.pk).get()
    assert second.is_duplicate and second.duplicate_of == first
    assert CaseEvent.objects.filter(case=second, kind="duplicate").exists()


def test_not_a_duplicate_with_another_birth_date_or_after_90_days(client, seeded):
    submit_complete(client)
    first = ReviewRequest.objects.get()
    submit_complete(client, contact={"date_of_birth": "1971-03-21"})
    assert not ReviewRequest.objects.exclude(pk=first.pk).get().is_duplicate
    ReviewRequest.objects.update(created_at=first.created_at - timedelta(days=91))
    submit_complete(client)
    assert not ReviewRequest.objects.order_by("-id").first().is_duplicate


def test_honeypot_drops_the_request_quietly(client, seeded):
    fill_until(client)
    response = client.post(step_url("consent"), {**CONSENT, "website": "http://spam.example"})
    assert response.status_code == 302 and response["Location"] == reverse("intake:thanks")
    assert ReviewRequest.objects.count() == 0


def test_too_fast_is_dropped_quietly(client, seeded, settings):
    settings.INTAKE_MIN_FILL_SECONDS = 60
    response = submit_complete(client)
    assert response["Location"] == reverse("intake:thanks")
    assert ReviewRequest.objects.count() == 0


def test_too_many_submissions_get_a_friendly_429(client, seeded, settings):
    settings.INTAKE_SUBMIT_LIMIT_PER_HOUR = 2
    for _ in range(2):
        assert submit_complete(client).status_code == 302
    response = submit_complete(client)
    assert response.status_code == 429
    assert "Please wait a little" in response.content.decode()
    assert ReviewRequest.objects.count() == 2


def _case(client):
    submit_complete(client)
    return ReviewRequest.objects.get()


def test_status_page_asks_for_birth_date_first(client, seeded):
    case = _case(client)
    url = status_link(case)
    page = client.get(url).content.decode()
    assert "confirm your date of birth" in page and case.reference not in page

    wrong = client.post(url, {"date_of_birth": "1980-01-01"})
    assert "does not match" in wrong.content.decode()
    assert case.reference not in wrong.content.decode()

    right = client.post(url, {"date_of_birth": CONTACT["date_of_birth"]})
    body = right.content.decode()
    assert "We have your request" in body and case.reference in body
    for answer in ("lower", "herniated", "Lakeside", "physical"):
        assert answer not in body


def test_status_wrong_answers_are_limited(client, seeded):
    case = _case(client)
    url = status_link(case)
    for _ in range(5):
        client.post(url, {"date_of_birth": "1980-01-01"})
    response = client.post(url, {"date_of_birth": CONTACT["date_of_birth"]})
    assert response.status_code == 429


def test_status_lookups_are_rate_limited_per_address(client, seeded, settings):
    case = _case(client)
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 3
    url = status_link(case)
    codes = [client.get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_status_tampered_and_expired_tokens(client, seeded):
    case = _case(client)
    token = status_link(case).rstrip("/").split("/")[-1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("intake:status", args=[tampered])).status_code == 404
    forged = signing.dumps({"r": case.reference}, salt="another-salt")
    assert client.get(reverse("intake:status", args=[forged])).status_code == 404
    with override_settings(INTAKE_STATUS_TOKEN_MAX_AGE_DAYS=-1):
        response = client.get(reverse("intake:status", args=[token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert signing.loads(token, salt=STATUS_SALT)["r"] == case.reference


def test_source_page_is_recorded_without_query_string(client, seeded):
    client.get(reverse("intake:start") + "?from=/stretching/neck-tilt/%3Fpain%3D9")
    submit_complete(client)
    assert ReviewRequest.objects.get().source_page == "/stretching/neck-tilt/"


def test_cache_outage_does_not_fail_the_patient(client, seeded, settings):
    """Rate limits live in the cache (Redis in production); when it is down
    they fail open and the request still goes through."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = submit_complete(client)
    assert response.status_code == 302 and response["Location"] == reverse("intake:submitted")
    case = ReviewRequest.objects.get()
    url = status_link(case)
    assert client.post(url, {"date_of_birth": "1980-01-01"}).status_code == 200
    assert "We have your request" in client.post(url, {"date_of_birth": CONTACT["date_of_birth"]}).content.decode()


def test_a_reference_clash_is_retried_with_a_new_reference(seeded, monkeypatch):
    from intake.services import submission
    from tests.factories import CaseFactory

    taken = CaseFactory(reference="MR-AAAAAA")
    refs = iter(["MR-AAAAAA", "MR-BBBBBB"])
    monkeypatch.setattr(submission, "new_reference", lambda: next(refs))
    case = submission.review_request_submit(answers={"first_name": "A", "last_name": "B", "email": "a@example.com"})
    assert case.reference == "MR-BBBBBB" and taken.reference == "MR-AAAAAA"


def test_files_removed_after_the_mri_step_send_the_patient_back(client, seeded, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from intake.models import MriFile

    from . import corpus

    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    fill_until(client, last="history")
    client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("a.pdf", corpus.PDF)})
    client.post(step_url("mri"), {**MRI, "mri_status": "upload"})
    client.post(reverse("intake:upload_remove", args=[MriFile.objects.get().pk]))
    response = client.post(step_url("consent"), CONSENT)
    assert response.status_code == 302 and response["Location"] == step_url("mri")
    assert ReviewRequest.objects.count() == 0
