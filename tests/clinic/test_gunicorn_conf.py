"""gunicorn.conf.py: workers from the cores, upload-sized timeouts, trusted
proxies, and an access log with no query strings and no status-link tokens."""

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gunicorn.config import Config

from clinic.error_reports import STATUS_TOKEN

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
SECRET = "Qv7secretdob19700321"
TOKEN = "eyJpZCI6NDJ9:1vX2Yz:AbCdEfGhIjKlMnOpQrStUv"


def load(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "INTAKE_TRUSTED_PROXIES", "INTAKE_TRUSTED_PROXY_COUNT", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(CONF))
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn's own validation of each value
    return config


def test_workers_follow_the_cores_unless_web_concurrency_says(monkeypatch):
    assert load(monkeypatch).workers == 2 * os.cpu_count() + 1
    assert load(monkeypatch, WEB_CONCURRENCY="3").workers == 3


def test_sync_workers_with_room_for_large_uploads(monkeypatch):
    config = load(monkeypatch)
    assert config.worker_class_str == "sync"
    assert config.timeout >= 120 and 0 < config.graceful_timeout <= config.timeout
    assert load(monkeypatch, GUNICORN_TIMEOUT="300").timeout == 300


def test_forwarded_allow_ips_are_the_apps_trusted_proxies(monkeypatch):
    assert load(monkeypatch).forwarded_allow_ips == ["127.0.0.1", "::1"]
    trusted = load(monkeypatch, INTAKE_TRUSTED_PROXIES="10.0.0.0/8,fd00::/8").forwarded_allow_ips
    assert trusted == ["10.0.0.0/8", "fd00::/8"]
    assert load(monkeypatch, INTAKE_TRUSTED_PROXY_COUNT="1").forwarded_allow_ips == ["*"]


def test_access_log_format_has_no_query_string(monkeypatch):
    fmt = load(monkeypatch).access_log_format
    assert "%(U)s" in fmt
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(h)s", "%(a)s", "{x-forwarded-for}i"):
        assert atom not in fmt


def test_the_token_pattern_matches_the_error_reports():
    assert runpy.run_path(str(CONF))["STATUS_TOKEN"].pattern == STATUS_TOKEN.pattern


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  (loopback, http)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.skipif(sys.platform != "linux", reason="gunicorn runs on Linux here")
def test_real_gunicorn_logs_paths_without_tokens_or_query_strings(tmp_path):
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "INTAKE_", "GUNICORN_"))},
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "INTAKE_VAR_DIR": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(access_log),
        "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        # No control socket: it would live in $HOME, shared with any other gunicorn.
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "--no-control-socket", "clinic.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
            time.sleep(0.1)
        assert _get(f"{base}/healthz?probe={SECRET}") == 200
        assert _get(f"{base}/mri-review/status/{TOKEN}/?dob={SECRET}") == 404  # a made-up token
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    log = access_log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in log
    assert '"GET /mri-review/status/<token>/ HTTP/1.1"' in log
    for secret in (SECRET, TOKEN, "?"):
        assert secret not in log
    # The error log (Django's "Not Found: <path>" warning) neither.
    assert "Not Found: /mri-review/status/<token>/" in errors
    assert TOKEN not in errors and SECRET not in errors


def test_a_worker_loads_every_view_when_it_starts_not_on_its_first_request():
    # What a gunicorn worker does after the fork: import clinic.wsgi. The view
    # modules behind the URLconf (the partner API's among them) are loaded then.
    code = (
        "import sys, clinic.wsgi\n"
        "print(all(m in sys.modules for m in ('clinic.urls', 'partners.views', 'imaging.views', 'intake.views')))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings.test"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
