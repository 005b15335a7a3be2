"""Profiles behind the bench's misses, with py-spy (not a project dependency:
`.venv/bin/pip install py-spy`). Uses the databases a `make bench` run left.

    python bench/profile.py web [--seconds 20]      # gunicorn workers under the intake walk
    python bench/profile.py worker [--tasks 2000]   # the Celery pool processes routing cases
    python bench/profile.py summary FILE            # top functions of a collapsed-stack file

Collapsed stacks (one "frame;frame;... count" per line) go to results/profiles/.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
import run as R  # noqa: E402

PROFILES = C.RESULTS / "profiles"


def py_spy() -> str:
    path = shutil.which("py-spy") or str(C.VENV_BIN / "py-spy")
    if not Path(path).exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    return path


def record(pid: int, seconds: float, out: Path, *, subprocesses: bool = True) -> subprocess.Popen:
    PROFILES.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy(), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(out)]
    if subprocesses:
        cmd.append("--subprocesses")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(path: Path, top: int = 40, own_prefixes=("intake/", "clinic/")) -> str:
    """Inclusive share of samples per function, and per project function."""
    total = 0
    inclusive: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            # "function (path/to/file.py:line)" -> "function (file.py)"
            name, _, where = frame.partition(" (")
            file = where.rsplit(":", 1)[0]
            key = f"{name} ({'/'.join(file.split('/')[-2:])})"
            if key not in seen:
                seen.add(key)
                inclusive[key] += n
    lines = [f"{total} samples; inclusive share of the top functions:"]
    for key, n in inclusive.most_common(top):
        lines.append(f"  {100 * n / total:5.1f}%  {key}")
    return "\n".join(lines)


def cmd_web(args):
    env = C.project_env(R.DB, R.BROKER_DB, R.CACHE_DB, C.secret_env())
    lua = R.write_lua_data()
    proc = C.start_gunicorn(
        "clinic.wsgi:application", R.PROJECT_PORT, env, workers=4, cwd=C.REPO, name="profile-gunicorn"
    )
    try:
        url = f"http://127.0.0.1:{R.PROJECT_PORT}"
        script = C.BENCH / "lua" / "intake_walk.lua"
        C.run_wrk(url, script=script, args=[str(lua["intake_post"]), "pw"], duration=3, connections=16)
        out = PROFILES / "intake_post.txt"
        spy = record(proc.pid, args.seconds + 1, out)
        time.sleep(1)
        res = C.run_wrk(
            url, script=script, args=[str(lua["intake_post"]), f"pr{int(time.time())}"], duration=args.seconds,
            connections=16,
        )  # fmt: skip
        spy.wait(60)
        print(R.Bench._describe("intake_post", res))
        print(summary(out))
    finally:
        C.stop_all()


def cmd_worker(args):
    env = C.project_env(R.DB, R.BROKER_DB, R.CACHE_DB, C.secret_env())
    C.redis_cli("flushdb", db=R.BROKER_DB)
    made = C.djtool(env, "make-cases", str(args.tasks), "--enqueue", "--seed", "99")
    first, last = made["ids"]
    worker = C.start_celery_worker("clinic", "urgent,routine", env, cwd=C.REPO, name="profile-worker")
    try:
        out = PROFILES / "route_case.txt"
        spy = record(worker.pid, args.seconds, out)
        C.wait_for(lambda: R.unrouted(R.DB, first - 1) == 0, 300, "routing drained", 0.5)
        spy.wait(120)
        print(C.djtool(env, "route-throughput", str(first), str(last)))
        print(summary(out))
    finally:
        C.stop_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("web")
    p.add_argument("--seconds", type=float, default=20)
    p = sub.add_parser("worker")
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=15)
    p = sub.add_parser("summary")
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.cmd == "summary":
        print(summary(args.file, args.top))
    else:
        {"web": cmd_web, "worker": cmd_worker}[args.cmd](args)


if __name__ == "__main__":
    main()
