"""/healthz and /readyz for load balancers: any Host, no session, no audit,
no rate limit, and a fast 503 naming what is down."""

import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from clinic import health
from clinic.models import AuditEntry
from tests.conftest import broker_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_probe_state(monkeypatch):
    """Each test starts with no check in flight and no probe cache."""
    monkeypatch.setattr(health, "_in_flight", {})
    monkeypatch.setattr(health, "_probe_cache", None)


@pytest.fixture
def production_like(settings):
    """What production turns on; the test settings allow every host."""
    settings.ALLOWED_HOSTS = ["clinic.example"]
    settings.SECURE_SSL_REDIRECT = True
    settings.ADMINS = ["ops@clinic.example"]
    settings.INTAKE_STATUS_LIMIT_PER_HOUR = 1
    return settings


@pytest.mark.parametrize("path", ["/healthz", "/healthz/", "/readyz"])
def test_any_host_gets_an_answer_without_a_session_or_an_audit_row(production_like, path):
    client = Client(HTTP_HOST="10.1.2.3:8000")  # the balancer probes by address
    for _ in range(3):  # never rate-limited either
        response = client.get(path)
        assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    assert Session.objects.count() == 0 and AuditEntry.objects.count() == 0
    # The same Host on a real page is refused, and plain HTTP is redirected:
    # the probes are exempt, not the site.
    assert client.get("/").status_code == 400
    assert Client(HTTP_HOST="clinic.example").get("/").status_code == 301


def test_healthz_is_tiny_and_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.content == b"ok\n" and response["Content-Type"].startswith("text/plain")


def test_readyz_reports_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_only_get_and_head(client):
    assert client.head("/readyz").status_code == 200
    assert client.head("/readyz").content == b""
    response = client.post("/healthz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_failing_check_is_named_and_not_mailed_to_admins(client, monkeypatch, production_like, caplog):
    def broken(timeout):
        raise ConnectionRefusedError("secret-host:6379 refused")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = Client(HTTP_HOST="10.1.2.3").get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "cache": "ok", "broker": "error"}}
    assert b"secret-host" not in response.content  # no error text in the answer
    assert mail.outbox == []  # a probe failing is not a server error
    assert "broker failed (ConnectionRefusedError)" in caplog.text


def test_a_hanging_check_times_out_and_is_not_started_twice(client, monkeypatch, settings):
    settings.INTAKE_READY_CHECK_TIMEOUT = 0.3
    release, calls = threading.Event(), []

    def hangs(timeout):
        calls.append(1)
        release.wait(10)

    monkeypatch.setitem(health.CHECKS, "database", hangs)
    try:
        for _ in range(3):
            started = time.monotonic()
            response = client.get("/readyz")
            assert time.monotonic() - started < 1.0
            assert response.status_code == 503 and response.json()["checks"]["database"] == "timeout"
        assert len(calls) == 1  # one stuck thread per check, not one per probe
    finally:
        release.set()
    health._in_flight["database"].result(timeout=5)
    assert client.get("/readyz").status_code == 200  # the check runs again once it has finished


# --- A real Redis going away and coming back ------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own on a free port; the shared one on 6379
    is never touched."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def private_redis(settings, monkeypatch):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    from clinic.celery import app

    redis = PrivateRedis()
    redis.start()
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                                      "LOCATION": redis.url}}  # fmt: skip
    # The broker check connects the way Celery does, with the app's settings
    # (where the CELERY_BROKER_URL environment variable wins over the setting).
    # Every spelling of the broker settings (the write URL too, which wins
    # when an earlier test left one) points at this Redis (tests/conftest.broker_at).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    with broker_at(app, redis.url):
        yield redis
    if redis.process.poll() is None:
        redis.process.send_signal(signal.SIGCONT)
        redis.stop()


def _timed_probe(client):
    started = time.monotonic()
    response = client.get("/readyz")
    return response, time.monotonic() - started


def test_readyz_answers_503_within_3_s_with_redis_stopped_and_200_when_it_returns(client, private_redis):
    response, _ = _timed_probe(client)
    assert response.status_code == 200, response.content

    private_redis.stop()
    response, elapsed = _timed_probe(client)
    assert response.status_code == 503 and elapsed < 3.0
    assert response.json()["checks"] == {"database": "ok", "cache": "error", "broker": "error"}

    private_redis.start()  # the same port again
    response, elapsed = _timed_probe(client)
    assert response.status_code == 200 and elapsed < 3.0, response.content


def test_readyz_answers_503_within_3_s_while_redis_hangs(client, private_redis):
    """A frozen Redis accepts connections and never answers: the worst case."""
    assert client.get("/readyz").status_code == 200
    private_redis.process.send_signal(signal.SIGSTOP)
    try:
        response, elapsed = _timed_probe(client)
        assert response.status_code == 503 and elapsed < 3.0
        assert response.json()["checks"]["database"] == "ok"
        assert response.json()["checks"]["cache"] in {"error", "timeout"}
        assert response.json()["checks"]["broker"] in {"error", "timeout"}
    finally:
        private_redis.process.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 5  # stuck checks finish within their socket timeouts
    while (response := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert response.status_code == 200, response.content
