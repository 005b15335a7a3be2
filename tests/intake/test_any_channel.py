"""Issue 23 point 1: any one way to reach the patient is enough (an email, a
mobile for texts, or a phone for calls), each checked in words a patient
understands; the reference and private link go by every channel the patient
allowed; every confirmation (page, email, text) names the channels really used;
texts are notifications, swept and sent at most once as emails are."""

from datetime import timedelta

import pytest
from django.core import mail

from clinic.celery import app
from intake import clock
from intake.forms import NEEDS_EMAIL, NEEDS_MOBILE, NEEDS_PHONE, NO_WAY_TO_REACH, NOT_A_MOBILE
from intake.models import Notification, ReviewRequest
from intake.services import dispatch
from intake.services.notifications import notification_send
from patientloop.models import CallTask
from tests.conftest import broker_down

from .helpers import CONTACT, fill_until, step_url

pytestmark = pytest.mark.django_db

PHONE_ONLY = {**CONTACT, "email": "", "phone": "(312) 555-0177", "contact_method": "text"}


def contact_errors(client, **changes):
    fill_until(client, last="safety")
    response = client.post(step_url("contact"), {**CONTACT, **changes})
    assert response.status_code == 200, "the contact step accepted it"
    return {k: [str(m) for m in v] for k, v in response.context["form"].errors.items()}


def submit(client, contact, **consents):
    fill_until(client, contact=contact)
    payload = {"source": "article", "consent_privacy": "on", **{k: "on" for k in consents}}
    response = client.post(step_url("consent"), payload)
    assert response.status_code == 302, response.content[:800]
    return ReviewRequest.objects.get(), client.get(response["Location"])


def send_all():
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def sms_bodies(settings):
    folder = settings.INTAKE_SMS_DIR
    return [f.read_text() for f in sorted(folder.glob("*.txt"))] if folder.exists() else []


def told_by(response) -> str:
    """The confirmation page's sentence on how the reference was sent, as text."""
    import re

    html = response.content.decode()
    start = html.index('data-testid="told-by"')
    return " ".join(re.sub(r"<[^>]+>", "", html[html.index(">", start) + 1 : html.index("</p>", start)]).split())


# --- Step 2: each way checked, in a patient's words --------------------------------------
def test_no_way_to_reach_at_all_is_a_clear_error(client):
    errors = contact_errors(client, email="", phone="")
    assert errors["email"] == [str(NO_WAY_TO_REACH)] and errors["phone"] == [str(NO_WAY_TO_REACH)]
    assert "any one is enough" in str(NO_WAY_TO_REACH).lower()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"contact_method": "text", "phone": ""}, "phone", NEEDS_MOBILE),
        ({"contact_method": "phone", "phone": ""}, "phone", NEEDS_PHONE),
        ({"contact_method": "email", "email": ""}, "email", NEEDS_EMAIL),
        # A toll-free number cannot take a text: said so, with what to do instead.
        ({"contact_method": "text", "phone": "(800) 555-0199"}, "phone", NOT_A_MOBILE),
    ],
)
def test_the_way_chosen_needs_its_detail(client, changes, field, message):
    assert contact_errors(client, **changes)[field] == [str(message)]


def test_an_invalid_mobile_is_a_clear_error(client):
    errors = contact_errors(client, email="", phone="(312) 555-01", contact_method="text")
    assert errors == {
        "phone": ["This phone number is not complete or not in use. Please check the digits and the area code."]
    }


def test_a_phone_only_patient_may_ask(client):
    case, page = submit(client, PHONE_ONLY, consent_text=True)
    assert (case.email, case.phone, case.contact_method) == ("", "+13125550177", "text")
    assert page.status_code == 200 and case.reference in page.content.decode()


def test_a_call_only_patient_may_ask(client):
    case, _ = submit(client, {**PHONE_ONLY, "contact_method": "phone"}, consent_phone=True)
    assert case.email == "" and case.consent_phone


