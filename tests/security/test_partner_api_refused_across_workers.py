"""The limit on calls without a valid key holds across gunicorn workers: it is
counted in the shared cache (Redis in production), not in each process. Three
sync workers, a redis-server of this test's own, 200 bad-key requests each on
its own connection: 20 answered 401 in all (not 20 per worker), the rest 429,
and one audit entry for the minute."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from clinic.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def redis_url():
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603  (a fixed command line)
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def pong():
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    try:
        _wait(pong, "redis-server", 10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def gunicorn(redis_url, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        DATABASE_URL=_database_url(),
        CACHE_URL=redis_url,
        INTAKE_API_REFUSED_PER_MINUTE="20",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    cmd = [str(Path(sys.executable).with_name("gunicorn")), "clinic.wsgi", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", "3", "--worker-class", "sync", "--config", "/dev/null", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200, "gunicorn")  # noqa: S310
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer nonsense", "Connection": "close"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (our own local server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_limit_is_shared_by_the_workers(gunicorn):
    started = time.monotonic()
    codes = [_status(f"{gunicorn}/api/v1/referrals/") for _ in range(200)]
    # The limit's window is 60 s from the first refused call: a slow machine may need more than one.
    windows = 1 + int((time.monotonic() - started) // 60)
    assert set(codes) == {401, 429}
    # 20 per window for the whole server; counted per process, three workers let about 60 through.
    assert codes.count(401) == 20 if windows == 1 else codes.count(401) <= 20 * windows
    # One entry per minute (two if the run crossed a minute boundary).
    entries = AuditEntry.objects.filter(object_type="partner_api", action=AuditEntry.Action.REFUSED).count()
    assert 1 <= entries <= 1 + windows
