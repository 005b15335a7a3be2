"""Issue 15 point 4: contact only through the channels the patient agreed to,
status updates combined, texts sent at most once through a pluggable backend."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from clinic.sms import SmsError
from intake import clock
from intake.models import Notification, ReviewRequest
from intake.services.lifecycle import case_transition
from intake.services.notifications import notification_send
from intake.services.routing import case_route
from intake.transitions import Status
from patientloop.channels import CALL, EMAIL, TEXT, patient_channels
from patientloop.models import CallTask, PendingUpdate
from patientloop.services.contact import patient_update_request, patient_updates_dispatch
from tests.factories import CaseFactory
from tests.intake.helpers import CONTACT, fill_until, step_url
from tests.intake.test_admin_support import make_case

from .conftest import sms_files

WINDOW = timedelta(seconds=180)
# "MRI received" without a file needs its reason written (issue 14, point 3).
FILMS_SEEN = "Films seen at the imaging centre"


def _deliver_everything(captured=None):
    """Send every pending email and text as the workers would."""
    for pk in Notification.objects.filter(state="pending").values_list("pk", flat=True):
        notification_send(notification_id=pk)


def _texts(**filters):
    return Notification.objects.filter(channel="text", **filters)


def _submit(client, contact_method, **consents):
    fill_until(client, contact={"contact_method": contact_method})
    payload = {"source": "article", "consent_privacy": "on", **{k: "on" for k, v in consents.items() if v}}
    response = client.post(step_url("consent"), payload)
    assert response.status_code == 302, response.content[:500]
    case = ReviewRequest.objects.get()
    case_route(case_id=case.pk)
    return ReviewRequest.objects.get(pk=case.pk)


def _patient_emails(case):
    return [m for m in mail.outbox if case.email in m.to]


def test_a_phone_only_patient_gets_no_email_and_no_text_and_the_coordinator_a_call_task(client, seeded, settings):
    case = _submit(client, "phone", consent_phone=True)
    assert case.email == CONTACT["email"] and case.phone  # addresses given, consent not
    # Status updates too: asked for the MRI, then it arrives.
    case_transition(case_id=case.pk, to_status=Status.AWAITING_MRI)
    case_transition(case_id=case.pk, to_status=Status.MRI_RECEIVED, note=FILMS_SEEN)  # no file: its written reason
    assert patient_updates_dispatch(now=clock.now() + WINDOW + timedelta(seconds=1)) == 1
    _deliver_everything()

    assert not _patient_emails(case)
    assert not Notification.objects.filter(case=case, recipient=case.email).exists()
    assert not _texts().exists() and not sms_files(settings)
    tasks = CallTask.objects.filter(case=case, done_at__isnull=True)
    assert {t.kind for t in tasks} == {"patient_confirmation", "patient_status"}
    # Visible on the case's timeline and in the admin's list of call tasks.
    assert case.events.filter(summary__startswith="Call task").count() == 2


def test_a_text_only_patient_gets_a_text_and_no_email(client, seeded, settings):
    case = _submit(client, "text", consent_text=True)
    case_transition(case_id=case.pk, to_status=Status.AWAITING_MRI)
    patient_updates_dispatch(now=clock.now() + WINDOW + timedelta(seconds=1))
    _deliver_everything()

    assert not _patient_emails(case)
    assert not CallTask.objects.exists()
    texts = _texts(case=case).order_by("pk")
    assert [t.kind for t in texts] == ["patient_confirmation", "patient_status"]
    assert all(t.state == "sent" and t.recipient == case.phone for t in texts)
    files = sms_files(settings)
    assert len(files) == 2
    bodies = [f.read_text() for f in files]
    assert all(f"To: {case.phone}" in b and case.reference in b and "/mri-review/status/" in b for b in bodies)
    # No health data in a text: not the region, not the imaging centre, not the name.
    assert not any("Lakeside" in b or "lower" in b.lower() or "Example" in b for b in bodies)


@pytest.mark.parametrize(
    ("consents", "method", "expected"),
    [
        ({"consent_email": True}, "email", [EMAIL]),
        ({"consent_text": True}, "text", [TEXT]),
        ({"consent_phone": True}, "phone", [CALL]),
        # Every written channel the patient agreed to, whichever they prefer (issue 23).
        ({"consent_email": True, "consent_text": True}, "text", [EMAIL, TEXT]),
        ({"consent_email": True, "consent_text": True}, "email", [EMAIL, TEXT]),
        ({"consent_email": True, "consent_phone": True}, "phone", [EMAIL]),
        ({"consent_text": True, "consent_phone": True}, "phone", [TEXT]),
        ({}, "email", []),
    ],
)
def test_the_channels_follow_consent(db, consents, method, expected):
    fields = {"consent_email": False, "consent_text": False, "consent_phone": False, **consents}
    case = CaseFactory.build(contact_method=method, **fields)
    assert patient_channels(case) == expected


def test_no_written_channel_without_its_address(db):
    case = CaseFactory.build(consent_email=True, email="", consent_text=True, phone="", consent_phone=True)
    assert patient_channels(case) == []


def test_two_updates_3_s_apart_make_one_message(staff, mailoutbox):
    case = make_case(staff.queue_a, status=Status.TRIAGE, email="pat@example.com")
    t0 = clock.now()
    patient_update_request(case=case, now=t0)
    patient_update_request(case=case, now=t0 + timedelta(seconds=3))
    # Not before the quiet time after the second one...
    assert patient_updates_dispatch(now=t0 + WINDOW + timedelta(seconds=2)) == 0
    # ...then once.
    assert patient_updates_dispatch(now=t0 + WINDOW + timedelta(seconds=3)) == 1
    assert patient_updates_dispatch(now=t0 + 2 * WINDOW) == 0
    _deliver_everything()
    updates = [m for m in mailoutbox if m.to == ["pat@example.com"]]
    assert len(updates) == 1 and case.reference in updates[0].subject
    assert PendingUpdate.objects.get(case=case).combined == 2


def test_two_status_changes_in_a_row_reach_the_patient_once(staff, mailoutbox):
    case = make_case(staff.queue_a, status=Status.TRIAGE)
    case_transition(case_id=case.pk, to_status=Status.AWAITING_MRI)
    case_transition(case_id=case.pk, to_status=Status.MRI_RECEIVED, note=FILMS_SEEN)  # no file: its written reason
    assert not Notification.objects.filter(case=case, kind="patient_status").exists()  # held
    patient_updates_dispatch(now=clock.now() + WINDOW + timedelta(seconds=1))
    assert Notification.objects.filter(case=case, kind="patient_status").count() == 1


def test_a_busy_case_is_told_within_three_windows(staff):
    case = make_case(staff.queue_a)
    t0 = clock.now()
    for minute in range(0, 12):  # an update every minute for 12 minutes
        patient_update_request(case=case, now=t0 + timedelta(minutes=minute))
    assert PendingUpdate.objects.get(case=case).send_after == t0 + 3 * WINDOW


def test_a_purged_or_unconsented_case_is_told_nothing(staff):
    case = make_case(staff.queue_a, consent_email=False, consent_text=False, consent_phone=False)
    patient_update_request(case=case)
    patient_updates_dispatch(now=clock.now() + WINDOW * 2)
    assert not Notification.objects.filter(case=case).exists()
    assert not CallTask.objects.exists()


# --- Texts: intake's notifications on the text channel, at most once, through the
# --- backend chosen by INTAKE_SMS_URL ----------------------------------------------------
@pytest.fixture
def pending_text(staff):
    case = make_case(staff.queue_a, consent_email=False, consent_text=True, contact_method="text")
    patient_update_request(case=case)
    patient_updates_dispatch(now=clock.now() + WINDOW * 2)
    return _texts(case=case).get()


class _Provider(BaseHTTPRequestHandler):
    answers: list = []
    received: list = []

    def do_POST(self):  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"auth": self.headers.get("Authorization"), "json": json.loads(body)})
        status, payload = type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(payload).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings):
    _Provider.answers, _Provider.received = [], []
    server = HTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.INTAKE_SMS_URL = f"http://clinic:s3cret@127.0.0.1:{server.server_port}/v1/messages"
    yield _Provider
    server.shutdown()
    server.server_close()


def test_the_http_backend_posts_to_the_provider_once(pending_text, provider, settings):
    provider.answers.append((201, {"id": "SM123"}))
    assert notification_send(notification_id=pending_text.pk) is True
    assert notification_send(notification_id=pending_text.pk) is False  # already sent: never twice
    assert len(provider.received) == 1
    sent = provider.received[0]
    assert sent["auth"] == "Basic Y2xpbmljOnMzY3JldA=="  # clinic:s3cret
    assert sent["json"]["to"] == pending_text.recipient
    assert pending_text.case.reference in sent["json"]["body"]
    pending_text.refresh_from_db()
    assert pending_text.state == "sent" and pending_text.provider_id == "SM123"
    assert not sms_files(settings)


def test_a_refused_text_is_given_back_and_sent_once_later(pending_text, provider):
    provider.answers.extend([(503, {"error": "busy"}), (200, {})])
    with pytest.raises(SmsError):
        notification_send(notification_id=pending_text.pk)
    pending_text.refresh_from_db()
    assert pending_text.state == "pending" and pending_text.attempts == 1
    assert notification_send(notification_id=pending_text.pk) is True
    pending_text.refresh_from_db()
    assert pending_text.state == "sent" and len(provider.received) == 2


def test_the_claim_is_committed_before_the_text_is_handed_over(pending_text, monkeypatch):
    seen = {}

    class Spy:
        def send(self, *, to, body):
            seen["state"] = Notification.objects.get(pk=pending_text.pk).state
            return "x"

    monkeypatch.setattr("intake.services.notifications.sms_backend", lambda: Spy())
    assert notification_send(notification_id=pending_text.pk)
    assert seen["state"] == "sending"


def test_a_lost_mark_after_the_text_went_out_never_sends_it_again(pending_text, monkeypatch, settings):
    from intake.services import notifications

    def broken_mark(*args):
        raise RuntimeError("database gone")

    monkeypatch.setattr(notifications, "_mark_sent", broken_mark)
    with pytest.raises(notifications.DeliveredButUnmarked):
        notification_send(notification_id=pending_text.pk)
    monkeypatch.undo()
    assert notification_send(notification_id=pending_text.pk) is False  # still "sending": not resent
    assert notification_send(notification_id=pending_text.pk, delivered=True) is False  # the retry writes the mark
    pending_text.refresh_from_db()
    assert pending_text.state == "sent" and len(sms_files(settings)) == 1


def test_an_unconfirmed_text_is_reported_once_and_never_resent(pending_text, settings):
    from intake.models import SystemAlert
    from intake.services.dispatch import outbox_sweep

    Notification.objects.filter(pk=pending_text.pk).update(
        state="sending", claimed_at=clock.now() - timedelta(minutes=11)
    )
    outbox_sweep()
    outbox_sweep()
    pending_text.refresh_from_db()
    assert pending_text.state == "failed"
    assert SystemAlert.objects.filter(key__startswith="notifications-unconfirmed:").count() == 1
    assert notification_send(notification_id=pending_text.pk) is False and not sms_files(settings)


def test_the_tasks_run_twice_send_once(pending_text, settings):
    import json as _json

    from intake.tasks import send_notification
    from patientloop.tasks import dispatch_patient_updates

    args = _json.loads(_json.dumps([pending_text.pk]))  # ids only: they survive a JSON round trip
    send_notification.apply(args=args)
    send_notification.apply(args=args)
    assert len(sms_files(settings)) == 1
    assert dispatch_patient_updates.apply().get() == 0  # nothing more held


def test_without_a_text_provider_in_production_a_text_patient_is_not_written_to_a_file(staff, settings):
    settings.INTAKE_SMS_FILE_BACKEND_ALLOWED = False
    settings.INTAKE_SMS_URL = ""
    texts_and_calls = make_case(
        staff.queue_a, consent_email=False, consent_text=True, consent_phone=True, contact_method="text"
    )
    texts_only = make_case(staff.queue_a, consent_email=False, consent_text=True, consent_phone=False)
    for case in (texts_and_calls, texts_only):
        patient_update_request(case=case)
    patient_updates_dispatch(now=clock.now() + WINDOW * 2)
    assert not _texts().exists() and not sms_files(settings)
    assert CallTask.objects.filter(case=texts_and_calls).count() == 1  # the other way they allowed
    assert texts_only.events.filter(summary__startswith="Not sent").exists()  # staff see why
