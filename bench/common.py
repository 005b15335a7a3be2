"""Shared plumbing of bench/run.py and bench/loadtest.py: services, databases,
environments, the processes the scripts start (and stop, also on Ctrl-C),
gunicorn, Celery workers and wrk."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_BIN = REPO / ".venv" / "bin"
PY = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
TMP = BENCH / ".tmp"
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- Processes we start: tracked, and always stopped ----------------------------
_PROCS: list[subprocess.Popen] = []


def start(cmd: list[str], *, env: dict, log_name: str, cwd: Path = REPO) -> subprocess.Popen:
    """Start a process in its own session (so its children can be stopped with it)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    out = open(LOGS / log_name, "ab")  # noqa: SIM115  (kept open for the process' life)
    out.write(f"\n=== {time.strftime('%F %T')} {' '.join(cmd)}\n".encode())
    out.flush()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc._bench_log = LOGS / log_name  # type: ignore[attr-defined]
    _PROCS.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group we created for ``proc``; SIGKILL it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # Children that outlived their parent (e.g. prefork children) are in the same group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _PROCS:
        _PROCS.remove(proc)


def stop_all() -> None:
    for proc in reversed(list(_PROCS)):
        with contextlib.suppress(Exception):
            stop(proc, timeout=5)


def _on_signal(signum, frame):
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def run(cmd: list[str], *, env: dict | None = None, cwd: Path = REPO, check: bool = True, quiet: bool = True):
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=quiet, text=True)
    if check and res.returncode != 0:
        detail = (res.stdout or "")[-3000:] + (res.stderr or "")[-3000:] if quiet else ""
        raise RuntimeError(f"command failed ({res.returncode}): {' '.join(cmd)}\n{detail}")
    return res


# --- Services ---------------------------------------------------------------------
def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: sudo apt-get install -y wrk")
    log("installing wrk (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        run(["apt-get", "install", "-y", "-q", "wrk"], env=env)
    return shutil.which("wrk") or "wrk"


def redis_cli(*args: str, db: int | None = None, check: bool = False):
    cmd = ["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT)]
    if db is not None:
        cmd += ["-n", str(db)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, check=check)


def redis_up() -> bool:
    return redis_cli("ping").stdout.strip() == "PONG"


def redis_start() -> None:
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT)]
        + ["--save", "", "--appendonly", "no"],
        capture_output=True,
        check=True,
    )
    wait_for(redis_up, 30, "redis")


def ensure_services() -> None:
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode != 0:
        log("starting PostgreSQL")
        version = sorted(os.listdir("/etc/postgresql"))[0]
        run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
        wait_for(lambda: subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0, 30, "postgres")
    if not redis_up():
        log("starting Redis")
        redis_start()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


