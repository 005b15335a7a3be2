"""Issue 11: no 500 for a database blip, nothing doubled, a full disk is a clear
message, one clock for escalation, workers that survive a database restart."""

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from intake import clock
from intake.models import CaseEvent, MriFile, Notification, Outbox, ReviewRequest, SystemAlert
from intake.services.notifications import DeliveredButUnmarked, notification_send
from intake.services.submission import review_request_submit
from tests.factories import CaseFactory, UserFactory
from tests.support.processes import django_process_env

from . import corpus
from .helpers import CONSENT, fill_until, step_url
from .test_routing_reliability import ANSWERS

ROOT = Path(__file__).resolve().parents[2]


def quiet_client():
    """A browser's view: a server error is a response, not an exception in the test."""
    return Client(raise_request_exception=False)


# --- The final step, resent after a failure, never makes a second case ----------
@pytest.mark.django_db
def test_consent_resent_after_the_session_save_failed_shows_the_first_case(seeded):
    client = quiet_client()
    fill_until(client)
    from clinic.sessions import SessionStore

    real_save = SessionStore._save
    with mock.patch.object(SessionStore, "_save", side_effect=OperationalError("the connection is closed")):
        response = client.post(step_url("consent"), CONSENT)
    # The case was saved, the session was not: the patient sees "nothing lost", not a 500.
    assert response.status_code == 503
    assert b"Nothing you sent was lost" in response.content
    assert ReviewRequest.objects.count() == 1
    assert SessionStore._save is real_save

    response = client.post(step_url("consent"), CONSENT)  # the patient presses Send again
    assert response.status_code == 302 and response["Location"] == reverse("intake:submitted")
    case = ReviewRequest.objects.get()
    page = client.get(reverse("intake:submitted"))
    assert case.reference in page.content.decode()
    assert Notification.objects.filter(case=case, kind="patient_confirmation").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_draft_sent_twice_at_once_makes_one_case(seeded_tx):
    import threading

    results, errors = [], []

    def send():
        from django.db import connections

        try:
            results.append(review_request_submit(answers=ANSWERS, submission_key="draft-abc").pk)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert ReviewRequest.objects.count() == 1


@pytest.mark.django_db
def test_an_urgent_callback_resent_makes_one_case(seeded):
    client = quiet_client()
    from .helpers import SAFETY_NO

    client.post(step_url("safety"), {**SAFETY_NO, "cancer": "yes"})
    form = {"first_name": "Ana", "last_name": "Ruiz", "phone": "(312) 555-0199", "consent_phone": "on"}
    from clinic.sessions import SessionStore

    with mock.patch.object(SessionStore, "_save", side_effect=OperationalError("gone")):
        assert client.post(reverse("intake:urgent"), form).status_code == 503
    assert client.post(reverse("intake:urgent"), form).status_code == 200
    assert ReviewRequest.objects.filter(kind="urgent_callback").count() == 1


# --- A blip is retried once; what still fails is a 503, JSON for the script ------
def test_a_step_that_meets_a_dropped_connection_is_retried_once(seeded_tx):
    client = quiet_client()
    fill_until(client, last="safety")
    from clinic.sessions import SessionStore

    real = SessionStore._load_row
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(self)

    with mock.patch.object(SessionStore, "_load_row", flaky):
        response = client.post(step_url("contact"), fill_contact())
    assert response.status_code == 302, response.content[:500]
    assert len(calls) == 2


def fill_contact():
    from .helpers import CONTACT

    return CONTACT


