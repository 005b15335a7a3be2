"""The index task with a real Celery worker (a prefork pool process in its own
process, as in production): files stored before the header limits leave the
pool process alive and their series "cannot be shown"; a file that worker
processes really die on is given up after two deaths, with one staff alert."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from imaging.models import ImagingSeries, IndexAttempts, IndexedFile
from imaging.services import UNSAFE_INDEX_PROBLEM
from imaging.tasks import index_mri_file
from intake.models import SystemAlert
from tests.conftest import drop_other_connections, purge_broker
from tests.factories import CaseFactory
from tests.support.processes import CeleryWorker, wait_for

from . import dicomgen as g
from .storing import store_directly

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]


def _wait(predicate):
    return wait_for(predicate, timeout=60.0, interval=0.1)


def _pool_processes(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "celery"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _Worker(log: Path) -> CeleryWorker:
    """``celery worker`` with one prefork pool process, its log in a file."""
    return CeleryWorker(log, name=f"cage-test-{os.getpid()}")


def test_files_stored_before_the_limits_leave_the_pool_process_alive(seeded_tx, tmp_path):
    case = CaseFactory(queue=seeded_tx["mri-thoracolumbar"], status="mri_received")
    jls = store_directly(case, g.jpegls_65535(), "dicom")
    rle = store_directly(case, g.rle_16384(), "dicom")
    purge_broker()
    worker = _Worker(tmp_path / "worker.log")
    try:
        [pool_pid] = _wait(lambda: _pool_processes(worker.proc.pid))
        for f in (jls, rle, jls):  # the first file twice: a duplicate message does nothing more
            index_mri_file.delay(f.pk)
        _wait(lambda: IndexedFile.objects.filter(mri_file__in=[jls, rle]).count() == 2)
        _wait(lambda: "succeeded" in worker.text() and worker.text().count("succeeded") >= 3)
        assert _pool_processes(worker.proc.pid) == [pool_pid]  # the same pool process, alive
    finally:
        worker.stop()
        drop_other_connections()
    assert "WorkerLostError" not in worker.text()
    for f in (jls, rle):
        [series] = ImagingSeries.objects.filter(instances__mri_file=f).distinct()
        assert series.problem.startswith("Cannot be shown: this file is too large to decode safely: header declares")
        assert IndexAttempts.objects.get(mri_file=f).unfinished == 0
    assert sorted(SystemAlert.objects.values_list("key", flat=True)) == sorted(
        [f"mri-unsafe-file:{jls.pk}", f"mri-unsafe-file:{rle.pk}"]
    )


class _RowHolder:
    """Holds the file's row (FOR NO KEY UPDATE) from another connection: the
    task counts its attempt, then waits on the row, mid-task, until released."""

    def __init__(self, mri_file_id):
        import django.db

        self.conn = django.db.connections.create_connection("default")
        self.conn.ensure_connection()
        self.conn.set_autocommit(False)
        with self.conn.cursor() as cur:
            cur.execute("SELECT id FROM intake_mrifile WHERE id = %s FOR NO KEY UPDATE", [mri_file_id])
        self.open = True

    def release(self):
        if self.open:
            self.conn.rollback()
            self.conn.close()
            self.open = False


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="holds one row while other writes go on: PostgreSQL's row locks (SQLite locks the whole file)",
)
def test_a_file_worker_processes_die_on_twice_is_given_up_with_one_alert(seeded_tx, tmp_path):
    case = CaseFactory(queue=seeded_tx["mri-thoracolumbar"], status="mri_received")
    f = store_directly(case, g.series_bytes(1)[0], "dicom")
    purge_broker()
    holder = _RowHolder(f.pk)
    worker = _Worker(tmp_path / "worker.log")
    try:
        [first_pool] = _wait(lambda: _pool_processes(worker.proc.pid))
        index_mri_file.delay(f.pk)
        for death in (1, 2):
            # The attempt is counted (committed), then the task waits on the row: kill its process.
            _wait(lambda death=death: IndexAttempts.objects.filter(mri_file=f, unfinished=death).exists())
            [pool] = _wait(lambda: _pool_processes(worker.proc.pid))
            os.kill(pool, signal.SIGKILL)
            _wait(lambda pool=pool: _pool_processes(worker.proc.pid) not in ([], [pool]))
        holder.release()
        # The third delivery gives up without reading the file.
        _wait(lambda: IndexedFile.objects.filter(mri_file=f).exists())
        time.sleep(1.0)  # a wrongly repeated delivery would show itself here
        alive = _pool_processes(worker.proc.pid)
    finally:
        holder.release()
        worker.stop()
        drop_other_connections()
    assert alive and first_pool not in alive
    indexed = IndexedFile.objects.get(mri_file=f)
    assert (indexed.state, indexed.problem) == ("failed", UNSAFE_INDEX_PROBLEM)
    assert not ImagingSeries.objects.exists()
    assert list(SystemAlert.objects.values_list("key", "occurrences")) == [(f"mri-unsafe-file:{f.pk}", 1)]
    assert worker.text().count("exited with 'signal 9 (SIGKILL)'") == 2
