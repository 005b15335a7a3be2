"""`make run`'s supervisor (scripts/supervise.py), run for real with small stand-in processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "scripts" / "supervise.py"

CRASHER = f"{sys.executable} -c \"import sys; print('crash trace marker', flush=True); sys.exit(3)\""
STEADY = f"{sys.executable} -c \"import time; print('steady up', flush=True); time.sleep(600)\""
# Ignores SIGTERM (like a worker stuck in warm shutdown) and has a child of its
# own (like a pool process), which must die with it.
STUBBORN = (
    f'{sys.executable} -c "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
    f"c = subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)']); "
    f"print('child', c.pid, flush=True); time.sleep(600)\""
)


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def start(tmp_path, *specs, grace=None):
    args = [sys.executable, str(SUPERVISE), "--log-dir", str(tmp_path)]
    if grace is not None:
        args += ["--grace", str(grace)]
    for spec in specs:
        args += ["--proc", spec]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_crashed_process_is_restarted_with_backoff_and_its_log_kept(tmp_path):
    sup = start(tmp_path, f"worker={CRASHER}", f"web={STEADY}")
    try:
        wait_for(lambda: (tmp_path / "web.log").exists() and "steady up" in (tmp_path / "web.log").read_text())
        web_pid = int(subprocess.run(["pgrep", "-f", "steady up"], capture_output=True, text=True).stdout.split()[0])
        own = tmp_path / "supervisor.log"
        # 1 s, then 2 s: two restarts within about four seconds, not a tight loop.
        wait_for(lambda: own.read_text().count("RESTART worker") >= 2, timeout=20)
        first, second = [line for line in own.read_text().splitlines() if "EXIT worker" in line][:2]
        assert "starting it again in 1 s" in first and "starting it again in 2 s" in second
        # Appended, never overwritten: every run's output is still there.
        log = (tmp_path / "worker.log").read_text()
        assert log.count("crash trace marker") >= 2
        assert log.count("supervisor: starting worker") >= 2
        # The web server was never touched.
        assert alive(web_pid)
        assert "RESTART web" not in own.read_text()
    finally:
        sup.send_signal(signal.SIGINT)
        sup.wait(timeout=15)


def test_ctrl_c_stops_everything_within_ten_seconds_killing_a_stuck_process_and_its_children(tmp_path):
    sup = start(tmp_path, f"worker={STUBBORN}", f"web={STEADY}", grace=3)
    log = tmp_path / "worker.log"
    child = int(
        wait_for(lambda: log.exists() and "child " in log.read_text() and log.read_text()).split("child ")[1].split()[0]
    )
    assert alive(child)
    t0 = time.monotonic()
    sup.send_signal(signal.SIGINT)
    sup.wait(timeout=10)
    elapsed = time.monotonic() - t0
    out = sup.stdout.read()
    assert sup.returncode == 0
    assert elapsed < 10
    assert "worker did not stop within 3 s: SIGKILL" in out
    wait_for(lambda: not alive(child), timeout=3)


@pytest.mark.parametrize("sig", [signal.SIGTERM])
def test_sigterm_stops_it_too(tmp_path, sig):
    sup = start(tmp_path, f"web={STEADY}")
    wait_for(lambda: (tmp_path / "web.log").exists() and "steady up" in (tmp_path / "web.log").read_text())
    sup.send_signal(sig)
    sup.wait(timeout=10)
    assert "stopped" in (tmp_path / "supervisor.log").read_text()


WARM_WORKER = """
import os, signal, subprocess, sys, time
CHILD = '''
import signal, sys, time
def told_by_parent(*_):
    sys.exit(0)
def terminated(*_):
    print("pool process got SIGTERM mid-task", flush=True)
    sys.exit(1)
signal.signal(signal.SIGUSR1, told_by_parent)
signal.signal(signal.SIGTERM, terminated)
time.sleep(600)
'''
child = subprocess.Popen([sys.executable, "-c", CHILD])
def warm_shutdown(*_):
    child.send_signal(signal.SIGUSR1)  # as Celery's main process tells its pool to finish
    child.wait()
    print("warm shutdown done", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, warm_shutdown)
print("worker up", flush=True)
time.sleep(600)
"""


def test_ctrl_c_lets_a_worker_shut_its_pool_down_itself(tmp_path):
    # Like Celery's prefork worker: the main process stops its pool processes
    # when it gets SIGTERM. Only the main process must get it; a pool process
    # terminated directly dies mid-task and the worker waits for the SIGKILL.
    script = tmp_path / "warm_worker.py"
    script.write_text(WARM_WORKER)
    sup = start(tmp_path, f"worker={sys.executable} {script}", grace=5)
    log = tmp_path / "worker.log"
    wait_for(lambda: log.exists() and "worker up" in log.read_text())
    t0 = time.monotonic()
    sup.send_signal(signal.SIGINT)
    sup.wait(timeout=10)
    elapsed = time.monotonic() - t0
    out = sup.stdout.read()
    assert "warm shutdown done" in log.read_text()
    assert "got SIGTERM" not in log.read_text()
    assert "SIGKILL" not in out
    assert elapsed < 5
