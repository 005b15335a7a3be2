"""The DICOM node end to end: a real Orthanc, studies sent with storescu,
the poll service, the case and its stored file; exactly once under two
workers, an Orthanc killed mid-download, and a crash after storage."""

import io
import logging
import os
import subprocess
import sys
import threading
import time
import zipfile
from datetime import date, timedelta

import pydicom
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from clinic.models import AuditEntry
from dicomnode import matching, services
from dicomnode import orthanc as orthanc_module
from dicomnode.models import ChangeCursor, ReceivedStudy
from dicomnode.services import orthanc_poll
from dicomnode.tasks import orthanc_poll as orthanc_poll_task
from intake import clock, storage
from intake.models import CaseEvent, MriFile
from intake.transitions import Status
from tests.factories import CaseFactory, MembershipFactory, UserFactory

from .dicomdata import write_mr_series

S = ReceivedStudy.State


def poll_until(condition, *, poll=orthanc_poll, limit=60.0):
    """Poll as beat would (here every 0.2 s) until ``condition()``; a bound, not a timing check."""
    deadline = time.monotonic() + limit
    while True:
        poll()
        if condition():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not reached after {limit:.0f} s of polling")
        time.sleep(0.2)


def stored_objects() -> list:
    root = settings.INTAKE_PRIVATE_ROOT
    return [os.path.join(d, f) for d, _, names in os.walk(root) for f in names] if os.path.exists(root) else []


def archive_members(mri_file: MriFile) -> list[pydicom.Dataset]:
    data = b"".join(storage.iter_decrypted(mri_file.stored_name, sha256=mri_file.sha256))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [pydicom.dcmread(io.BytesIO(zf.read(name))) for name in zf.namelist()]


def test_study_sent_by_cstore_is_attached_to_the_case_in_its_accession_number(db, orthanc, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, study_uid = write_mr_series(
        tmp_path / "s", patient_name="QUILL^MARGO", patient_id="H-778812", birth_date="19660412",
        accession=case.reference, slices=4,
    )  # fmt: skip
    sent = time.monotonic()
    orthanc.send(files)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.ATTACHED).exists())
    elapsed = time.monotonic() - sent
    sys.stderr.write(f"\n[dicomnode] storescu -> attached: {elapsed:.1f} s (StableAge 1 s, polling every 0.2 s)\n")

    rs = ReceivedStudy.objects.get()
    assert (rs.case, rs.match_note, rs.state) == (case, matching.BY_ACCESSION, S.ATTACHED)
    # The header as the images record it, for staff.
    assert (rs.patient_name, rs.patient_birth_date, rs.study_date) == (
        "QUILL^MARGO",
        date(1966, 4, 12),
        date(2026, 11, 1),
    )
    assert (rs.modalities, rs.series_count, rs.instance_count) == ("MR", 1, 4)
    mri_file = case.files.get()
    assert rs.mri_file == mri_file and mri_file.file_type == MriFile.FileType.ZIP
    members = archive_members(mri_file)
    assert len(members) == 4 and {m.StudyInstanceUID for m in members} == {study_uid}
    case.refresh_from_db()
    assert case.status == Status.MRI_RECEIVED and case.mri_received_at is not None
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS, to_status=Status.MRI_RECEIVED).count() == 1
    assert (
        AuditEntry.objects.filter(object_ref=case.reference, summary__startswith=f"DICOM study #{rs.pk}").count() == 1
    )
    # Polling again finds nothing new to do.
    orthanc_poll()
    assert MriFile.objects.count() == 1 and ReceivedStudy.objects.count() == 1
    # Names and birth dates never reach a log line.
    for secret in ("QUILL", "MARGO", "19660412", "H-778812", case.first_name, case.last_name):
        assert secret not in caplog.text


