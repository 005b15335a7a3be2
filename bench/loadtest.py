"""`make loadtest`: N complete submissions from C concurrent clients against
gunicorn on PostgreSQL, with Redis restarted twice and a Celery pool process
killed with SIGKILL during the run; then it waits for the outbox sweeper and
counts what was stored, routed, notified and emailed.

    python bench/loadtest.py                                   # 2,000 from 50 clients
    python bench/loadtest.py --submissions 200 --clients 20 --ci

Exit status 1 when a must-be-zero count is not zero or a case is not routed.
Not part of `make test`. Uses its own database (loadtest_clinic) and Redis
dbs 5 (broker) and 6 (cache); note that restarting Redis affects every user of
the local Redis server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
from client import Walker, identity  # noqa: E402

DB, BROKER_DB, CACHE_DB, PORT = "loadtest_clinic", 5, 6, 8201


class Faults:
    """Redis restarted at 25% and 65% of the submissions, a pool process killed at 45%."""

    def __init__(self, worker, down_seconds: float):
        self.worker = worker
        self.down = down_seconds
        self.log: list[dict] = []
        self.plan = [(0.25, self.restart_redis), (0.45, self.kill_pool_process), (0.65, self.restart_redis)]

    def due(self, fraction: float):
        while self.plan and fraction >= self.plan[0][0]:
            _, action = self.plan.pop(0)
            action()

    def restart_redis(self):
        t0 = time.time()
        C.redis_cli("shutdown", "nosave")
        C.wait_for(lambda: not C.redis_up(), 10, "redis to stop")
        time.sleep(self.down)
        C.redis_start()
        self.log.append({"fault": "redis restart", "at": t0, "down_s": round(time.time() - t0, 2)})
        C.log(f"  fault: Redis shut down (nosave) and restarted, down {time.time() - t0:.1f} s")

    def kill_pool_process(self):
        kids = C.children(self.worker.pid)
        if not kids:
            self.log.append({"fault": "SIGKILL pool process", "error": "no pool process found"})
            return
        pid = random.choice(kids)
        os.kill(pid, signal.SIGKILL)
        self.log.append({"fault": "SIGKILL pool process", "pid": pid, "at": time.time()})
        C.log(f"  fault: SIGKILL to Celery pool process {pid}")


def count_emails(mail_dir: Path) -> dict:
    """Messages written by the file backend: one file per connection, messages
    separated by a line of dashes; (recipient, subject) identifies one email."""
    pairs = Counter()
    for f in mail_dir.glob("*.log"):
        for msg in f.read_text(errors="replace").split("-" * 79):
            to = subject = None
            for line in msg.splitlines():
                if line.startswith("To: ") and to is None:
                    to = line[4:].strip()
                elif line.startswith("Subject: ") and subject is None:
                    subject = line[9:].strip()
                if not line.strip() and to and subject:
                    break
            if to and subject:
                pairs[(to, subject)] += 1
    return {"emails": sum(pairs.values()), "duplicated": sum(n - 1 for n in pairs.values() if n > 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ci", action="store_true", help="CI mode: shorter waits, JSON also on stdout")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--redis-down-seconds", type=float, default=2.0)
    parser.add_argument("--drain-timeout", type=float, default=150, help="seconds to wait for routing and emails")
    parser.add_argument("--keep-db", action="store_true", help="leave loadtest_clinic in place for inspection")
    args = parser.parse_args()

    started = time.time()
    C.ensure_services()
    env = C.project_env(DB, BROKER_DB, CACHE_DB, C.secret_env())
    mail_dir = Path(env["BENCH_MAIL_DIR"])
    shutil.rmtree(C.TMP / DB, ignore_errors=True)
    mail_dir.mkdir(parents=True, exist_ok=True)
    for db in (BROKER_DB, CACHE_DB):
        C.redis_cli("flushdb", db=db)
    C.log(f"setting up {DB}")
    C.recreate_db(DB)
    C.manage(env, "migrate", "--noinput")
    # With demo staff, routing also assigns and notifies staff: more of the code under faults.
    C.manage(env, "seed_demo")
    C.manage(env, "collectstatic", "--noinput")

    counts, done = Counter(), Counter()
    errors: list[str] = []
    lock = threading.Lock()
    try:
        C.start_gunicorn(
            "clinic.wsgi:application", PORT, env, workers=args.web_workers, cwd=C.REPO, name="loadtest-gunicorn"
        )
        worker = C.start_celery_worker("clinic", "urgent,routine", env, cwd=C.REPO, name="loadtest-worker")
        C.start_celery_beat("clinic", env, cwd=C.REPO, name="loadtest-beat")
        faults = Faults(worker, args.redis_down_seconds)
        next_index = iter(range(args.submissions))
        tag = f"lt{os.getpid()}{int(time.time())}"

        def on_status(status):
            with lock:
                counts["responses"] += 1
                counts[f"{status // 100}xx"] += 1

        def client(k):
            w = Walker("127.0.0.1", PORT, timeout=60)
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                res = w.submit(identity(random.Random(f"{tag}.{i}"), f"{tag}.{i}"), follow=True, on_status=on_status)
                with lock:
                    done["ok" if res.ok else "failed"] += 1
                    if not res.ok and len(errors) < 20:
                        errors.append(res.error)

        C.log(f"{args.submissions} submissions from {args.clients} clients; faults at 25%, 45%, 65%")
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(args.clients)]
        t0 = time.time()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            with lock:
                fraction = (done["ok"] + done["failed"]) / args.submissions
            faults.due(fraction)
            time.sleep(0.05)
        faults.due(1.0)
        load_s = time.time() - t0
        C.log(f"  load done in {load_s:.1f} s: {done['ok']} ok, {done['failed']} failed; {dict(counts)}")

        C.log(f"waiting for the outbox sweeper to drain routing and notifications (up to {args.drain_timeout:.0f} s)")

        def drained():
            pending = C.psql(
                DB,
                "SELECT (SELECT count(*) FROM intake_reviewrequest WHERE routed_at IS NULL)"
                " + (SELECT count(*) FROM intake_notification WHERE state = 'pending')",
            )
            return int(pending) == 0

        t1 = time.time()
        try:
            C.wait_for(drained, args.drain_timeout, "routing and notifications to drain", 1.0)
            drained_ok = True
        except RuntimeError:
            drained_ok = False
        drain_s = time.time() - t1
        time.sleep(1.0)  # let a file backend that just sent flush its file
        report = C.djtool(env, "loadtest-report")
        mail = count_emails(mail_dir)
        pool_now = C.children(worker.pid)
    finally:
        C.stop_all()
        if not C.redis_up():
            C.redis_start()

    must_be_zero = {
        "failed submissions (client side)": done["failed"],
        "5xx responses": counts["5xx"],
        "cases not routed": max(report["cases"] - report["routed_at_set"], report["routed_never"]),
        "cases routed twice or more": report["routed_twice_or_more"],
        "notifications sent twice (same case/kind/recipient)": report["notifications_sent_duplicated"],
        "emails duplicated (same recipient and subject)": mail["duplicated"],
        "emails missing or extra vs sent notifications": abs(mail["emails"] - report["notifications"]["sent"]),
        "notifications still pending": report["notifications"]["pending"],
        "cases stored vs confirmed submissions": abs(report["cases"] - done["ok"]),
    }
    rows = [
        ("submissions confirmed (302 + confirmation page)", f"{done['ok']} of {args.submissions}"),
        ("cases stored", report["cases"]),
        ("cases routed exactly once", report["routed_once"]),
        ("cases routed twice or more", report["routed_twice_or_more"]),
        ("outbox rows re-enqueued by the sweeper", report["outbox_reenqueued"]),
        ("max deliveries of one routing task", report["outbox_max_deliveries"]),
        ("notifications sent / pending / failed", "{sent} / {pending} / {failed}".format(**report["notifications"])),
        ("emails written (file backend)", mail["emails"]),
        ("notifications sent twice", report["notifications_sent_duplicated"]),
        ("emails duplicated", mail["duplicated"]),
        ("responses: 2xx / 3xx / 4xx / 5xx", f"{counts['2xx']} / {counts['3xx']} / {counts['4xx']} / {counts['5xx']}"),
        ("submit -> routed p50 / p99 / slowest s", f"{report['route_p50_s']} / {report['route_p99_s']} / "
         f"{report['slowest_route_s']}"),
        ("load phase / drain phase s", f"{load_s:.1f} / {drain_s:.1f}{'' if drained_ok else ' (TIMED OUT)'}"),
        ("faults", "; ".join(f["fault"] + (f" pid {f['pid']}" if "pid" in f else "") for f in faults.log)),
        ("pool processes after the run", f"{len(pool_now)} (a killed one is replaced)"),
    ]  # fmt: skip
    width = max(len(a) for a, _ in rows)
    print()
    for a, b in rows:
        print(f"{a.ljust(width)}  {b}")
    print("\nmust be zero:")
    failed = False
    for name, value in must_be_zero.items():
        mark = "ok  " if value == 0 else "FAIL"
        failed |= value != 0
        print(f"  [{mark}] {name}: {value}")
    if errors:
        print("\nfirst client errors:", *errors[:10], sep="\n  ")
    result = {
        "submissions": args.submissions,
        "clients": args.clients,
        "confirmed": done["ok"],
        "responses": dict(counts),
        "report": report,
        "emails": mail,
        "faults": faults.log,
        "must_be_zero": must_be_zero,
        "passed": not failed,
        "seconds": round(time.time() - started),
        "cpu_count": os.cpu_count(),
    }
    C.RESULTS.mkdir(parents=True, exist_ok=True)
    out = C.RESULTS / ("loadtest-ci.json" if args.ci else "loadtest.json")
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\n{'PASSED' if not failed else 'FAILED'} in {result['seconds']} s; written: {out}")
    if not args.keep_db:
        C.drop_db(DB)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
