#!/usr/bin/env python3
"""`make run`'s supervisor: start the web server, two Celery workers and beat, and keep them running.

* A process that exits is started again after a backoff (1, 2, 4 ... 60 s; back
  to 1 s once it has run for a minute). Each exit and restart is printed and
  written to var/log/supervisor.log; the other processes go on meanwhile, so
  the site keeps serving while a worker comes back.
* Each process appends to its own log (var/log/web.log, worker.log, webhooks.log, beat.log)
  with a marker line per start: a restart never overwrites the traceback of
  the crash that caused it.
* Ctrl-C (or SIGTERM) stops everything within 10 s: SIGTERM to each process
  (a Celery worker then stops its own pool processes: a warm shutdown), up to
  GRACE seconds for it, then SIGKILL to any process group still alive (a
  worker stuck finishing a task, its pool processes included).

Usage: supervise.py [--port 8000] [--log-dir var/log] [--proc NAME=COMMAND ...]
Without --proc it runs the four processes of `make run`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

GRACE = 8.0  # seconds between SIGTERM and SIGKILL; the whole stop stays under 10 s
MAX_BACKOFF = 60.0
STABLE_AFTER = 60.0  # a process that ran this long starts its backoff again from 1 s


@dataclass
class Proc:
    name: str
    argv: list[str]
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    next_start: float = 0.0
    log_path: Path = field(default_factory=Path)


def default_procs(port: int, python: str) -> list[Proc]:
    celery = str(Path(python).with_name("celery"))
    return [
        Proc("web", [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
        # One worker for both Celery queues is enough on a laptop; production
        # runs one per queue (README) so routine work never delays urgent work.
        Proc("worker", [celery, "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "2", "-l", "INFO",
                        "-n", "local@%h"]),
        # Partners' webhooks apart, as in production: a slow endpoint holds
        # only these processes, never the one that routes cases.
        Proc("webhooks", [celery, "-A", "clinic", "worker", "-Q", "webhooks", "-c", "2", "-l", "INFO",
                          "-n", "webhooks@%h"]),
        Proc("beat", [celery, "-A", "clinic", "beat", "-l", "INFO"]),
    ]  # fmt: skip


class Supervisor:
    def __init__(self, procs: list[Proc], log_dir: Path, grace: float = GRACE):
        self.procs = procs
        self.log_dir = log_dir
        self.grace = grace
        self.stopping = False
        log_dir.mkdir(parents=True, exist_ok=True)
        self.own_log = open(log_dir / "supervisor.log", "a", buffering=1)  # noqa: SIM115  (open for the run)
        for p in procs:
            p.log_path = log_dir / f"{p.name}.log"

    def say(self, message: str) -> None:
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
        print(f"[supervisor] {message}", flush=True)
        self.own_log.write(line + "\n")

    def start(self, p: Proc) -> None:
        with open(p.log_path, "a") as log:
            log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} supervisor: starting {p.name} =====\n")
            log.flush()
            # Its own session and process group: Ctrl-C reaches only the
            # supervisor, which stops each group in order, pool processes too.
            p.popen = subprocess.Popen(p.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        p.started_at = time.monotonic()

    def check(self) -> None:
        now = time.monotonic()
        for p in self.procs:
            if p.popen is None:
                if now >= p.next_start and not self.stopping:
                    p.restarts += 1
                    self.say(f"RESTART {p.name} (restart {p.restarts})")
                    self.start(p)
                continue
            code = p.popen.poll()
            if code is None:
                if now - p.started_at >= STABLE_AFTER:
                    p.backoff = 1.0
                continue
            p.popen = None
            if self.stopping:
                continue
            delay = p.backoff
            p.backoff = min(MAX_BACKOFF, p.backoff * 2)
            p.next_start = now + delay
            self.say(f"EXIT {p.name} with status {code}; starting it again in {delay:.0f} s (see {p.log_path})")

    def stop(self) -> None:
        self.stopping = True
        alive = [p for p in self.procs if p.popen is not None and p.popen.poll() is None]
        self.say("stopping " + ", ".join(p.name for p in alive) if alive else "stopping")
        for p in alive:
            # SIGTERM to the process itself, not its group: a Celery worker's warm
            # shutdown lets its pool processes finish their tasks and exit. Sent
            # to the group, the pool processes died at once mid-task and the
            # worker then sat in its shutdown until the SIGKILL (8 s).
            _signal_leader(p.popen, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.popen.poll() is None for p in alive):
            time.sleep(0.1)
        for p in alive:
            if p.popen.poll() is None:
                self.say(f"{p.name} did not stop within {self.grace:.0f} s: SIGKILL")
            # The whole group: a worker's pool processes outlive their parent otherwise.
            _signal_group(p.popen, signal.SIGKILL)
            try:
                p.popen.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        self.say("stopped")

    def run(self) -> int:
        for p in self.procs:
            self.start(p)
        stop = {"now": False}

        def on_signal(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stop["now"]:
            self.check()
            time.sleep(0.2)
        self.stop()
        return 0


def _signal_leader(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.kill(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--log-dir", type=Path, default=None)
    parser.add_argument("--grace", type=float, default=GRACE)
    parser.add_argument("--proc", action="append", default=[], help="NAME=COMMAND (repeatable)")
    args = parser.parse_args(argv)
    var = Path(os.environ.get("INTAKE_VAR_DIR", "var"))
    log_dir = args.log_dir or var / "log"
    if args.proc:
        procs = [Proc(n, shlex.split(c)) for n, _, c in (spec.partition("=") for spec in args.proc)]
    else:
        procs = default_procs(args.port, sys.executable)
    return Supervisor(procs, log_dir, grace=args.grace).run()


if __name__ == "__main__":
    sys.exit(main())