def test_study_without_reference_is_attached_by_name_and_birth_date_through_the_task(db, orthanc, tmp_path):
    born = date(1975, 7, 14)
    case = CaseFactory(first_name="José", last_name="Núñez García", date_of_birth=born, status=Status.AWAITING_MRI)
    decoy = CaseFactory(first_name="Joseph", last_name="Nunez", date_of_birth=born, status=Status.AWAITING_MRI)
    files, _ = write_mr_series(
        tmp_path / "s", patient_name="NUNEZ GARCIA^JOSE", patient_id="H-100200", birth_date="19750714", slices=3
    )
    orthanc.send(files)
    poll_until(lambda: ReceivedStudy.objects.exclude(state=S.NEW).exists(), poll=orthanc_poll_task.apply)

    rs = ReceivedStudy.objects.get()
    assert (rs.state, rs.case, rs.match_note) == (S.ATTACHED, case, matching.BY_NAME_DOB)
    assert case.files.count() == 1 and decoy.files.count() == 0
    case.refresh_from_db()
    decoy.refresh_from_db()
    assert (case.status, decoy.status) == (Status.MRI_RECEIVED, Status.AWAITING_MRI)


def test_the_task_does_nothing_while_the_node_is_off(db, settings):
    settings.INTAKE_ORTHANC_URL = ""
    assert orthanc_poll_task.apply().get() == {"off": True}
    assert not ReceivedStudy.objects.exists()


def test_beat_polls_every_10_s_only_when_a_url_is_set():
    code = "from django.conf import settings as s; print(s.CELERY_BEAT_SCHEDULE.get('orthanc-poll'))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings.test"}
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    on = subprocess.run(run, env={**env, "INTAKE_ORTHANC_URL": "http://127.0.0.1:8042"}, capture_output=True, text=True)
    off = subprocess.run(run, env={**env, "INTAKE_ORTHANC_URL": ""}, capture_output=True, text=True)
    assert "'task': 'dicomnode.tasks.orthanc_poll', 'schedule': 10.0" in on.stdout, on.stderr[-2000:]
    assert off.stdout.strip().splitlines()[-1] == "None", off.stderr[-2000:]


def _coordinator(*, match: bool, queue=None):
    user = UserFactory()
    codenames = ["view_receivedstudy", "view_reviewrequest", "change_reviewrequest"] + (
        ["match_receivedstudy"] if match else []
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    if queue is not None:
        MembershipFactory(user=user, queue=queue)
    return user


def test_unmatched_study_waits_in_the_list_and_a_coordinator_attaches_it(db, orthanc, tmp_path, client):
    membership = MembershipFactory()
    case = CaseFactory(status=Status.AWAITING_MRI, queue=membership.queue)
    elsewhere = CaseFactory(status=Status.AWAITING_MRI)  # in a queue this coordinator does not work
    files, _ = write_mr_series(tmp_path / "s", patient_name="WREN^TOBIAS", birth_date="19990909", slices=2)
    orthanc.send(files)
    poll_until(lambda: ReceivedStudy.objects.exclude(state=S.NEW).exists())
    rs = ReceivedStudy.objects.get()
    assert (rs.state, rs.match_note, rs.case) == (S.UNMATCHED, matching.NO_MATCH, None)
    assert not MriFile.objects.exists()

    url = reverse("admin:dicomnode_receivedstudy_changelist")
    client.force_login(UserFactory())  # staff without the permission
    assert client.get(url).status_code == 403

    viewer = _coordinator(match=False, queue=membership.queue)
    client.force_login(viewer)
    page = client.get(url)
    assert page.status_code == 200
    assert [r.pk for r in page.context["cl"].result_list] == [rs.pk]  # unmatched, the default filter
    assert "WREN^TOBIAS" in page.content.decode()  # the header as recorded
    assert AuditEntry.objects.filter(actor=viewer, action=AuditEntry.Action.VIEW_LIST).exists()
    action = {"action": "attach_to_case", "_selected_action": [rs.pk], "case_reference": case.reference}
    client.post(url, action)
    rs.refresh_from_db()
    assert rs.state == S.UNMATCHED  # viewing is not attaching

    coordinator = _coordinator(match=True, queue=membership.queue)
    client.force_login(coordinator)
    client.post(url, {**action, "case_reference": elsewhere.reference})
    rs.refresh_from_db()
    assert rs.state == S.UNMATCHED and not elsewhere.files.exists()  # not a case they may see

    response = client.post(url, action, follow=True)
    assert f"attached to {case.reference}" in response.content.decode()
    rs.refresh_from_db()
    assert (rs.state, rs.case, rs.attached_by) == (S.ATTACHED, case, coordinator)
    assert case.files.count() == 1 and len(archive_members(case.files.get())) == 2
    case.refresh_from_db()
    assert case.status == Status.MRI_RECEIVED
    assert AuditEntry.objects.filter(
        actor=coordinator, object_ref=case.reference, summary__contains="attached"
    ).exists()
    assert not client.get(url).context["cl"].result_list  # no longer waiting


@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_attach_the_study_once(orthanc, tmp_path):
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="HALE^IDA", accession=case.reference, slices=6)
    orthanc.send(files)
    client = orthanc.client()
    deadline = time.monotonic() + 60
    while not any(c.change_type == "StableStudy" for c in client.changes(since=0, limit=1000)[0]):
        assert time.monotonic() < deadline, "Orthanc never marked the study stable"
        time.sleep(0.2)

    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(orthanc_poll())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert ReceivedStudy.objects.get().state == S.ATTACHED
    assert MriFile.objects.filter(case=case).count() == 1 and len(stored_objects()) == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS, to_status=Status.MRI_RECEIVED).count() == 1
    assert sum(r.get("recorded", 0) for r in results) == 1


