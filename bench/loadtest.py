"""`make loadtest`: N complete submissions from C concurrent clients against
gunicorn on PostgreSQL, with PostgreSQL restarted twice, Redis restarted twice
and a Celery pool process killed with SIGKILL during the run; then PostgreSQL
restarted once more with the site idle and one submission timed to routing.
It waits for the outbox sweeper and counts what was stored, routed, notified
and emailed.

    python bench/loadtest.py                                   # 2,000 from 50 clients
    python bench/loadtest.py --submissions 400 --clients 20 --ci

Exit status 1 when a must-be-zero count is not zero or a case is not routed.
Not part of `make test`. PostgreSQL and Redis are private to the run: a
throw-away cluster (pg_createcluster) and a redis-server, each on a free port,
so restarting them touches no one else; the cluster is dropped at the end.
Clients behave like patients: a 503 "nothing was lost, please try again" page
is sent again after a second (never a 500, which must not happen at all).
"""

from __future__ import annotations

import argparse
import contextlib
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
    """Redis restarted at 25% and 65%, PostgreSQL at 35% and 80%, a pool process killed at 45%."""

    def __init__(self, worker, redis: C.PrivateRedis, pg: C.PrivatePostgres, args):
        self.worker, self.redis, self.pg = worker, redis, pg
        self.redis_down, self.pg_down = args.redis_down_seconds, args.pg_down_seconds
        self.log: list[dict] = []
        plan = [(0.25, self.restart_redis), (0.65, self.restart_redis)][: args.redis_restarts]
        plan += [(0.35, self.restart_postgres), (0.80, self.restart_postgres)][: args.pg_restarts]
        plan += [(0.45, self.kill_pool_process)] if args.kill_worker else []
        self.plan = sorted(plan, key=lambda step: step[0])

    def due(self, fraction: float):
        while self.plan and fraction >= self.plan[0][0]:
            _, action = self.plan.pop(0)
            action()

    def restart_redis(self):
        t0 = time.time()
        self.redis.stop()
        time.sleep(self.redis_down)
        self.redis.start()
        self.log.append({"fault": "redis restart", "at": t0, "down_s": round(time.time() - t0, 2)})
        C.log(f"  fault: Redis shut down (nosave) and restarted, down {time.time() - t0:.1f} s")

    def restart_postgres(self):
        t0 = time.time()
        self.pg.stop()
        time.sleep(self.pg_down)
        self.pg.start()
        self.log.append({"fault": "postgres restart", "at": t0, "down_s": round(time.time() - t0, 2)})
        C.log(f"  fault: PostgreSQL stopped (fast) and started, down {time.time() - t0:.1f} s")

    def kill_pool_process(self):
        kids = C.children(self.worker.pid)
        if not kids:
            self.log.append({"fault": "SIGKILL pool process", "error": "no pool process found"})
            return
        pid = random.choice(kids)
        os.kill(pid, signal.SIGKILL)
        self.log.append({"fault": "SIGKILL pool process", "pid": pid, "at": time.time()})
        C.log(f"  fault: SIGKILL to Celery pool process {pid}")


