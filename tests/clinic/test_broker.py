"""The embedded broker (clinic.broker): whole messages only, and a bad file never stops a worker."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kombu import Connection

from clinic.settings.base import filesystem_broker_options

ROOT = Path(__file__).resolve().parents[2]


def open_channel(folder):
    conn = Connection(
        "filesystem://", transport="clinic.broker:Transport", transport_options=filesystem_broker_options(folder)
    )
    return conn, conn.default_channel


def test_a_message_appears_only_when_it_is_whole(tmp_path, monkeypatch):
    conn, channel = open_channel(tmp_path)
    out = channel.data_folder_out
    seen_while_writing = []
    real_open = open

    class Spy:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.fh.__exit__(*exc)

        def write(self, data):
            # Mid-write: a consumer listing the folder must find no message.
            seen_while_writing.append([f for f in os.listdir(out) if f.endswith(".msg")])
            return self.fh.write(data)

    def spying_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        return Spy(fh) if "x" in mode else fh

    monkeypatch.setattr("builtins.open", spying_open)
    channel._put("routine", {"body": "x" * 10_000})
    monkeypatch.undo()
    assert seen_while_writing == [[]]
    assert channel._get("routine") == {"body": "x" * 10_000}
    conn.release()


def test_an_empty_or_broken_message_file_is_set_aside_and_the_next_one_read(tmp_path, caplog):
    conn, channel = open_channel(tmp_path)
    folder = Path(channel.data_folder_in)
    # What kombu's own transport leaves for an instant: created, not yet written.
    # ("0_": sorts before every real name, which starts with uptime in ms.)
    (folder / "0_aaaa.routine.msg").write_bytes(b"")
    (folder / "0_bbbb.routine.msg").write_bytes(b'{"half": ')
    channel._put("routine", {"ok": 1})
    assert channel._get("routine") == {"ok": 1}
    corrupt = sorted(p.name for p in (tmp_path / "corrupt").iterdir())
    assert corrupt == ["0_aaaa.routine.msg", "0_bbbb.routine.msg"]
    assert "could not be read" in caplog.text
    conn.release()


def test_concurrent_writers_and_a_fast_reader_lose_and_double_nothing(tmp_path):
    conn, channel = open_channel(tmp_path)
    n_threads, per_thread = 4, 250
    got, done = [], threading.Event()

    def write(t):
        c, ch = open_channel(tmp_path)
        for i in range(per_thread):
            ch._put("routine", {"id": f"{t}-{i}", "pad": "p" * 2000})
        c.release()

    def read():
        from kombu.transport.virtual import Empty

        while not done.is_set() or len(got) < n_threads * per_thread:
            try:
                got.append(channel._get("routine")["id"])
            except Empty:
                if done.is_set() and channel._size("routine") == 0:
                    break

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(t,)) for t in range(n_threads)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    reader.join(timeout=30)
    assert sorted(got) == sorted(f"{t}-{i}" for t in range(n_threads) for i in range(per_thread))
    assert not (tmp_path / "corrupt").exists() or not any((tmp_path / "corrupt").iterdir())
    conn.release()


@pytest.mark.worker
def test_a_real_worker_on_the_embedded_broker_survives_a_half_written_file(seeded_tx, tmp_path):
    """The failure of issue 11, end to end: an empty message file in the queue
    used to stop the worker with JSONDecodeError. Now it routes the next case."""
    from intake.models import CaseEvent, ReviewRequest
    from intake.services.submission import review_request_submit
    from tests.intake.test_routing_reliability import ANSWERS
    from tests.support.processes import django_process_env

    broker_dir = tmp_path / "broker"
    env = {**django_process_env(), "CELERY_BROKER_URL": "filesystem://", "INTAKE_BROKER_DIR": str(broker_dir),
           "INTAKE_BROKER_POLL_SECONDS": "0.02"}  # fmt: skip
    options = filesystem_broker_options(broker_dir)
    log = tmp_path / "worker.log"
    with open(log, "w") as fh:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "1", "-l", "INFO",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"fs-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "ready" in log.read_text(), log.read_text()[-2000:]
        # A half-written message, as kombu's transport writes them, sits first in the queue.
        Path(options["data_folder_out"], "0_half.routine.msg").write_bytes(b"")
        # Then a real case, sent through the same embedded broker by id.
        from clinic.celery import app

        configured = (app.conf.broker_url, app.conf.broker_transport, app.conf.broker_transport_options)
        app.conf.broker_url, app.conf.broker_transport, app.conf.broker_transport_options = (
            "filesystem://", "clinic.broker:Transport", options)  # fmt: skip
        app._pool = None
        app.amqp._producer_pool = None
        try:
            case = review_request_submit(answers=ANSWERS)
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
                and not ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists()
            ):
                time.sleep(0.1)
        finally:
            app.conf.broker_url, app.conf.broker_transport, app.conf.broker_transport_options = configured
            app._pool = None
            app.amqp._producer_pool = None
        assert worker.poll() is None, "the worker stopped:\n" + log.read_text()[-3000:]
        assert CaseEvent.objects.filter(case=case, kind="routed").count() == 1
        assert (broker_dir / "corrupt" / "0_half.routine.msg").exists()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert "Unrecoverable error" not in log.read_text()
