"""Production: PostgreSQL and Redis (or RabbitMQ) from the environment.

The default for wsgi.py, asgi.py and the Celery app (cookiecutter-django's
habit): a process started without a settings module gets these, and these
refuse to start, naming every missing variable at once, rather than fall back
to a development default (SQLite, the embedded broker, a committed key).
https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403  (settings modules extend the base by design)
from .base import env

REQUIRED = {
    "DJANGO_SECRET_KEY": "a random value of 50 characters or more",
    "DJANGO_ALLOWED_HOSTS": "the site's host names, comma-separated",
    "DATABASE_URL": "PostgreSQL, e.g. postgres://clinic:password@db:5432/clinic",
    "CELERY_BROKER_URL": "Redis or RabbitMQ, e.g. redis://redis:6379/0",
    "CACHE_URL": "Redis for rate limits, e.g. redis://redis:6379/1",
    "INTAKE_SITE_URL": "the public https:// address, e.g. https://mri.example-clinic.org",
    "INTAKE_FILE_KEYS": "one or more Fernet keys for MRI files, newest first",
    "INTAKE_AUDIT_KEY": "a random value of 32 characters or more, kept apart from database backups",
    "EMAIL_URL": "the mail relay, e.g. smtp+tls://user:password@smtp.example:587",
}


def _problems() -> list[str]:
    missing = [name for name in REQUIRED if not os.environ.get(name, "").strip()]
    problems = [f"{name} is not set: {REQUIRED[name]}." for name in missing]
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key and len(key) < 50:
        problems.append("DJANGO_SECRET_KEY is too short: use a random value of 50 characters or more.")
    audit_key = os.environ.get("INTAKE_AUDIT_KEY", "")
    if audit_key and len(audit_key) < 32:
        problems.append("INTAKE_AUDIT_KEY is too short: use a random value of 32 characters or more.")
    site = os.environ.get("INTAKE_SITE_URL", "")
    if site and not site.startswith("https://"):
        problems.append(f"INTAKE_SITE_URL must start with https:// (emails carry private status links): {site!r}.")
    db = os.environ.get("DATABASE_URL", "")
    if db.startswith("sqlite"):
        problems.append("DATABASE_URL names SQLite: production runs on PostgreSQL (several processes and machines).")
    sms = os.environ.get("INTAKE_SMS_URL", "")
    if sms and not sms.startswith("https://"):
        problems.append("INTAKE_SMS_URL must start with https:// (texts carry status links, the URL a key).")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith(("filesystem", "memory")):
        problems.append("CELERY_BROKER_URL names an embedded broker: production uses Redis or RabbitMQ.")
    if not os.environ.get("INTAKE_AUDIT_S3_BUCKET", "").strip() and not env.bool("INTAKE_ONE_MACHINE", default=False):
        # The head-hash export is a beat task any worker may run: with a local
        # folder each worker machine would keep its own anchors and
        # verify_audit_chain on one machine would check only those.
        problems.append(
            "INTAKE_AUDIT_S3_BUCKET is not set: the audit chain's head hashes must go to one bucket that every "
            "machine reads (docs/operations.md). Only if every worker and beat run on this one machine, set "
            "INTAKE_ONE_MACHINE=true to keep them in INTAKE_AUDIT_ANCHOR_ROOT."
        )
    problems += _cache_problems(os.environ.get("CACHE_URL", "").strip())
    return problems


# Caches each process (or machine) keeps to itself: the rate limits would be
# counted per worker, so 12 workers allow 12 times the limit (issue 22).
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "a memory cache each worker process keeps to itself",
    "django.core.cache.backends.dummy.DummyCache": "a cache that keeps nothing",
    "django.core.cache.backends.filebased.FileBasedCache": "a folder each machine keeps to itself",
}


def _cache_problems(url: str) -> list[str]:
    if not url:
        return []
    # An unknown scheme stopped the base settings already (django-environ).
    backend = env.cache_url_config(url)["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            f"CACHE_URL names {PER_PROCESS_CACHES[backend]} ({url.split(':', 1)[0]}): rate limits would split per "
            "process. Production shares one cache between every worker, e.g. redis://redis:6379/1."
        ]
    return []


if problems := _problems():
    raise ImproperlyConfigured(
        "The production settings (clinic.settings.production) cannot start:\n  - "
        + "\n  - ".join(problems)
        + "\nSet these environment variables, or run locally with DJANGO_SETTINGS_MODULE=clinic.settings.local."
    )

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
INTAKE_FILE_KEYS = env.list("INTAKE_FILE_KEYS")
INTAKE_SITE_URL = env("INTAKE_SITE_URL").rstrip("/")

# https://docs.djangoproject.com/en/6.1/ref/middleware/#http-strict-transport-security
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The language switcher's cookie: over https only, and never read by scripts.
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

# Staff must pass a second factor (TOTP) for the admin in production.
INTAKE_REQUIRE_OTP = True

# No demo staff with the README's password (seed_demo refuses; --no-staff seeds the rest).
INTAKE_DEMO_STAFF_ALLOWED = False

# Texts go to a provider (INTAKE_SMS_URL) or not at all: never into files on a
# server where nobody reads them (clinic.sms.texts_available).
INTAKE_SMS_FILE_BACKEND_ALLOWED = False

# Each web process checks the cache once as it boots, and refuses to start
# without it (clinic.middleware.CacheCheckAtStartupMiddleware).
MIDDLEWARE = ["clinic.middleware.CacheCheckAtStartupMiddleware", *MIDDLEWARE]  # noqa: F405

CACHES = {"default": env.cache("CACHE_URL")}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Without socket timeouts a frozen Redis would hang every rate-limited
    # request; with them the limits fail open (intake.ratelimit) in a second.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 1})

# Webhooks only to public https:// addresses (partners.safehttp), whatever the environment says.
INTAKE_WEBHOOK_ALLOW_LOOPBACK = False

# --- Database time limits: a stuck database is a 503 in seconds, not a hang ---
# Without them a frozen or overloaded PostgreSQL held every web worker until
# gunicorn killed it, and the patient got no page (issue 22). With them the
# patient gets the 503 "nothing you sent was lost, try again" page within
# about ANSWER + CONNECT seconds, and each worker is free again by itself.
# Beat's purge and session clean-up raise their own limit
# (clinic.dbengine.longer_statements); a worker process may be given longer
# limits through the same variables.
# https://www.postgresql.org/docs/current/runtime-config-client.html
# Opening a connection (psycopg applies at least 2 s).
INTAKE_DB_CONNECT_TIMEOUT = env.int("INTAKE_DB_CONNECT_TIMEOUT", default=3)
# One statement: the pages' queries take milliseconds; 10 s is a runaway.
INTAKE_DB_STATEMENT_TIMEOUT_MS = env.int("INTAKE_DB_STATEMENT_TIMEOUT_MS", default=10_000)
# Waiting for a row or table lock: the locks here are held for milliseconds
# (a case's routing, a notification's claim); a longer wait is a stuck holder.
INTAKE_DB_LOCK_TIMEOUT_MS = env.int("INTAKE_DB_LOCK_TIMEOUT_MS", default=5_000)
# A transaction left open by a client that stopped (a frozen worker): ended,
# so its locks do not stop everyone else.
INTAKE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env.int("INTAKE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=60_000)
# The client's own limit on any answer, for a server too frozen to apply the
# limits above (clinic.dbengine.base); longer than the statement timeout, so a
# slow statement is ended by the server first.
INTAKE_DB_ANSWER_TIMEOUT = env.float("INTAKE_DB_ANSWER_TIMEOUT", default=INTAKE_DB_STATEMENT_TIMEOUT_MS / 1000 + 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "clinic.dbengine"  # noqa: F405
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    _db_options["connect_timeout"] = INTAKE_DB_CONNECT_TIMEOUT
    _db_options["answer_timeout"] = INTAKE_DB_ANSWER_TIMEOUT
    _db_options["options"] = " ".join(
        [
            _db_options.get("options", ""),
            f"-c statement_timeout={INTAKE_DB_STATEMENT_TIMEOUT_MS}",
            f"-c lock_timeout={INTAKE_DB_LOCK_TIMEOUT_MS}",
            f"-c idle_in_transaction_session_timeout={INTAKE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
        ]
    ).strip()