def test_a_view_failing_twice_gets_503_and_json_for_the_upload_script(seeded_tx):
    client = quiet_client()
    with mock.patch("intake.views._skipped_to", side_effect=OperationalError("down")) as broken:
        response = client.post(step_url("safety"), {})
        assert broken.call_count == 2  # tried once more on a fresh connection
    assert response.status_code == 503 and response["Retry-After"] == "30"
    fill_until(client, last="safety")
    with mock.patch("intake.views.mri_file_add", side_effect=OperationalError("down")):
        response = client.post(
            reverse("intake:upload"),
            {"file": SimpleUploadedFile("scan.png", corpus.png())},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 503
    assert response.json()["ok"] is False and "Nothing you sent was lost" in response.json()["error"]


@pytest.mark.django_db
def test_a_real_bug_is_still_a_500(seeded):
    client = quiet_client()
    with mock.patch("intake.views._skipped_to", side_effect=KeyError("bug")):
        response = client.post(step_url("safety"), {})
    assert response.status_code == 500


@pytest.mark.django_db(transaction=True)
def test_a_killed_connection_mid_request_is_replaced(seeded_tx):
    """For real on PostgreSQL: the server ends this process's session between
    two statements of one request; the step still succeeds."""
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL; CI runs this on PostgreSQL")
    client = quiet_client()
    fill_until(client, last="safety")
    from clinic.sessions import SessionStore

    real = SessionStore._load_row
    killed = []

    def kill_then_load(self):
        if not killed:
            killed.append(1)
            with connection.cursor() as cur:  # the server drops us: the next statement fails
                cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return real(self)

    with mock.patch.object(SessionStore, "_load_row", kill_then_load):
        response = client.post(step_url("contact"), fill_contact())
    assert killed and response.status_code == 302


# --- Notifications: at most once, whatever fails between send and mark ----------
@pytest.fixture
def pending_note(db):
    case = CaseFactory(email="pat@example.com")
    return Notification.objects.create(
        case=case, kind="patient_confirmation", recipient="pat@example.com", dedupe_key=f"t:{case.pk}"
    )


def test_the_claim_is_committed_before_the_mail_is_handed_over(pending_note, mailoutbox):
    states = []

    def spy_send(*args, **kwargs):
        states.append(Notification.objects.get(pk=pending_note.pk).state)
        return 1

    with mock.patch("intake.services.notifications.send_mail", spy_send):
        assert notification_send(notification_id=pending_note.pk)
    assert states == ["sending"]
    pending_note.refresh_from_db()
    assert pending_note.state == "sent" and pending_note.attempts == 1


def test_a_mark_lost_after_sending_never_sends_again(pending_note, mailoutbox):
    with mock.patch("intake.services.notifications._mark_sent", side_effect=OperationalError("restart")):
        with pytest.raises(DeliveredButUnmarked):
            notification_send(notification_id=pending_note.pk)
    assert len(mailoutbox) == 1
    # A duplicate delivery of the task, or the sweeper, finds it claimed: nothing more.
    assert notification_send(notification_id=pending_note.pk) is False
    assert len(mailoutbox) == 1
    # The task's retry only writes the mark.
    assert notification_send(notification_id=pending_note.pk, delivered=True) is False
    pending_note.refresh_from_db()
    assert pending_note.state == "sent" and len(mailoutbox) == 1


def test_the_task_retries_only_the_mark_after_a_sent_email(pending_note, mailoutbox):
    from celery.exceptions import Retry

    from intake.tasks import send_notification

    with (
        mock.patch("intake.services.notifications._mark_sent", side_effect=OperationalError("restart")),
        mock.patch.object(send_notification, "retry", side_effect=Retry()) as retry,
    ):
        with pytest.raises(Retry):
            send_notification.run(pending_note.pk)
    assert retry.call_args.kwargs["kwargs"] == {"delivered": True}


def test_a_refused_mail_is_given_back_and_sent_once_later(pending_note, mailoutbox):
    with mock.patch("intake.services.notifications.send_mail", side_effect=ConnectionRefusedError()):
        with pytest.raises(ConnectionRefusedError):
            notification_send(notification_id=pending_note.pk)
    pending_note.refresh_from_db()
    assert pending_note.state == "pending"
    assert notification_send(notification_id=pending_note.pk)
    assert notification_send(notification_id=pending_note.pk) is False
    assert len(mailoutbox) == 1


def test_an_unconfirmed_send_is_reported_once_and_never_resent(pending_note, mailoutbox, settings):
    from intake.services.dispatch import outbox_sweep

    UserFactory(groups=["Supervisor"], email="sup@example.com")
    Notification.objects.filter(pk=pending_note.pk).update(
        state="sending", claimed_at=clock.now() - timedelta(minutes=11)
    )
    outbox_sweep()
    outbox_sweep()
    pending_note.refresh_from_db()
    assert pending_note.state == "failed"
    [alert] = SystemAlert.objects.all()
    assert "may not have been sent" in alert.subject and alert.occurrences == 1
    assert mailoutbox == []  # the patient's email is not sent again


# --- A full disk: a clear message, nothing half-stored, staff told once ----------
@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB file system (tmpfs), so the disk really fills up."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    path = tmp_path / "tiny"
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)]).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    yield path
    subprocess.run(["umount", "-l", str(path)])


def big_png(size=600_000):
    data = corpus.png()
    return data + b"\0" * (size - len(data))


@pytest.mark.parametrize("where", ["upload temporary folder", "MRI storage"])
def test_a_full_disk_is_a_clear_message_with_the_other_way_offered(
    where, tiny_disk, settings, seeded, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(groups=["Supervisor"], email="sup@example.com")
    if where == "upload temporary folder":
        settings.FILE_UPLOAD_TEMP_DIR = str(tiny_disk)
    else:
        settings.INTAKE_PRIVATE_ROOT = tiny_disk
    client = quiet_client()
    fill_until(client, last="safety")
    data = big_png()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("scan.png", data)},
                            headers={"Accept": "application/json"})  # fmt: skip
    body = first.json()
    assert first.status_code == 503
    assert "problem on our side" in body["error"] and body["offer_centre_sends"] is True
    assert body["centre_sends_label"] == "My imaging centre will send it"
    # Without JavaScript: the same words on the page, and the same single alert.
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(reverse("intake:upload"), {"file": SimpleUploadedFile("scan.png", data)}, follow=True)
    assert "problem on our side" in second.content.decode()
    assert MriFile.objects.count() == 0
    assert [p for p in tiny_disk.rglob("*") if p.is_file()] == []  # nothing half-stored
    [alert] = SystemAlert.objects.all()
    assert alert.occurrences == 2
    from intake.tasks import send_system_alert

    send_system_alert.run(alert.pk)
    send_system_alert.run(alert.pk)  # delivered twice: still one email
    staff_mails = [m for m in mailoutbox if "file storage" in m.subject]
    assert len(staff_mails) == 1 and staff_mails[0].to == ["sup@example.com"]
    # The patient can still finish the request with "my imaging centre will send it".
    fill_until(client)
    assert client.post(step_url("consent"), CONSENT).status_code == 302
    assert ReviewRequest.objects.count() == 1