def test_orthanc_killed_mid_download_leaves_the_study_retriable_then_attached_once(db, orthanc, tmp_path, monkeypatch):
    case = CaseFactory(status=Status.AWAITING_MRI)
    # 64 slices of 512 x 512 noise (32 MB): more than the sockets buffer, so
    # the download is still running when Orthanc is killed.
    files, _ = write_mr_series(tmp_path / "s", patient_name="OKAFOR^NIA", accession=case.reference, slices=64, size=512)
    orthanc.send(files)
    real_copy = orthanc_module._copy_body

    def copy_and_kill_orthanc(response, out):
        first = response.read(orthanc_module.CHUNK_BYTES)
        out.write(first)
        orthanc.stop(kill=True)
        return len(first) + real_copy(response, out)

    monkeypatch.setattr(orthanc_module, "_copy_body", copy_and_kill_orthanc)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.FAILED).exists())
    rs = ReceivedStudy.objects.get()
    assert rs.last_error.startswith("OrthancUnavailable") and rs.next_attempt_at is not None
    assert not MriFile.objects.exists() and stored_objects() == []
    case.refresh_from_db()
    assert case.status == Status.AWAITING_MRI

    monkeypatch.setattr(orthanc_module, "_copy_body", real_copy)
    orthanc.start()  # the same storage: the same study and change feed
    orthanc_poll(now=rs.next_attempt_at - timedelta(seconds=1))
    rs.refresh_from_db()
    assert rs.state == S.FAILED  # not due yet
    orthanc_poll(now=rs.next_attempt_at)
    orthanc_poll(now=rs.next_attempt_at + timedelta(minutes=5))
    rs.refresh_from_db()
    assert (rs.state, rs.case, rs.attempts) == (S.ATTACHED, case, 2)
    assert MriFile.objects.count() == 1 and len(stored_objects()) == 1
    assert len(archive_members(case.files.get())) == 64
    case.refresh_from_db()
    assert case.status == Status.MRI_RECEIVED


