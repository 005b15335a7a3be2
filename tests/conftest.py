import os
import shutil

import pytest
from django.conf import settings


def pytest_report_header(config):
    db = os.environ.get("DATABASE_URL") or "SQLite (var/test-db.sqlite3)"
    broker = os.environ.get("CELERY_BROKER_URL") or "kombu filesystem transport (var/broker)"
    return [f"database: {db.split('@')[-1]}", f"celery broker: {broker.split('@')[-1]}"]


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    """Every test gets its own media, MRI and text-message folders."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INTAKE_PRIVATE_ROOT = tmp_path / "private"
    settings.INTAKE_SMS_URL = ""  # the file backend: never a real provider
    settings.INTAKE_SMS_DIR = tmp_path / "sms"
    yield


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A request in Spanish leaves Spanish active in this thread (as on a
    server thread until its next request): every test starts in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def seeded(db):
    """Default queues, rules and groups as `seed_demo` makes them."""
    from intake import seed

    seed.seed_groups()
    return seed.seed_queues_and_rules()


@pytest.fixture
def seeded_tx(transactional_db):
    from intake import seed

    seed.seed_groups()
    return seed.seed_queues_and_rules()


def purge_broker():
    from clinic.celery import app

    with app.connection_for_write() as conn:
        for q in ("urgent", "routine", "webhooks"):
            try:
                conn.default_channel.queue_purge(q)
            except Exception:  # noqa: S110  (a queue that does not exist yet has nothing to purge)
                pass


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in this process, in a thread) on the configured
    broker and the test database, consuming both Celery queues."""
    from celery.contrib.testing.worker import start_worker

    from clinic.celery import app

    purge_broker()
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ) as worker:
        yield worker
    drop_other_connections()


def drop_other_connections():
    """The worker thread keeps its database connection (as it should); once it
    has stopped, end that session so the test database can be dropped."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(scope="session", autouse=True)
def _embedded_broker_cleanup():
    """The embedded broker's folder is this run's own; remove it afterwards."""
    yield
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        shutil.rmtree(settings.VAR_DIR / f"broker-test-{settings.RUN_ID}", ignore_errors=True)


class broker_at:
    """The Celery app publishes to ``url``, whatever is configured.

    Celery reads a Django-namespaced key (CELERY_BROKER_URL) before the plain
    one, and the embedded filesystem transport wins over any URL, so both
    spellings of both settings are pointed away and restored afterwards."""

    URLS = ("broker_url", "CELERY_BROKER_URL", "broker_write_url", "CELERY_BROKER_WRITE_URL")
    KEYS = (*URLS, "broker_transport", "CELERY_BROKER_TRANSPORT")

    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    def _reset(self):
        from kombu import pools

        pools.reset()  # the global connection/producer pools are keyed by URL
        self.app._pool = None
        self.app.amqp._producer_pool = None

    def __enter__(self):
        conf = self.app.conf
        # What the app's own changes held, so leaving puts back exactly that:
        # a key written here and left behind (even restored to the configured
        # value) would outrank a later test's own broker settings.
        self.saved = {k: conf.changes[k] for k in self.KEYS if k in conf.changes}
        for k in self.KEYS:
            conf[k] = self.url if k in self.URLS else None
        self._reset()
        assert self.app.connection_for_write().as_uri().endswith(self.url.rsplit("@", 1)[-1].split("//", 1)[-1])

    def __exit__(self, *exc):
        changes = self.app.conf.changes
        for k in self.KEYS:
            if k in self.saved:
                changes[k] = self.saved[k]
            else:
                changes.pop(k, None)
        self._reset()


class broker_down(broker_at):
    """The broker at a port where nothing listens."""

    def __init__(self, app):
        super().__init__(app, "redis://127.0.0.1:1/0")


@pytest.fixture
def patient(client):
    """A patient past the safety screen, with a draft that takes uploads."""
    from tests.intake.helpers import fill_until

    fill_until(client, last="safety")
    return client