# --- One clock: the database's -------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("worker_clock_off", [timedelta(minutes=10), timedelta(minutes=-10)])
def test_escalation_follows_the_database_clock_not_the_workers(seeded, worker_clock_off):
    from intake.services.lifecycle import cases_escalate_overdue

    UserFactory(groups=["Supervisor"])
    db_now = clock.now()
    not_yet = CaseFactory(queue=seeded["general"], status="triage", sla_due_at=db_now + timedelta(minutes=5))
    overdue = CaseFactory(queue=seeded["general"], status="triage", sla_due_at=db_now - timedelta(minutes=5))
    real_now = __import__("django.utils.timezone", fromlist=["now"]).now
    with mock.patch("django.utils.timezone.now", lambda: real_now() + worker_clock_off):
        escalated = cases_escalate_overdue()
    assert escalated == 1
    assert CaseEvent.objects.filter(kind="escalated", case=overdue).count() == 1
    assert CaseEvent.objects.filter(kind="escalated", case=not_yet).count() == 0


@pytest.mark.django_db
def test_a_worker_clock_a_minute_off_is_logged_at_start(caplog):
    real_now = __import__("django.utils.timezone", fromlist=["now"]).now
    with mock.patch("django.utils.timezone.now", lambda: real_now() + timedelta(minutes=10)):
        off = clock.check_skew()
    assert off > timedelta(minutes=9)
    assert "clock is +600 s off the database's" in caplog.text or "clock is +599 s" in caplog.text


# --- Workers survive a database restart -----------------------------------------
@pytest.mark.worker
def test_a_worker_whose_connections_were_killed_routes_the_next_case_first_time(seeded_tx, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL; CI runs this on PostgreSQL")
    from tests.conftest import purge_broker

    from .helpers import wait_for

    purge_broker()
    log = tmp_path / "worker.log"
    with open(log, "w") as fh:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "1", "-l", "INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"pgkill-{os.getpid()}@%h"],
            cwd=ROOT, env=django_process_env(), stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def worker_backends():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return sorted(r[0] for r in cur.fetchall())

    def routed(case):
        return ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists()

    try:
        first = review_request_submit(answers={**ANSWERS, "email": "a@example.com"})
        wait_for(lambda: routed(first), timeout=60)
        before = worker_backends()
        assert before, "the worker holds a connection between tasks"
        with connection.cursor() as cur:  # what a PostgreSQL restart does to the worker's sessions
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        time.sleep(0.5)
        second = review_request_submit(answers={**ANSWERS, "email": "b@example.com"})
        wait_for(lambda: routed(second), timeout=5)
        box = Outbox.objects.get(case=second)
        assert (box.deliveries, box.last_error) == (1, "")  # first time, no retry
        reconnected = worker_backends()
        third = review_request_submit(answers={**ANSWERS, "email": "c@example.com"})
        wait_for(lambda: routed(third), timeout=5)
        assert worker_backends() == reconnected  # and the new connection is reused again
        assert set(reconnected).isdisjoint(before)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert "OperationalError" not in log.read_text(), log.read_text()[-3000:]
    assert mail.outbox is not None


@pytest.mark.django_db
def test_the_confirmation_email_promises_a_time_before_routing(seeded, mailoutbox):
    """The confirmation is usually sent before routing has set the SLA: it must
    still carry the time the rules promise (and name the clinic's zone)."""
    case = review_request_submit(answers=ANSWERS)
    assert case.sla_due_at is None
    note = Notification.objects.get(case=case, kind="patient_confirmation")
    assert notification_send(notification_id=note.pk)
    [message] = mailoutbox
    assert "Central" in message.body, message.body


@pytest.mark.django_db
def test_removing_a_draft_file_while_storage_is_down_says_so(seeded):
    from intake.storage import StorageUnavailable

    client = quiet_client()
    fill_until(client, last="safety")
    with mock.patch("intake.views.mri_file_remove_from_draft", side_effect=StorageUnavailable("down")):
        response = client.post(reverse("intake:upload_remove", args=[1]), follow=True)
    assert response.status_code == 200
    assert "problem on our side" in response.content.decode()
