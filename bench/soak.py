"""`make soak`: the embedded default exactly as `make run` starts it (web, worker
and beat under the supervisor, SQLite, the embedded broker), with one real
patient submission through HTTP every second for SOAK_MINUTES (default 30).

Then the exactly-once report of `make loadtest`, plus "worker restarts: 0":
the supervisor logs every exit and restart, and any one fails the soak.

    python bench/soak.py --minutes 30          # make soak
    python bench/soak.py --minutes 3 --ci      # .ci/run

It runs in var/soak/ (INTAKE_VAR_DIR) on a free port, so a developer's own
`make run` data is untouched. Two settings differ from a laptop's `make run`,
both because every submission comes from one script on one address: the
per-address submission limit is lifted and the anti-bot minimum fill time is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
from client import Walker, identity  # noqa: E402
from loadtest import count_emails  # noqa: E402


def soak_env(var: Path, port: int) -> dict:
    drop = ("DJANGO_", "CELERY_", "INTAKE_", "DATABASE_URL", "CACHE_URL", "EMAIL_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        INTAKE_VAR_DIR=str(var),
        PORT=str(port),
        INTAKE_SUBMIT_LIMIT_PER_HOUR="100000000",
        INTAKE_MIN_FILL_SECONDS="0",
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "30")))
    parser.add_argument("--ci", action="store_true")
    parser.add_argument("--drain-timeout", type=float, default=120)
    args = parser.parse_args()

    var = C.REPO / "var" / "soak"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    port = C.free_port()
    env = soak_env(var, port)
    C.log(f"make run on port {port} in {var} (SQLite, embedded broker), {args.minutes:g} min, a submission a second")
    out = open(var / "make-run.out", "ab")  # noqa: SIM115  (kept open for the run)
    run = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=C.REPO, env=env,
                           stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    counts, done, errors = Counter(), Counter(), []
    lock = threading.Lock()
    started = time.time()
    try:
        C.wait_http(f"http://127.0.0.1:{port}/mri-review/", run, timeout=300)
        C.log("site up; submitting")

        def on_status(status):
            with lock:
                counts[f"{status // 100}xx"] += 1
                counts[str(status)] += 1

        def submit(i, tag):
            ident = identity(random.Random(f"{tag}.{i}"), f"{tag}.{i}")
            walker = Walker("127.0.0.1", port, timeout=60, retries_on_503=5).plain_cookies()
            res = walker.submit(ident, follow=True, on_status=on_status)
            with lock:
                done["ok" if res.ok else "failed"] += 1
                if not res.ok and len(errors) < 20:
                    errors.append(res.error)

        tag = f"soak{os.getpid()}"
        total = int(args.minutes * 60)
        t0 = time.monotonic()
        threads = []
        for i in range(total):
            # One a second on the clock, whatever each one takes.
            time.sleep(max(0.0, t0 + i - time.monotonic()))
            t = threading.Thread(target=submit, args=(i, tag), daemon=True)
            t.start()
            threads.append(t)
            if i and i % 60 == 0:
                with lock:
                    C.log(f"  {i} sent: {done['ok']} confirmed, {done['failed']} failed")
            if run.poll() is not None:
                raise RuntimeError("make run stopped by itself")
        for t in threads:
            t.join(120)
        C.log(f"load done: {done['ok']} confirmed, {done['failed']} failed; waiting for routing and emails")

        db = var / "db.sqlite3"

        def drained():
            con = sqlite3.connect(db, timeout=20)
            try:
                (n,) = con.execute(
                    "SELECT (SELECT count(*) FROM intake_reviewrequest WHERE routed_at IS NULL)"
                    " + (SELECT count(*) FROM intake_notification WHERE state IN ('pending', 'sending'))"
                ).fetchone()
            finally:
                con.close()
            return n == 0

        try:
            C.wait_for(drained, args.drain_timeout, "routing and notifications to drain", 1.0)
        except RuntimeError as exc:
            errors.append(str(exc))
        time.sleep(1.0)
        report = C.djtool({**env, "DJANGO_SETTINGS_MODULE": "clinic.settings.local", "PYTHONPATH": str(C.REPO)},
                          "loadtest-report")  # fmt: skip
        mail = count_emails(var / "mail")
        still_running = run.poll() is None
    finally:
        # Ctrl-C, as a person would stop it: SIGINT to the whole foreground group.
        t_stop = time.monotonic()
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
            try:
                run.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
        stop_s = time.monotonic() - t_stop
    sup_log = (var / "log" / "supervisor.log").read_text() if (var / "log" / "supervisor.log").exists() else ""
    restarts = {name: sup_log.count(f"RESTART {name}") for name in ("web", "worker", "webhooks", "beat")}
    worker_log = (var / "log" / "worker.log").read_text(errors="replace")
    corrupt = list((var / "broker" / "corrupt").glob("*")) if (var / "broker" / "corrupt").exists() else []

    must_be_zero = {
        "failed submissions (client side)": done["failed"],
        "5xx responses": counts["5xx"],
        "worker restarts (cases and webhooks)": restarts["worker"] + restarts["webhooks"],
        "web and beat restarts": restarts["web"] + restarts["beat"],
        "'Unrecoverable error' in the worker log": worker_log.count("Unrecoverable error"),
        "cases not routed": max(report["cases"] - report["routed_at_set"], report["routed_never"]),
        "cases routed twice or more": report["routed_twice_or_more"],
        "notifications sent twice (same case/kind/recipient)": report["notifications_sent_duplicated"],
        "emails duplicated (same recipient and subject)": mail["duplicated"],
        "emails missing or extra vs sent notifications": abs(mail["emails"] - report["notifications"]["sent"]),
        "notifications not sent (pending, sending or failed)": report["notifications"]["pending"]
        + report["notifications"]["sending"]
        + report["notifications"]["failed"],
        "cases stored vs confirmed submissions": abs(report["cases"] - done["ok"]),
        "make run still running at the end (0 = yes)": 0 if still_running else 1,
    }
    rows = [
        ("minutes", f"{args.minutes:g}"),
        ("submissions confirmed", f"{done['ok']} of {done['ok'] + done['failed']}"),
        ("cases stored / routed exactly once", f"{report['cases']} / {report['routed_once']}"),
        ("notifications sent", report["notifications"]["sent"]),
        ("emails written", mail["emails"]),
        ("submit -> routed p50 / p99 / slowest s",
         f"{report['route_p50_s']} / {report['route_p99_s']} / {report['slowest_route_s']}"),
        ("responses", ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if not k.endswith("xx"))),
        ("restarts (web / worker / webhooks / beat)",
         f"{restarts['web']} / {restarts['worker']} / {restarts['webhooks']} / {restarts['beat']}"),
        ("broker files set aside as unreadable", len(corrupt)),
        ("Ctrl-C to everything stopped s", f"{stop_s:.1f}"),
    ]  # fmt: skip
    width = max(len(a) for a, _ in rows)
    print()
    for a, b in rows:
        print(f"{a.ljust(width)}  {b}")
    print("\nmust be zero:")
    failed = False
    for name, value in must_be_zero.items():
        failed |= value != 0
        print(f"  [{'ok  ' if value == 0 else 'FAIL'}] {name}: {value}")
    if errors:
        print("\nfirst errors:", *errors[:10], sep="\n  ")
    result = {"minutes": args.minutes, "confirmed": done["ok"], "responses": dict(counts), "report": report,
              "emails": mail, "restarts": restarts, "stop_seconds": round(stop_s, 1), "must_be_zero": must_be_zero,
              "passed": not failed, "seconds": round(time.time() - started)}  # fmt: skip
    C.RESULTS.mkdir(parents=True, exist_ok=True)
    path = C.RESULTS / ("soak-ci.json" if args.ci else "soak.json")
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\n{'PASSED' if not failed else 'FAILED'} in {result['seconds']} s; written: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
