"""`make bench` (bench-webhooks): POST a referral -> its webhook at the partner.

The site as `make run` starts it (clinic.settings.local: SQLite and the
embedded broker in a scratch folder), a web server (gunicorn, 2 workers), a
Celery worker for cases (`-Q urgent,routine -c 2`) and one for webhooks
(`-Q webhooks -c 2`), and **no beat**: no sweep runs, so every delivery
measured came through the hand-off when the routing committed
(partners.receivers). A partner's endpoint runs in this process: it checks
every delivery with the `standardwebhooks` library and notes when it arrived.

    python bench/webhooks_bench.py                 # 50 referrals, one every 0.25 s
    python bench/webhooks_bench.py --referrals 20 --interval 0

With DATABASE_URL and CELERY_BROKER_URL set (PostgreSQL and Redis) it runs on
those instead. Writes bench/results/webhooks.json; exits 1 if a referral got
no verified webhook, got one twice, or p95 is over the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

TARGET_P95_S = 1.0
REFERRAL = {
    "consent_attested": True,
    "attested_by": "Bench, referring physician",
    "red_flags": [],
    "first_name": "Bench",
    "last_name": "Patient",
    "date_of_birth": "1971-04-02",
    "phone": "(312) 555-0142",
    "postal_code": "60614",
    "state": "IL",
    "contact_method": "phone",
    "contact_time": "any",
    "consent_phone": True,
    "regions": ["lower_back"],
    "side": "left",
    "pain_duration": "3m_12m",
    "severity": 5,
    "radiating_pain": False,
    "numbness": False,
    "weakness": False,
    "diagnoses": ["unsure"],
    "treatments": {},
    "prior_surgery": False,
    "mri_status": "none",
}


class Endpoint:
    """The partner's receiver: verifies each delivery (standardwebhooks) and
    records (arrival time, reference, stage, event id, verified)."""

    def __init__(self):
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        self.secret = ""  # given once the clinic has made the endpoint
        self.arrivals: list[dict] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                at = time.time()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    event = Webhook(endpoint.secret).verify(body, dict(self.headers))
                    verified = True
                except WebhookVerificationError:
                    event, verified = json.loads(body), False
                with endpoint.lock:
                    endpoint.arrivals.append(
                        {
                            "at": at,
                            "reference": event["reference"],
                            "stage": event["stage"]["key"],
                            "id": event["id"],
                            "verified": verified,
                        }
                    )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/clinic"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def site_env(scratch: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "INTAKE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.local",
        PYTHONPATH=str(C.REPO),
        INTAKE_VAR_DIR=str(scratch),
        INTAKE_SITE_URL=f"http://127.0.0.1:{port}",
        INTAKE_API_RATE_LIMIT="100000/min",
        INTAKE_WEBHOOK_ALLOW_LOOPBACK="true",
        PYTHONDONTWRITEBYTECODE="1",
    )
    if not (os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL")):
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
    return env


def post_referral(port: int, key: str, i: int) -> tuple[float, float, str]:
    """(time sent, seconds to the answer, reference)."""
    body = {**REFERRAL, "email": f"bench.patient{i}.{uuid.uuid4().hex[:6]}@example.com"}
    request = urllib.request.Request(  # noqa: S310  (our own server on loopback)
        f"http://127.0.0.1:{port}/api/v1/referrals/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Idempotency-Key": str(i)},
        method="POST",
    )
    sent = time.time()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201, response.status
        reference = json.loads(response.read())["reference"]
    return sent, time.time() - sent, reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two referrals' POSTs")
    args = parser.parse_args()

    scratch = C.TMP / f"webhooks-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    port = C.free_port()
    env = site_env(scratch, port)
    embedded = "DATABASE_URL" not in env
    C.log(f"site in {scratch} ({'SQLite and the embedded broker' if embedded else 'DATABASE_URL, CELERY_BROKER_URL'})")
    C.manage(env, "migrate", "--no-input")
    C.manage(env, "seed_demo")
    endpoint = Endpoint()
    out = C.manage(env, "partner_key", "Bench Practice", "--webhook-url", endpoint.url)
    key = re.search(r"(ck_\w+_\S+)", out).group(1)
    endpoint.secret = re.search(r"(whsec_\S+)", out).group(1)

    procs = []
    try:
        procs.append(
            C.start_gunicorn(
                "clinic.wsgi", port, env, workers=2, cwd=C.REPO, name="webhooks-web", config=C.BENCH_GUNICORN_CONF
            )
        )
        procs.append(C.start_celery_worker("clinic", "urgent,routine", env, cwd=C.REPO, name="webhooks-cases"))
        procs.append(C.start_celery_worker("clinic", "webhooks", env, cwd=C.REPO, name="webhooks-hooks"))
        # One referral first, not counted: the first request of each process imports and connects.
        post_referral(port, key, -1)
        C.wait_for(lambda: len(endpoint.arrivals) >= 1, 60, "the warm-up referral's webhook")

        C.log(f"{args.referrals} referrals, one every {args.interval} s")
        sent = {}
        answers = []
        for i in range(args.referrals):
            started = time.time()
            at, took, reference = post_referral(port, key, i)
            sent[reference] = at
            answers.append(took)
            time.sleep(max(0.0, args.interval - (time.time() - started)))

        def all_arrived():
            refs = {a["reference"] for a in endpoint.arrivals if a["stage"] == "triage"}
            return set(sent) <= refs

        try:
            C.wait_for(all_arrived, 120, "every referral's webhook")
        except Exception as exc:  # reported below as missing
            C.log(str(exc))
        time.sleep(2)  # anything sent twice would show by now
    finally:
        for p in reversed(procs):
            C.stop(p)
        shutil.rmtree(scratch, ignore_errors=True)

    arrivals = [a for a in endpoint.arrivals if a["reference"] in sent]
    first = {}
    for a in sorted(arrivals, key=lambda a: a["at"]):
        if a["stage"] == "triage":
            first.setdefault(a["reference"], a)
    latencies = sorted(first[r]["at"] - sent[r] for r in sent if r in first)
    ids = [a["id"] for a in arrivals]
    result = {
        "referrals": args.referrals,
        "interval_s": args.interval,
        "stack": "sqlite+embedded broker" if embedded else "DATABASE_URL+CELERY_BROKER_URL",
        "webhooks_received": len(arrivals),
        "missing": sorted(set(sent) - set(first)),
        "duplicate_ids": len(ids) - len(set(ids)),
        "unverified": sum(not a["verified"] for a in arrivals),
        "post_p50_s": round(C.percentile(answers, 50), 3),
        "webhook_p50_s": round(C.percentile(latencies, 50), 3) if latencies else None,
        "webhook_p95_s": round(C.percentile(latencies, 95), 3) if latencies else None,
        "webhook_max_s": round(max(latencies), 3) if latencies else None,
        "webhook_min_s": round(min(latencies), 3) if latencies else None,
        "target_p95_s": TARGET_P95_S,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    ok = (
        latencies
        and not result["missing"]
        and result["duplicate_ids"] == 0
        and result["unverified"] == 0
        and result["webhook_p95_s"] <= TARGET_P95_S
    )
    result["ok"] = bool(ok)
    C.RESULTS.mkdir(parents=True, exist_ok=True)
    (C.RESULTS / "webhooks.json").write_text(json.dumps(result, indent=2) + "\n")
    print()
    print("POST referral -> its webhook verified at the partner (standardwebhooks), no beat")
    print(f"  referrals {args.referrals}, one every {args.interval} s, {result['stack']}")
    print(f"  POST answered          p50 {result['post_p50_s']} s")
    print(
        f"  POST -> webhook        p50 {result['webhook_p50_s']} s   p95 {result['webhook_p95_s']} s   "
        f"max {result['webhook_max_s']} s   (target p95 <= {TARGET_P95_S} s)"
    )
    print(
        f"  received {result['webhooks_received']}, missing {len(result['missing'])}, "
        f"duplicate ids {result['duplicate_ids']}, unverified {result['unverified']}   "
        f"{'OK' if ok else 'FAILED'}"
    )
    print("  written to bench/results/webhooks.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
