"""`make two-nodes`: two nodes on one machine, as an operator would run two
(docs/operations.md), under the production settings unchanged.

Each node has its own folders (INTAKE_VAR_DIR, FILE_UPLOAD_TEMP_DIR, static
files), its own gunicorn (the project's gunicorn.conf.py) and its own Celery
worker; node A also runs the one beat. They share a private PostgreSQL
cluster, a private Redis (broker and cache), an S3 server (moto) holding the
MRI files and the audit anchors, and the mail folder. A small proxy in front
of each node adds X-Forwarded-For, as nginx does.

N patients (200 by default) send their six steps alternating between the
nodes, one step on A, the next on B. Halfway, node B is killed (SIGKILL to its
gunicorn and its worker, with their children); a request that meets the dead
node (502 from its proxy, or a refused connection) is sent again to the other,
as a balancer would; node B is started again and the time to its /readyz 200
is measured. At the end: cases stored vs confirmed, routed once, doubled,
notifications vs emails, the audit chain verified from both nodes with one
set of anchors, /healthz/beat from node B.

    python bench/two_nodes.py                       # 200 patients, 10 clients
    python bench/two_nodes.py --patients 40 --clients 4

Exit status 1 when anything is lost or doubled. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
from client import Walker, identity  # noqa: E402
from loadtest import count_emails  # noqa: E402
from proxy import Proxy  # noqa: E402

from tests.support.s3 import CREDENTIALS, s3_server  # noqa: E402

DB, BROKER_DB, CACHE_DB = "two_nodes_clinic", 7, 8


class TwoNodeWalker(Walker):
    """A patient whose requests alternate between the two nodes' proxies; a
    request the node cannot answer (502, connection refused) goes to the
    other node, as a balancer resends it."""

    def __init__(self, ports: list[int], counts: Counter, lock: threading.Lock, **kwargs):
        super().__init__("127.0.0.1", ports[0], **kwargs)
        self.ports, self.counts, self.lock, self.turn = ports, counts, lock, 0

    def _request(self, method, path, body=None):
        first = self.turn % 2
        self.turn += 1
        error: Exception | None = None
        for port in (self.ports[first], self.ports[1 - first]):
            self.port = port
            try:
                status, headers, data = super()._request(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                error = exc
            else:
                if status != 502:
                    return status, headers, data
                error = RuntimeError("502")
            with self.lock:
                self.counts["resent to the other node"] += 1
        raise OSError(f"neither node answered: {error}")


def node_env(name: str, pg_url: str, redis_port: int, secrets_: dict, s3: dict) -> dict:
    scratch = C.TMP / DB / name
    for sub in ("var", "upload-tmp", "static"):
        (scratch / sub).mkdir(parents=True, exist_ok=True)
    env = C.project_env(DB, BROKER_DB, CACHE_DB, secrets_, pg=pg_url, redis_port=redis_port)
    env.update(
        INTAKE_VAR_DIR=str(scratch / "var"),
        FILE_UPLOAD_TEMP_DIR=str(scratch / "upload-tmp"),
        BENCH_STATIC_ROOT=str(scratch / "static"),
        INTAKE_PRIVATE_ROOT=str(scratch / "private-unused"),
        INTAKE_AUDIT_ANCHOR_ROOT=str(scratch / "anchors-unused"),
        INTAKE_ONE_MACHINE="false",
        INTAKE_TRUSTED_PROXIES="127.0.0.1/32",
        **s3,
    )
    return env


def readyz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:  # noqa: S310
            return r.status == 200
    except OSError:
        return False


def kill_group(proc) -> None:
    for pid in [proc.pid, *C.children(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--clients", type=int, default=10)
    # A case whose routing was inside node B's worker when it was killed is sent
    # again by the sweeper 6 minutes after its last delivery: docs/operations.md.
    parser.add_argument("--drain-timeout", type=float, default=480)
    args = parser.parse_args()
    started = time.time()

    import boto3

    shutil.rmtree(C.TMP / DB, ignore_errors=True)  # a previous run's mail and folders
    pg, redis = C.PrivatePostgres(), C.PrivateRedis()
    pg.create()
    redis.start()
    counts, done = Counter(), Counter()
    lock = threading.Lock()
    errors: list[str] = []
    try:
        with s3_server() as endpoint:
            client = boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            for bucket in ("clinic-mri", "clinic-audit"):
                client.create_bucket(Bucket=bucket)
            s3 = {
                **CREDENTIALS,
                "AWS_S3_ENDPOINT_URL": endpoint,
                "AWS_S3_REGION_NAME": "us-east-1",
                "INTAKE_MRI_S3_BUCKET": "clinic-mri",
                "INTAKE_AUDIT_S3_BUCKET": "clinic-audit",
            }
            secrets_ = C.secret_env()
            envs = {n: node_env(n, pg.url, redis.port, secrets_, s3) for n in ("a", "b")}
            mail_dir = Path(envs["a"]["BENCH_MAIL_DIR"])
            mail_dir.mkdir(parents=True, exist_ok=True)
            C.recreate_db(DB, port=pg.port)
            C.manage(envs["a"], "migrate", "--noinput")
            C.manage(envs["a"], "seed_demo")
            web, worker, proxies = {}, {}, {}
            ports = {n: C.free_port() for n in ("a", "b")}
            proxy_ports = {n: C.free_port() for n in ("a", "b")}

            for n in ("a", "b"):
                C.manage(envs[n], "collectstatic", "--noinput")

            def start_node(n):
                web[n] = C.start_gunicorn(
                    "clinic.wsgi:application", ports[n], envs[n], workers=2, cwd=C.REPO,
                    name=f"two-nodes-{n}-gunicorn", config=C.PROJECT_GUNICORN_CONF,
                )  # fmt: skip
                worker[n] = C.start_celery_worker(
                    "clinic", "urgent,routine", envs[n], cwd=C.REPO, name=f"two-nodes-{n}-worker"
                )

            for n in ("a", "b"):
                start_node(n)
                proxies[n] = Proxy(proxy_ports[n], ports[n]).start()
            C.start_celery_beat("clinic", envs["a"], cwd=C.REPO, name="two-nodes-beat")

            tag = f"tn{os.getpid()}{int(time.time())}"
            next_index = iter(range(args.patients))
            killed = threading.Event()
            restart: dict = {}

            def patient_client():
                w = TwoNodeWalker([proxy_ports["a"], proxy_ports["b"]], counts, lock, timeout=60, retries_on_503=30)
                while True:
                    with lock:
                        i = next(next_index, None)
                    if i is None:
                        return
                    res = w.submit(identity(random.Random(f"{tag}.{i}"), f"{tag}.{i}"), follow=True)
                    with lock:
                        done["ok" if res.ok else "failed"] += 1
                        if not res.ok and len(errors) < 20:
                            errors.append(res.error)

            C.log(f"{args.patients} patients from {args.clients} clients, steps alternating between two nodes")
            threads = [threading.Thread(target=patient_client, daemon=True) for _ in range(args.clients)]
            t0 = time.time()
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                with lock:
                    fraction = (done["ok"] + done["failed"]) / args.patients
                if fraction >= 0.5 and not killed.is_set():
                    killed.set()
                    C.log("  node B killed (SIGKILL to its gunicorn and its Celery worker, with their children)")
                    kill_group(web["b"])
                    kill_group(worker["b"])
                    time.sleep(2.0)
                    t_restart = time.time()
                    start_node("b")
                    C.wait_for(lambda: readyz(proxy_ports["b"]), 60, "node B ready")
                    restart["ready_s"] = round(time.time() - t_restart, 1)
                    C.log(f"  node B back, /readyz 200 {restart['ready_s']} s after its start")
                time.sleep(0.05)
            load_s = time.time() - t0

            def drained():
                return C.drained(DB, pg.port)

            try:
                C.wait_for(drained, args.drain_timeout, "routing and notifications to drain", 1.0)
                drain_ok = True
            except RuntimeError:
                drain_ok = False  # reported below: what was still pending is counted as not routed or not sent
            time.sleep(1.0)
            drained_after_s = round(time.time() - t0 - load_s, 1)
            report = C.djtool(envs["a"], "loadtest-report")
            mail = count_emails(mail_dir)
            C.manage(envs["a"], "shell", "-c", "from clinic.tasks import export_audit_head; export_audit_head()")
            verify = {n: C.manage(envs[n], "verify_audit_chain").strip().splitlines()[-1] for n in ("a", "b")}
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{proxy_ports['b']}/healthz/beat", timeout=5) as r:  # noqa: S310
                    beat_b = json.loads(r.read())
            except urllib.error.HTTPError as exc:  # a 503 names what is stale
                beat_b = json.loads(exc.read() or b"{}") or {"status": f"HTTP {exc.code}"}
            local = ("private-unused", "anchors-unused", "upload-tmp")
            local_files = sum(
                1 for n in ("a", "b") for p in (C.TMP / DB / n).rglob("*") if p.is_file() and set(local) & set(p.parts)
            )
            for p in proxies.values():
                p.stop()
    finally:
        C.stop_all()
        pg.drop()
        redis.stop()

    must_be_zero = {
        "failed patients (client side)": done["failed"],
        "routing and notifications not drained in time": 0 if drain_ok else 1,
        "cases stored vs confirmed": abs(report["cases"] - done["ok"]),
        "cases not routed": report["cases"] - report["routed_once"] - report["routed_twice_or_more"],
        "cases routed twice or more": report["routed_twice_or_more"],
        "notifications sent twice": report["notifications_sent_duplicated"],
        "emails duplicated": mail["duplicated"],
        "emails missing or extra vs sent notifications": abs(mail["emails"] - report["notifications"]["sent"]),
        "files on a node's local disk (MRI, anchors, upload spool)": local_files,
        "nodes whose verify_audit_chain disagrees": sum("agree" not in line for line in verify.values()),
        "beat check from node B not ok": 0 if beat_b["status"] == "ok" else 1,
    }
    result = {
        "patients": args.patients,
        "clients": args.clients,
        "confirmed": done["ok"],
        "resent_to_other_node": counts["resent to the other node"],
        "node_b_ready_s": restart.get("ready_s"),
        "load_s": round(load_s, 1),
        "drained_s_after_load": drained_after_s,
        "report": report,
        "emails": mail,
        "verify_audit_chain": verify,
        "beat_from_node_b": beat_b,
        "must_be_zero": must_be_zero,
        "errors": errors[:10],
        "passed": not any(must_be_zero.values()),
        "seconds": round(time.time() - started),
    }
    print(json.dumps(result, indent=2, default=str))
    C.RESULTS.mkdir(parents=True, exist_ok=True)
    (C.RESULTS / "two-nodes.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\n{'PASSED' if result['passed'] else 'FAILED'} in {result['seconds']} s")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