def test_allowing_a_way_with_nothing_to_reach_it_by_is_refused(client):
    fill_until(client, contact=PHONE_ONLY)
    response = client.post(
        step_url("consent"), {"source": "article", "consent_privacy": "on", "consent_text": "on", "consent_email": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["consent_email"] == [
        "You did not give an email address. Untick this, or go back to step 2 and add one."
    ]
    assert not ReviewRequest.objects.exists()


# --- Every channel the patient allowed, and confirmations that say which -----------------
def test_the_reference_goes_by_every_channel_allowed_each_once(client, settings):
    case, page = submit(client, {**CONTACT, "contact_method": "text"}, consent_text=True, consent_email=True)
    send_all()
    send_all()  # a second run sends nothing more
    rows = Notification.objects.filter(case=case, kind="patient_confirmation")
    assert sorted(rows.values_list("channel", "state")) == [("email", "sent"), ("text", "sent")]
    [email] = [m for m in mail.outbox if m.to == [case.email]]
    [text] = sms_bodies(settings)
    status_path = "/mri-review/status/"
    assert case.reference in email.body and status_path in email.body
    assert f"To: {case.phone}" in text and case.reference in text and status_path in text
    # Each confirmation names both ways.
    assert "by email and by text message" in email.body
    assert "We also sent this by email." in text
    told = told_by(page)
    assert "by email to" in told and "pat@example.com" in told and "by text message to" in told
    assert "(312) 555-0142" in told


def test_a_text_only_patient_who_typed_an_email_is_told_text_not_email(client, settings):
    """The bug in issue 23: "We have also sent it to your email" while the reference went by text."""
    case, page = submit(client, {**CONTACT, "contact_method": "text"}, consent_text=True)
    send_all()
    assert not [m for m in mail.outbox if m.to == [case.email]]
    [text] = sms_bodies(settings)
    assert "We sent this by text message only." in text
    told = told_by(page)
    assert "by text message to" in told and "(312) 555-0142" in told
    assert "email" not in told.lower()


def test_an_email_only_patient_is_told_email_only(client, settings):
    case, page = submit(client, CONTACT, consent_email=True)
    send_all()
    [email] = [m for m in mail.outbox if m.to == [case.email]]
    assert "by email, as you allowed" in email.body and "text message" not in email.body
    assert not sms_bodies(settings)
    told = told_by(page)
    assert "by email to" in told and "text" not in told


def test_a_call_only_patient_sees_the_reference_and_is_told_the_clinic_will_call(client, settings):
    case, page = submit(client, {**PHONE_ONLY, "contact_method": "phone"}, consent_phone=True)
    send_all()
    assert not mail.outbox and not sms_bodies(settings)
    assert case.reference in page.content.decode()
    told = told_by(page)
    assert "we have not emailed or texted it" in told and "will call you on" in told and "(312) 555-0177" in told
    # Staff get a call task with what they need to call.
    task = CallTask.objects.get(case=case, kind="patient_confirmation")
    assert "read out its reference" in task.reason


def test_the_text_follows_the_cases_language(client, settings):
    client.post("/i18n/setlang/", {"language": "es", "next": "/mri-review/"})
    case, _ = submit(client, PHONE_ONLY, consent_text=True)
    assert case.language == "es"
    send_all()
    [text] = sms_bodies(settings)
    assert "recibimos su solicitud" in text.lower() and "Le enviamos esto solo por mensaje de texto." in text


# --- Texts are notifications: the same sweep, at most once -------------------------------
def test_a_text_the_broker_never_took_is_sent_by_the_outbox_sweep_once(
    client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    with broker_down(app), django_capture_on_commit_callbacks(execute=True):
        case, _ = submit(client, PHONE_ONLY, consent_text=True)
    text = Notification.objects.get(case=case, channel="text")
    assert (text.state, text.enqueued_at) == ("pending", None)  # the failed enqueue is not taken for a chain

    enqueued = []
    monkeypatch.setattr(dispatch, "enqueue_now", lambda task, *args, **kw: enqueued.append((task.name, *args)) or True)
    later = clock.now() + timedelta(seconds=settings.INTAKE_OUTBOX_SWEEP_AFTER_SECONDS + 1)
    Notification.objects.filter(pk=text.pk).update(created_at=later - timedelta(minutes=1))
    dispatch.outbox_sweep(now=later)
    dispatch.outbox_sweep(now=later)  # its chain is alive now: not enqueued again
    assert enqueued.count(("intake.tasks.send_notification", text.pk)) == 1
    assert notification_send(notification_id=text.pk) is True
    assert notification_send(notification_id=text.pk) is False
    assert len(sms_bodies(settings)) == 1


def test_the_status_pages_contact_choices_offer_only_the_ways_the_clinic_has_an_address_for(client):
    from intake.status_links import status_link

    case, _ = submit(client, PHONE_ONLY, consent_text=True)
    link = status_link(case)
    client.post(link, {"date_of_birth": CONTACT["date_of_birth"]})
    page = client.get(link).content.decode()
    assert 'name="consent_text"' in page and 'name="consent_phone"' in page
    assert 'name="consent_email"' not in page and 'name="contact_method" value="email"' not in page
    # Saving the choices works with no email.
    response = client.post(link + "contact/", {"consent_text": "on", "consent_phone": "on", "contact_method": "phone"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.consent_text, case.consent_phone, case.consent_email, case.contact_method) == (
        True, True, False, "phone",
    )  # fmt: skip