def test_a_failure_after_the_file_was_stored_removes_it_and_the_study_is_retried(db, orthanc, tmp_path, monkeypatch):
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="LUND^ELSA", accession=case.reference, slices=2)
    orthanc.send(files)

    def crash(**kwargs):
        raise RuntimeError("worker lost its database connection")

    monkeypatch.setattr(services, "case_transition", crash)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.FAILED).exists())
    rs = ReceivedStudy.objects.get()
    assert rs.last_error == "RuntimeError"  # the type only: messages may hold anything
    assert not MriFile.objects.exists() and stored_objects() == []  # stored, then deleted
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FILE).exists()

    monkeypatch.undo()
    orthanc_poll(now=rs.next_attempt_at)
    rs.refresh_from_db()
    assert rs.state == S.ATTACHED and case.files.count() == 1 and len(stored_objects()) == 1


def test_a_worker_whose_claim_ran_out_mid_download_attaches_nothing(db, orthanc, tmp_path, monkeypatch):
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="PIKE^OWEN", accession=case.reference, slices=3)
    orthanc.send(files)
    real_copy = orthanc_module._copy_body
    second = []

    def stalled_copy(response, out):
        # While this worker stalls past its claim, another one does the work.
        monkeypatch.setattr(orthanc_module, "_copy_body", real_copy)
        second.append(orthanc_poll(now=clock.now() + timedelta(seconds=services.CLAIM_SECONDS + 1)))
        return real_copy(response, out)

    monkeypatch.setattr(orthanc_module, "_copy_body", stalled_copy)
    poll_until(lambda: ReceivedStudy.objects.exclude(state=S.NEW).exists())
    assert second and second[0].get(S.ATTACHED) == 1
    rs = ReceivedStudy.objects.get()
    assert (rs.state, rs.attempts) == (S.ATTACHED, 2)
    assert MriFile.objects.count() == 1 and len(stored_objects()) == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FILE).count() == 2  # "file added" + "DICOM study"


def test_a_replaced_orthanc_index_is_read_again_without_doubles(db, orthanc, tmp_path):
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="ROSS^ADA", accession=case.reference, slices=2)
    orthanc.send(files)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.ATTACHED).exists())
    # As if the cursor came from an older, larger Orthanc index.
    ChangeCursor.objects.filter(pk=1).update(last_seq=10_000)
    orthanc_poll()
    assert ChangeCursor.objects.get().last_seq < 10_000
    assert ReceivedStudy.objects.count() == 1 and MriFile.objects.count() == 1


def test_a_study_the_file_checks_refuse_is_rejected_with_the_reason(db, orthanc, tmp_path, settings):
    settings.INTAKE_MAX_FILE_BYTES = 10_000  # the study's ZIP is larger
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="MOSS^IAN", accession=case.reference, slices=4)
    orthanc.send(files)
    poll_until(lambda: ReceivedStudy.objects.exclude(state=S.NEW).exists())
    rs = ReceivedStudy.objects.get()
    assert rs.state == S.REJECTED and "each file can be at most" in rs.last_error
    assert not MriFile.objects.exists() and stored_objects() == []
    orthanc_poll()
    rs.refresh_from_db()
    assert rs.state == S.REJECTED and rs.attempts == 1  # not retried: it would be refused again


def test_a_coordinators_attach_while_orthanc_is_down_changes_nothing(db):
    membership = MembershipFactory()
    case = CaseFactory(status=Status.AWAITING_MRI, queue=membership.queue)
    rs = ReceivedStudy.objects.create(
        orthanc_id="0123abcd-0123abcd-0123abcd-0123abcd-0123abcd", state=S.UNMATCHED, patient_name="GALE^ROS"
    )
    coordinator = _coordinator(match=True, queue=membership.queue)
    nobody_listens = orthanc_module.OrthancClient(f"http://127.0.0.1:{orthanc_module.free_port()}", "intake", "pw")
    with pytest.raises(services.ServiceError, match="Nothing was attached"):
        services.received_study_attach(
            received_study_id=rs.pk, case_reference=case.reference, actor=coordinator, client=nobody_listens
        )
    rs.refresh_from_db()
    assert (rs.state, rs.claim_token, rs.claimed_until) == (S.UNMATCHED, "", None)  # still waiting, not held
    assert rs.last_error.startswith("OrthancUnavailable")
    assert not MriFile.objects.exists()
    case.refresh_from_db()
    assert case.status == Status.AWAITING_MRI