def idle_restart_check(pg: C.PrivatePostgres, tag: str, idle_seconds: float) -> float | None:
    """PostgreSQL restarted while nothing happens; then one patient submits.
    Returns the seconds from the confirmation to the case being routed."""
    C.log(f"idle check: PostgreSQL restarted with the site idle, then {idle_seconds:.0f} s of quiet")
    pg.stop()
    time.sleep(1.0)
    pg.start()
    time.sleep(idle_seconds)
    ident = identity(random.Random(f"{tag}.idle"), f"{tag}.idle")
    res = Walker("127.0.0.1", PORT, timeout=60, retries_on_503=10).submit(ident, follow=True)
    if not res.ok:
        C.log(f"  idle check: the submission failed: {res.error}")
        return None
    t0 = time.time()
    email = ident["email"].replace("'", "''")
    while time.time() - t0 < 30:
        routed = C.psql(
            DB,
            f"SELECT count(*) FROM intake_reviewrequest WHERE email = '{email}' AND routed_at IS NOT NULL",
            port=pg.port,
        )
        if routed == "1":
            return round(time.time() - t0, 2)
        time.sleep(0.1)
    return None


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
    parser.add_argument("--pg-down-seconds", type=float, default=2.0)
    parser.add_argument("--redis-restarts", type=int, default=2, choices=[0, 1, 2])
    parser.add_argument("--pg-restarts", type=int, default=2, choices=[0, 1, 2])
    parser.add_argument("--no-kill-worker", dest="kill_worker", action="store_false")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="quiet time before the idle-restart check")
    parser.add_argument("--drain-timeout", type=float, default=150, help="seconds to wait for routing and emails")
    args = parser.parse_args()

    started = time.time()
    C.log("starting a private PostgreSQL cluster and a private Redis (the shared ones are never restarted)")
    pg, redis = C.PrivatePostgres(), C.PrivateRedis()
    pg.create()
    redis.start()
    env = C.project_env(DB, BROKER_DB, CACHE_DB, C.secret_env(), pg=pg.url, redis_port=redis.port)
    mail_dir = Path(env["BENCH_MAIL_DIR"])
    shutil.rmtree(C.TMP / DB, ignore_errors=True)
    mail_dir.mkdir(parents=True, exist_ok=True)
    C.log(f"setting up {DB} on port {pg.port}")
    C.recreate_db(DB, port=pg.port)
    C.manage(env, "migrate", "--noinput")
    # With demo staff, routing also assigns and notifies staff: more of the code under faults.
    C.manage(env, "seed_demo")
    C.manage(env, "collectstatic", "--noinput")

    counts, done = Counter(), Counter()
    errors: list[str] = []
    lock = threading.Lock()
    try:
        C.start_gunicorn(
            "clinic.wsgi:application",
            PORT,
            env,
            workers=args.web_workers,
            cwd=C.REPO,
            name="loadtest-gunicorn",
            config=C.PROJECT_GUNICORN_CONF,  # as deployed: its timeouts, access log, worker recycling
        )
        worker = C.start_celery_worker("clinic", "urgent,routine", env, cwd=C.REPO, name="loadtest-worker")
        # As deployed: partners' webhooks (and their sweep) on a worker of their own.
        C.start_celery_worker("clinic", "webhooks", env, cwd=C.REPO, name="loadtest-webhooks")
        C.start_celery_beat("clinic", env, cwd=C.REPO, name="loadtest-beat")
        faults = Faults(worker, redis, pg, args)
        next_index = iter(range(args.submissions))
        tag = f"lt{os.getpid()}{int(time.time())}"

        def on_status(status):
            with lock:
                counts["responses"] += 1
                counts[f"{status // 100}xx"] += 1
                if status == 503:
                    counts["503"] += 1

        def client(k):
            w = Walker("127.0.0.1", PORT, timeout=60, retries_on_503=30)
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

        C.log(
            f"{args.submissions} submissions from {args.clients} clients; faults: "
            + ", ".join(f"{a.__name__} at {f:.0%}" for f, a in faults.plan)
        )
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
            return C.drained(DB, pg.port)

        t1 = time.time()
        try:
            C.wait_for(drained, args.drain_timeout, "routing and notifications to drain", 1.0)
            drained_ok = True
        except RuntimeError:
            drained_ok = False
        drain_s = time.time() - t1
        idle_routed_s = idle_restart_check(pg, tag, args.idle_seconds) if args.pg_restarts else 0.0
        C.log(f"  idle check: routed {idle_routed_s} s after the confirmation")
        if args.pg_restarts:
            done["ok"] += idle_routed_s is not None  # the idle check's patient is one more confirmed case
            with contextlib.suppress(RuntimeError):
                C.wait_for(drained, 60, "the idle check's notifications", 0.5)
        time.sleep(1.0)  # let a file backend that just sent flush its file
        report = C.djtool(env, "loadtest-report")
        mail = count_emails(mail_dir)
        pool_now = C.children(worker.pid)
    finally:
        C.stop_all()
        pg.drop()

    must_be_zero = {
        "failed submissions (client side)": done["failed"],
        "responses with status 500 (or any 5xx but 503)": counts["5xx"] - counts["503"],
        "idle restart: not routed within 5 s": 0 if idle_routed_s is not None and idle_routed_s <= 5 else 1,
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
        ("of which 503 'nothing was lost, try again' (resent)", counts["503"]),
        ("idle PostgreSQL restart: confirmation -> routed s", idle_routed_s),
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
    if report["unrouted"]:
        print("\noutbox rows of cases not routed:", *report["unrouted"], sep="\n  ")
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
