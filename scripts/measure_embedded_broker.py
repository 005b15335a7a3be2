"""Measure the embedded broker `make run` uses: submit -> routed latency and
routing throughput with kombu's filesystem transport on SQLite.

    .venv/bin/python scripts/measure_embedded_broker.py [--poll 0.1] [--n 40]

It starts its own worker on a throw-away SQLite file and broker folder.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="broker-measure-"))
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.local",
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        INTAKE_BROKER_DIR=str(work / "broker"),
        INTAKE_BROKER_POLL_SECONDS=str(args.poll),
        INTAKE_PRIVATE_ROOT=str(work / "private"),
    )
    os.environ.update(env)
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([py, "manage.py", "seed_demo", "--no-staff"], cwd=ROOT, env=env, check=True, capture_output=True)
    worker = subprocess.Popen(
        [py, "-m", "celery", "-A", "clinic", "worker", "-Q", "urgent,routine", "-c", "2", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from intake.models import ReviewRequest
    from intake.services.submission import review_request_submit

    answers = dict(first_name="Bench", last_name="Mark", email="b@example.com", regions=["neck"], mri_status="none",
                   pain_duration="gt_12m", consent_privacy=True)  # fmt: skip
    try:
        time.sleep(4)  # worker start-up
        latencies = []
        for i in range(args.n):  # one at a time: latency
            case = review_request_submit(answers={**answers, "email": f"b{i}@example.com"})
            while not ReviewRequest.objects.filter(pk=case.pk, routed_at__isnull=False).exists():
                time.sleep(0.005)
            routed = ReviewRequest.objects.get(pk=case.pk).routed_at
            latencies.append((routed - case.created_at).total_seconds() * 1000)
        burst = 200  # all at once: throughput
        start = time.monotonic()
        ids = [review_request_submit(answers={**answers, "email": f"t{i}@example.com"}).pk for i in range(burst)]
        while ReviewRequest.objects.filter(pk__in=ids, routed_at__isnull=True).exists():
            time.sleep(0.05)
        elapsed = time.monotonic() - start
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    q = statistics.quantiles(latencies, n=100)
    print(f"filesystem transport, polling {args.poll}s, SQLite, 2 worker processes")
    print(f"  submit -> routed: p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {max(latencies):.0f} ms (n={args.n})")
    print(f"  throughput: {burst / elapsed:.0f} cases routed/s ({burst} submitted at once)")


if __name__ == "__main__":
    main()