def test_a_series_sent_after_the_study_was_attached_is_attached_too_once(db, orthanc, tmp_path):
    case = CaseFactory(status=Status.AWAITING_MRI)
    first, study_uid = write_mr_series(tmp_path / "a", patient_name="FINCH^LEO", accession=case.reference, slices=3)
    orthanc.send(first)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.ATTACHED).exists())
    # The imaging centre sends the axial series a while later: Orthanc marks the study stable again.
    later, _ = write_mr_series(
        tmp_path / "b", patient_name="FINCH^LEO", accession=case.reference, slices=2, study_uid=study_uid,
        series_number=2, seed=1,
    )  # fmt: skip
    orthanc.send(later)
    poll_until(lambda: case.files.count() == 2)
    orthanc_poll()
    rs = ReceivedStudy.objects.get()
    assert (rs.state, rs.more_images, len(rs.attached_instances)) == (S.ATTACHED, False, 5)
    first_zip, second_zip = (archive_members(f) for f in case.files.order_by("pk"))
    assert [len(first_zip), len(second_zip)] == [3, 2]
    assert {m.SeriesNumber for m in second_zip} == {2} and {m.StudyInstanceUID for m in second_zip} == {study_uid}
    assert case.files.count() == 2
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS, to_status=Status.MRI_RECEIVED).count() == 1
    assert CaseEvent.objects.filter(case=case, summary__contains="2 more image(s)").count() == 1


def test_a_study_that_killed_two_workers_is_refused_and_staff_told_once(db, orthanc, tmp_path):
    """Orthanc's bytes are untrusted: a study on which two worker processes
    died (their claims ran out, their attempts never ended) is not fetched a
    third time. It is refused with the reason, nothing is attached, and staff
    get one alert however often beat polls."""
    from intake.models import SystemAlert

    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="VANE^ODA", accession=case.reference, slices=2)
    orthanc.send(files)
    poll_until(
        lambda: ReceivedStudy.objects.exists(), poll=lambda: services.received_studies_record(client=orthanc.client())
    )
    rs = ReceivedStudy.objects.get()
    # What two dead processes leave: two attempts begun, none ended, the last claim run out.
    ReceivedStudy.objects.filter(pk=rs.pk).update(
        unfinished_attempts=2, claim_token="dead", claimed_until=clock.now() - timedelta(seconds=1)
    )
    for _ in range(3):
        orthanc_poll()
    rs.refresh_from_db()
    assert (rs.state, rs.last_error) == (S.REJECTED, services.UNSAFE_STUDY_ERROR)
    assert rs.case is None and MriFile.objects.count() == 0 and stored_objects() == []
    [alert] = SystemAlert.objects.filter(key=f"received-study-unsafe:{rs.pk}")
    assert "could not be read safely" in alert.subject


def test_one_dead_worker_is_bad_luck_and_an_attempt_that_ends_clears_the_count(db, orthanc, tmp_path):
    case = CaseFactory(status=Status.AWAITING_MRI)
    files, _ = write_mr_series(tmp_path / "s", patient_name="VANE^IDA", accession=case.reference, slices=2)
    orthanc.send(files)
    poll_until(
        lambda: ReceivedStudy.objects.exists(), poll=lambda: services.received_studies_record(client=orthanc.client())
    )
    ReceivedStudy.objects.update(unfinished_attempts=1)
    poll_until(lambda: ReceivedStudy.objects.filter(state=S.ATTACHED).exists())
    rs = ReceivedStudy.objects.get()
    assert (rs.case, rs.unfinished_attempts) == (case, 0)