# --- Private servers: what a fault run may restart ------------------------------------
# A run that restarts a database or a broker starts its own on another port;
# the machine's shared PostgreSQL and Redis are never stopped.
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str):
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args], capture_output=True, text=True
        )

    def up(self) -> bool:
        return self.cli("ping").stdout.strip() == "PONG"

    def start(self) -> None:
        cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.proc = start(cmd, env=dict(os.environ), log_name=f"redis-{self.port}.log")
        wait_for(self.up, 30, f"private redis on {self.port}")

    def stop(self) -> None:
        self.cli("shutdown", "nosave")
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        wait_for(lambda: not self.up(), 10, "private redis to stop")

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class PrivatePostgres:
    """A throw-away cluster (pg_createcluster) on its own port, trust auth on loopback."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.version = sorted(os.listdir("/etc/postgresql"))[0]
        self.name = f"bench{os.getpid()}"
        self.created = False

    def _ctl(self, action: str, *extra: str) -> None:
        run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action, *extra])

    def ready(self) -> bool:
        return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0

    def create(self) -> None:
        run(["pg_createcluster", self.version, self.name, "-p", str(self.port), "--start-conf", "manual",
             "-o", "max_connections=200", "-o", "fsync=off", "--", "--auth=trust"])  # fmt: skip
        self.created = True
        atexit.register(self.drop)
        self.start()

    def start(self) -> None:
        self._ctl("start")
        wait_for(self.ready, 30, f"private postgres on {self.port}")

    def stop(self) -> None:
        # Fast shutdown: every session is ended at once, as in a real restart.
        self._ctl("stop", "-m", "fast")

    def drop(self) -> None:
        if self.created:
            subprocess.run(["pg_dropcluster", "--stop", self.version, self.name], capture_output=True)
            self.created = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"


# --- Databases ----------------------------------------------------------------------
def psql(db: str, sql: str, port: int = 5432) -> str:
    res = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-At", "-c", sql])
    return res.stdout.strip()


def drained(db: str, port: int = 5432) -> bool:
    """Every case routed and every notification out (sent or given up)."""
    pending = psql(
        db,
        "SELECT (SELECT count(*) FROM intake_reviewrequest WHERE routed_at IS NULL)"
        " + (SELECT count(*) FROM intake_notification WHERE state IN ('pending', 'sending'))",
        port=port,
    )
    return int(pending) == 0


def recreate_db(name: str, template: str | None = None, port: int = 5432) -> None:
    run(["dropdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "--if-exists", "--force", name])
    cmd = ["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name]
    if template:
        cmd += ["-T", template]
    run(cmd)


def drop_db(name: str, port: int = 5432) -> None:
    run(["dropdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "--if-exists", "--force", name], check=False)


# --- Environments ---------------------------------------------------------------------
def secret_env() -> dict:
    """A fresh secret key and Fernet key for this run (never written anywhere)."""
    import base64

    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(45),
        "INTAKE_FILE_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "INTAKE_AUDIT_KEY": secrets.token_urlsafe(32),
    }


def project_env(
    db: str, broker_db: int, cache_db: int, secrets_: dict, *, pg: str = PG, redis_port: int = REDIS_PORT, **extra: str
) -> dict:
    """The clinic under clinic.settings.production (via bench_settings), configured from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "INTAKE_"))}
    scratch = TMP / db
    env.update(
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=f"{BENCH}:{REPO}",
        DATABASE_URL=f"{pg}/{db}",
        CELERY_BROKER_URL=f"redis://{REDIS_HOST}:{redis_port}/{broker_db}",
        CACHE_URL=f"redis://{REDIS_HOST}:{redis_port}/{cache_db}",
        # Production refuses a plain-http site address; nothing is served on this name.
        INTAKE_SITE_URL="https://clinic.bench.invalid",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        # All the load comes from one address: lift the per-address limits.
        INTAKE_SUBMIT_LIMIT_PER_HOUR="100000000",
        INTAKE_STATUS_LIMIT_PER_HOUR="100000000",
        # A machine fills the six steps in milliseconds; the anti-bot minimum
        # fill time would silently discard every scripted submission.
        INTAKE_MIN_FILL_SECONDS="0",
        INTAKE_PRIVATE_ROOT=str(scratch / "private"),
        MEDIA_ROOT=str(scratch / "media"),
        BENCH_STATIC_ROOT=str(TMP / "staticfiles"),
        # Emails go to files in this folder (an absolute filemail:/// URL); loadtest.py counts them.
        EMAIL_URL=f"filemail://{scratch / 'mail'}",
        BENCH_MAIL_DIR=str(scratch / "mail"),
        # Every process of a bench runs on this machine: the audit anchors stay in a local folder.
        INTAKE_ONE_MACHINE="true",
        INTAKE_AUDIT_ANCHOR_ROOT=str(scratch / "audit-anchors"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(secrets_)
    # BENCH_CONN_HEALTH_CHECKS=false measures the project without Django's
    # per-request connection ping (on by default in the settings).
    if os.environ.get("BENCH_CONN_HEALTH_CHECKS"):
        env["DJANGO_CONN_HEALTH_CHECKS"] = os.environ["BENCH_CONN_HEALTH_CHECKS"]
    env.update(extra)
    return env


def baseline_env(db: str, broker_db: int, secrets_: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "INTAKE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="baseline.settings",
        PYTHONPATH=str(BENCH / "baseline"),
        DATABASE_URL=f"{PG}/{db}",
        CELERY_BROKER_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/{broker_db}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECRET_KEY=secrets_["DJANGO_SECRET_KEY"],
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def manage(env: dict, *args: str, baseline: bool = False) -> str:
    script = BENCH / "baseline" / "manage.py" if baseline else REPO / "manage.py"
    return run([PY, str(script), *args], env=env, cwd=script.parent).stdout


def djtool(env: dict, *args: str) -> dict:
    """Run bench/djtool.py (Django set up with ``env``); it prints one JSON line last."""
    out = run([PY, str(BENCH / "djtool.py"), *args], env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- gunicorn -----------------------------------------------------------------------
BENCH_GUNICORN_CONF = Path(__file__).resolve().parent / "gunicorn_bench.conf.py"
PROJECT_GUNICORN_CONF = REPO / "gunicorn.conf.py"


def start_gunicorn(
    wsgi: str,
    port: int,
    env: dict,
    *,
    workers: int,
    cwd: Path,
    name: str,
    extra: list[str] | None = None,
    config: Path = BENCH_GUNICORN_CONF,
) -> subprocess.Popen:
    """gunicorn with an explicit configuration file: the benches' empty one by
    default (the same for the project and the baseline), the project's own for
    runs that test the deployment (the fault run, the imaging bench's access log)."""
    cmd = [str(VENV_BIN / "gunicorn"), wsgi, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    cmd += ["--config", str(config)]
    cmd += ["--worker-class", "sync", "--worker-tmp-dir", "/dev/shm", "--log-level", "warning"]
    cmd += ["--backlog", "2048", "--timeout", "60"] + (extra or [])
    proc = start(cmd, env=env, log_name=f"{name}.log", cwd=cwd)
    wait_http(f"http://127.0.0.1:{port}/", proc, 60)
    wait_for(lambda: len(children(proc.pid)) >= workers, 30, f"{name} workers")
    return proc


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    def ok():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited; see {proc._bench_log}")  # type: ignore[attr-defined]
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            return True
        except urllib.error.HTTPError:
            return True  # it answers
        except OSError:
            return False

    wait_for(ok, timeout, url, 0.2)


# --- Celery ------------------------------------------------------------------------
def start_celery_worker(
    app: str, queues: str, env: dict, *, cwd: Path, name: str, concurrency: int = 2, loglevel: str = "INFO"
) -> subprocess.Popen:
    log_path = LOGS / f"{name}.log"
    start_offset = log_path.stat().st_size if log_path.exists() else 0
    cmd = [str(VENV_BIN / "celery"), "-A", app, "worker", "-Q", queues, "-c", str(concurrency)]
    cmd += ["-P", "prefork", "-l", loglevel, "-n", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
    proc = start(cmd, env=env, log_name=f"{name}.log", cwd=cwd)

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited; see {log_path}")
        with open(log_path, "rb") as f:
            f.seek(start_offset)
            return b" ready." in f.read()

    wait_for(ready, 60, f"celery worker {name}", 0.2)
    wait_for(lambda: len(children(proc.pid)) >= concurrency, 30, f"{name} pool processes")
    return proc


def start_celery_beat(app: str, env: dict, *, cwd: Path, name: str) -> subprocess.Popen:
    TMP.mkdir(parents=True, exist_ok=True)
    schedule = TMP / f"{name}-schedule"
    for p in TMP.glob(f"{name}-schedule*"):
        p.unlink()
    cmd = [str(VENV_BIN / "celery"), "-A", app, "beat", "-l", "INFO", "-s", str(schedule)]
    return start(cmd, env=env, log_name=f"{name}.log", cwd=cwd)


# --- wrk ---------------------------------------------------------------------------
def run_wrk(url: str, *, script: Path, args: list[str], duration: float, connections: int) -> dict:
    """One wrk run; threads = connections, so a Lua thread state is one connection's state."""
    cmd = [
        "wrk",
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    res = run(cmd, cwd=BENCH)
    out = res.stdout
    parsed: dict = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    parsed["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            parsed[f"p{pct}_ms"] = round(value, 2)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    parsed["non_2xx_3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    parsed["socket_errors"] = sum(map(int, m.groups())) if m else 0
    m = re.search(r"^BENCH_JSON (.*)$", out, re.M)
    parsed["lua"] = json.loads(m.group(1)) if m else {}
    return parsed


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values, pct: float):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
