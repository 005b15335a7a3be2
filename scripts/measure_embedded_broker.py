"""Measure the embedded broker `make run` uses: submit -> routed latency,
routing throughput and an idle worker's CPU, on SQLite.

    .venv/bin/python scripts/measure_embedded_broker.py [--poll 0.02] [--n 40] [--transport atomic|kombu]

``atomic`` is clinic.broker (the default of `make run`), ``kombu`` kombu's own
filesystem transport, for comparison.

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
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--transport", choices=["atomic", "kombu"], default="atomic")
    parser.add_argument("--idle-seconds", type=float, default=20)
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
        INTAKE_VAR_DIR=str(work),
    )
    if args.transport == "kombu":
        env["INTAKE_BROKER_TRANSPORT"] = "kombu.transport.filesystem:Transport"
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
        time.sleep(6)  # worker start-up
        cpu0 = cpu_seconds(worker.pid)
        time.sleep(args.idle_seconds)
        idle_cpu = cpu_seconds(worker.pid) - cpu0
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
    print(f"{args.transport} filesystem transport, polling {args.poll}s, SQLite, 2 worker processes")
    print(f"  idle worker CPU: {idle_cpu:.2f} s in {args.idle_seconds:.0f} s")
    print(f"  submit -> routed: p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {max(latencies):.0f} ms (n={args.n})")
    print(f"  throughput: {burst / elapsed:.0f} cases routed/s ({burst} submitted at once)")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the pool), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [pid, *map(int, out)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


if __name__ == "__main__":
    main()
