"""Settings shared by every environment.

The environment is read here and only here (django-environ). Project settings
carry the ``INTAKE_`` prefix. Each non-obvious setting links to its docs.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
# Everything a running site writes locally: the SQLite file, the embedded
# broker, logs, mails. `make soak` points it at a folder of its own.
VAR_DIR = Path(env("INTAKE_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before the admin: content fields per language (education/translation.py).
    "modeltranslation",
    # The admin with the clinic's site class (second factor in production).
    "clinic.admin_site.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "clinic",
    "intake",
    "education",
    "imaging",
    "dicomnode",
    "rest_framework",
    "drf_spectacular",
    "partners",
    "reviews",
    "patientloop",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer load balancers on any Host header,
    # before ALLOWED_HOSTS, the SSL redirect and sessions (clinic.health).
    "clinic.health.HealthCheckMiddleware",
    # The real client address behind trusted proxies, once per request.
    "clinic.client_ip.ClientIPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy everywhere; no-store on the patient's pages.
    "clinic.middleware.PrivacyHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The patient's language: the switcher's cookie, else the browser's
    # Accept-Language (no URL prefix: see README, "Languages"; clinic.i18n).
    "clinic.i18n.LocaleMiddleware",
    # ... except on a case's pages (under its status link): the case's language (intake.status_links).
    "intake.status_links.CaseLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.middleware.StaffIdleTimeoutMiddleware",
    "clinic.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must be last: it turns a locked-out login into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.site",
            ],
            # Cached loaders everywhere: template parsing is CPU we pay per
            # request otherwise (PERFORMANCE.md: speed is CPU per request).
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "django.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Persistent connections are worth ~4.7x on PostgreSQL (PERFORMANCE.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
# A SELECT 1 before the first query of each request, so a persistent
# connection broken by a database restart is replaced instead of failing a
# patient's request. It costs about 7% of an intake step (bench/README.md).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # PostgreSQL's JIT compiles the dashboard's aggregates for ~20 ms each
    # time; these are short OLTP queries that never win it back.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one SQLite file;
    # IMMEDIATE transactions avoid "database is locked" on lock upgrades.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits) ----------------------------------------------------
# https://docs.djangoproject.com/en/6.1/topics/cache/
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://intake-default")}

# --- Auth -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # https://django-axes.readthedocs.io/en/latest/2_installation.html
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# django-axes: lock out after repeated failures, per user name and address,
# and per address alone past INTAKE_SIGN_IN_FAILURES_PER_ADDRESS (clinic.signin_limits).
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = "clinic.signin_limits.axes_lockout_parameters"
# 20 failures in the 30-minute cool-off from one address, whatever the names:
# one person locks at 5 for their own name, so a room of staff behind one
# address mistyping now and then stays well under 20, while a password sprayed
# over many names gets 20 tries per half hour instead of 5 per name, unbounded.
INTAKE_SIGN_IN_FAILURES_PER_ADDRESS = 20
# AccessAttempt keeps a keyed hash of the typed name, never the text (often a password).
AXES_USERNAME_CALLABLE = "clinic.signin_limits.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "clinic/locked_out.html"
# Lock per real client address, not per load balancer (clinic.client_ip).
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"

# seed_demo's demo staff sign in with a published password: production sets False.
INTAKE_DEMO_STAFF_ALLOWED = True

# --- Sessions and cookies ----------------------------------------------------
# Patients' drafts live in the session (server side, in the database).
SESSION_ENGINE = "clinic.sessions"  # the db backend, saving in one statement
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 2  # a patient's draft lives two days
CSRF_COOKIE_HTTPONLY = True
# Staff sessions end after this much idleness (clinic.middleware).
INTAKE_STAFF_IDLE_SECONDS = env.int("INTAKE_STAFF_IDLE_SECONDS", default=15 * 60)

# --- Content Security Policy (Django 6 built-in) -----------------------------
# https://docs.djangoproject.com/en/6.1/ref/csp/
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page uses, denied to every page (clinic.middleware.PrivacyHeadersMiddleware).
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Permissions-Policy
INTAKE_PERMISSIONS_POLICY_DENY = [
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock", "serial", "usb",
    "xr-spatial-tracking", "browsing-topics",
]  # fmt: skip

# --- I18N -------------------------------------------------------------------
# https://docs.djangoproject.com/en/6.1/topics/i18n/translation/
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Stretching content (django-modeltranslation): a Spanish field left empty
# shows the English one, and the page says so.
# https://django-modeltranslation.readthedocs.io/en/latest/registration.html
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# The switcher's choice, kept a year; Lax so a link from an email keeps it.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# TIME_ZONE is the clinic's zone (INTAKE_CLINIC_TIME_ZONE): see "Clinic time and holidays" at the end.
USE_I18N = True
USE_TZ = True
# One date format per language for patients (letters, pages): English "7 December
# 2026" (clinic/formats/en), Spanish Django's own "7 de diciembre de 2026".
# https://docs.djangoproject.com/en/6.1/topics/i18n/formatting/#creating-custom-format-files
FORMAT_MODULE_PATH = ["clinic.formats"]

# --- Static and media ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # MRI files, encrypted (intake.storage): INTAKE_PRIVATE_ROOT, or a bucket (end of this file).
    "mri": {"BACKEND": "intake.storage.PrivateFileSystemStorage"},
}
# Public media (stretch illustrations). MRI files never live here.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Uploads go to disk from the first byte: MRI files are large and must never
# sit whole in memory. https://docs.djangoproject.com/en/6.1/ref/settings/#file-upload-handlers
# On that disk they are encrypted under a key held in memory only (issue 22),
# and a full temporary disk stops the upload with a clear answer, not a 500.
FILE_UPLOAD_HANDLERS = ["intake.uploadhandlers.EncryptedTemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400

# --- Email ------------------------------------------------------------------
# EMAIL_URL (smtp+tls://user:pass@host:587, consolemail://, ...) is parsed by
# django-environ and mapped onto Django 6.1's MAILERS setting.
# https://docs.djangoproject.com/en/6.1/howto/mailers-migration/
_email = env.email_url("EMAIL_URL", default="consolemail://")
_SMTP_OPTIONS = {
    "EMAIL_HOST": "host", "EMAIL_PORT": "port", "EMAIL_HOST_USER": "username", "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls", "EMAIL_USE_SSL": "use_ssl", "EMAIL_TIMEOUT": "timeout",
}  # fmt: skip


def mailer(backend: str, **options) -> dict:
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


def filemail_path(url: str) -> str:
    """The folder of a ``filemail://`` EMAIL_URL, as written: ``filemail:///var/mail``
    is the absolute /var/mail and ``filemail://var/mail`` the relative var/mail.
    django-environ reads the first as "var/mail" (it drops the leading slash
    of the path part), which put mail under the working directory."""
    rest = unquote(url.split("://", 1)[1].split("?", 1)[0])
    return ("/" + rest.lstrip("/")) if rest.startswith("/") else (rest or ".")


if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS = mailer(_email["EMAIL_BACKEND"], **{o: _email[k] for k, o in _SMTP_OPTIONS.items() if _email.get(k)})
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    MAILERS = mailer(_email["EMAIL_BACKEND"], file_path=filemail_path(env.str("EMAIL_URL")))
else:
    MAILERS = mailer(_email["EMAIL_BACKEND"])
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="MRI review <no-reply@spineclinic.example>")
INTAKE_SITE_URL = env("INTAKE_SITE_URL", default="http://127.0.0.1:8000")
# The FHIR export (partners.fhir): the URI under which the clinic's own identifier and code
# systems are named (never the site's address, which moves), and the HMAC key of the person
# identifier that links one person's cases (empty: derived from DJANGO_SECRET_KEY). Changing
# either changes every identifier the EHR has already stored.
INTAKE_FHIR_SYSTEM_BASE = env("INTAKE_FHIR_SYSTEM_BASE", default="https://fhir.riverside-spine.example").rstrip("/")
INTAKE_FHIR_PERSON_KEY = env("INTAKE_FHIR_PERSON_KEY", default="")

# --- Celery -----------------------------------------------------------------
# Read by clinic/celery.py with namespace="CELERY".
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Safety first: a task is acknowledged after it ran, one at a time per process,
# and rejected back to the queue if its worker process dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the outbox keeps the case
# and the sweeper enqueues it later, so the patient is never kept waiting.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
# Urgent and routine work on separate Celery queues (never mixed).
CELERY_TASK_DEFAULT_QUEUE = "routine"
# One visibility timeout everywhere for Redis: an unacked message comes back
# after this long. It must exceed the hard time limit and the longest ETA (a
# retry's countdown, up to 300 s, is held unacknowledged by the worker): 420 s.
INTAKE_VISIBILITY_TIMEOUT = env.int("INTAKE_VISIBILITY_TIMEOUT", default=420)
# A worker looks for such messages every 10 s (kombu's default looks only every
# 10th time, about every 100 s: a lost worker's message came back about 50 s
# late); one small Redis query per worker each time.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": INTAKE_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}


def filesystem_broker_options(folder: Path) -> dict:
    """Embedded broker for `make run`: messages are files under ``folder``,
    written atomically by clinic.broker (README, "Embedded broker")."""
    for sub in ("out", "control", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": env.float("INTAKE_BROKER_POLL_SECONDS", default=0.02),
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport can hand a worker a half-written message
    # and stop it; clinic.broker writes and claims messages atomically.
    # (INTAKE_BROKER_TRANSPORT exists only to measure kombu's own transport beside it.)
    CELERY_BROKER_TRANSPORT = env("INTAKE_BROKER_TRANSPORT", default="clinic.broker:Transport")
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        Path(env("INTAKE_BROKER_DIR", default=str(VAR_DIR / "broker")))
    )
CELERY_BROKER_POOL_LIMIT = 10
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
# Celery closes Django's DB connection around every task unless told to reuse
# it; reuse is worth ~4x per task (PERFORMANCE.md). Read by clinic/celery.py.
INTAKE_CELERY_DB_REUSE_MAX = env.int("INTAKE_CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "intake.tasks.sweep_outbox", "schedule": 10.0},
    "escalate-overdue": {"task": "intake.tasks.escalate_overdue", "schedule": 60.0},
    "purge-expired": {"task": "intake.tasks.purge_expired_cases", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat, watched (clinic.beat): its scheduler writes a heartbeat to the database
# as it ticks, a scheduled task another once a worker ran it; /healthz/beat
# answers 503 when either is older than INTAKE_BEAT_STALE_SECONDS.
CELERY_BEAT_SCHEDULER = "clinic.beat:Scheduler"
INTAKE_BEAT_HEARTBEAT_SECONDS = env.int("INTAKE_BEAT_HEARTBEAT_SECONDS", default=10)
INTAKE_BEAT_STALE_SECONDS = env.int("INTAKE_BEAT_STALE_SECONDS", default=120)
CELERY_BEAT_SCHEDULE["beat-heartbeat"] = {
    "task": "clinic.tasks.beat_heartbeat",
    "schedule": 3.0 * INTAKE_BEAT_HEARTBEAT_SECONDS,
}

# --- Logging: no health data, ever ------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request logs can carry query strings; keep only warnings and up.
        "django.request": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        # WeasyPrint (result letter PDFs) logs every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Forms ------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
CRISPY_FAIL_SILENTLY = not DEBUG

# --- The clinic -------------------------------------------------------------
INTAKE_CLINIC_NAME = env("INTAKE_CLINIC_NAME", default="Riverside Spine Clinic")
INTAKE_CLINIC_PHONE = env("INTAKE_CLINIC_PHONE", default="(555) 010-0199")
# The clinic's street address, one line: on result letters, the consult box and
# an in-person consult whose place names only a room (docs/operations.md, section 8).
INTAKE_CLINIC_ADDRESS = env("INTAKE_CLINIC_ADDRESS", default="1200 River Road, Suite 300, Springfield, IL 62701")
# The clinical summary is for the patient's own (US) doctor: written in the
# clinic's language, whatever the patient reads (reviews.documents).
INTAKE_CLINICAL_SUMMARY_LANGUAGE = env("INTAKE_CLINICAL_SUMMARY_LANGUAGE", default="en")
if INTAKE_CLINICAL_SUMMARY_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"INTAKE_CLINICAL_SUMMARY_LANGUAGE={INTAKE_CLINICAL_SUMMARY_LANGUAGE!r}: use one of {sorted(dict(LANGUAGES))}."
    )
# Business hours for SLA clocks (the urgent queue runs around the clock).
INTAKE_CLINIC_TIME_ZONE = env("INTAKE_CLINIC_TIME_ZONE", default="America/Chicago")
INTAKE_BUSINESS_HOURS = (8, 17)  # 08:00 to 17:00 local
INTAKE_BUSINESS_DAYS = (0, 1, 2, 3, 4)  # Monday to Friday
INTAKE_CONSENT_VERSION = "2026-11-01"
# Upload limits (bytes).
INTAKE_MAX_FILE_BYTES = env.int("INTAKE_MAX_FILE_BYTES", default=100 * 1024 * 1024)
INTAKE_MAX_REQUEST_BYTES = env.int("INTAKE_MAX_REQUEST_BYTES", default=500 * 1024 * 1024)
INTAKE_MAX_FILES = env.int("INTAKE_MAX_FILES", default=20)
# All drafts' files together (not yet part of a case): past this, uploads wait.
INTAKE_MAX_PENDING_DRAFT_BYTES = env.int("INTAKE_MAX_PENDING_DRAFT_BYTES", default=20 * 1024**3)
# Upload requests per client address per hour (one file per request from the page's script).
INTAKE_UPLOAD_LIMIT_PER_HOUR = env.int("INTAKE_UPLOAD_LIMIT_PER_HOUR", default=60)
INTAKE_ZIP_MAX_ENTRIES = env.int("INTAKE_ZIP_MAX_ENTRIES", default=5000)
INTAKE_ZIP_MAX_UNCOMPRESSED_BYTES = env.int("INTAKE_ZIP_MAX_UNCOMPRESSED_BYTES", default=1024 * 1024 * 1024)
INTAKE_ZIP_MAX_RATIO = env.int("INTAKE_ZIP_MAX_RATIO", default=100)
INTAKE_IMAGE_MAX_PIXELS = env.int("INTAKE_IMAGE_MAX_PIXELS", default=50_000_000)
# The image viewer keeps decoded slices in each web process's memory, at most this many bytes (never on disk).
INTAKE_IMAGING_CACHE_BYTES = env.int("INTAKE_IMAGING_CACHE_BYTES", default=256 * 1024 * 1024)
# Untrusted pixels and PDFs are decoded only in capped decoder processes (imaging.cage):
# how many each web or pool process keeps, each one's address space, CPU per request, wall timeout.
INTAKE_IMAGING_DECODERS = env.int("INTAKE_IMAGING_DECODERS", default=2)
INTAKE_IMAGING_DECODER_MEMORY_MB = env.int("INTAKE_IMAGING_DECODER_MEMORY_MB", default=1536)
INTAKE_IMAGING_DECODER_CPU_SECONDS = env.int("INTAKE_IMAGING_DECODER_CPU_SECONDS", default=20)
INTAKE_IMAGING_DECODER_TIMEOUT = env.float("INTAKE_IMAGING_DECODER_TIMEOUT", default=30.0)
# MRI files: outside static and public media, encrypted at rest.
INTAKE_PRIVATE_ROOT = Path(env("INTAKE_PRIVATE_ROOT", default=str(VAR_DIR / "private")))
# Comma-separated Fernet keys, newest first (MultiFernet rotation).
INTAKE_FILE_KEYS = env.list("INTAKE_FILE_KEYS", default=[])
# Spam and abuse limits (per client address, per hour).
INTAKE_SUBMIT_LIMIT_PER_HOUR = env.int("INTAKE_SUBMIT_LIMIT_PER_HOUR", default=10)
INTAKE_STATUS_LIMIT_PER_HOUR = env.int("INTAKE_STATUS_LIMIT_PER_HOUR", default=20)
# Status-page PDFs (result letter, clinical summary) per address and per link per hour.
INTAKE_DOWNLOAD_LIMIT_PER_HOUR = 30
INTAKE_MIN_FILL_SECONDS = env.int("INTAKE_MIN_FILL_SECONDS", default=3)
INTAKE_STATUS_TOKEN_MAX_AGE_DAYS = env.int("INTAKE_STATUS_TOKEN_MAX_AGE_DAYS", default=180)
INTAKE_DUPLICATE_WINDOW_DAYS = 90
INTAKE_RETENTION_DAYS = env.int("INTAKE_RETENTION_DAYS", default=365)
# Called by the retention purge with ``case=``, in its transaction: other apps' data about a case.
INTAKE_PURGE_HOOKS = [
    "reviews.services.case_reviews_purge",
    "patientloop.services.retention.case_patientloop_purge",
    "partners.letters.case_fhir_letter_purge",  # the FHIR export's kept letter
]
# Called with the case list's queryset, each returns it annotated: imaging's
# flags, so the list's MRI column never ticks images that are someone else's.
INTAKE_CASE_LIST_ANNOTATIONS = ["imaging.selectors.cases_with_imaging_flags"]
INTAKE_OUTBOX_SWEEP_AFTER_SECONDS = 30
INTAKE_MAX_ROUTE_DELIVERIES = 5
# Staff must pass a second factor for the admin (production turns it on).
INTAKE_REQUIRE_OTP = env.bool("INTAKE_REQUIRE_OTP", default=False)

# --- Audit trail: keyed chain, head hashes exported (clinic.audit_anchors) ---
# The HMAC key of the audit chain, kept outside the database (local and test
# settings fix a development key; production requires it).
INTAKE_AUDIT_KEY = env("INTAKE_AUDIT_KEY", default="")
# Every few minutes beat writes the chain's head hash as a new, never-rewritten
# object to the "audit" storage: a local folder, or a bucket with S3 Object Lock
# (INTAKE_AUDIT_S3_BUCKET), which the database's users cannot touch.
INTAKE_AUDIT_ANCHOR_SECONDS = env.int("INTAKE_AUDIT_ANCHOR_SECONDS", default=600)
INTAKE_AUDIT_ANCHOR_ROOT = Path(env("INTAKE_AUDIT_ANCHOR_ROOT", default=str(VAR_DIR / "audit-anchors")))
STORAGES["audit"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(INTAKE_AUDIT_ANCHOR_ROOT), "file_permissions_mode": 0o440},
}
if _audit_bucket := env("INTAKE_AUDIT_S3_BUCKET", default=""):
    STORAGES["audit"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _audit_bucket,
            "location": env("INTAKE_AUDIT_S3_PREFIX", default="audit-anchors"),
            "file_overwrite": False,
            "querystring_auth": False,
        },
    }
CELERY_BEAT_SCHEDULE["export-audit-head"] = {
    "task": "clinic.tasks.export_audit_head",
    "schedule": float(INTAKE_AUDIT_ANCHOR_SECONDS),
}

# --- Clinic time and holidays ---
# Every time a person reads (pages, emails, the admin, the CSV) is in the
# clinic's zone; the database keeps UTC (USE_TZ). One setting names the zone:
# https://docs.djangoproject.com/en/6.1/topics/i18n/timezones/
TIME_ZONE = INTAKE_CLINIC_TIME_ZONE
# CELERY_TIMEZONE stays UTC: beat runs intervals, not wall-clock crontabs, and
# task ETAs are aware datetimes, so nothing in Celery depends on the clinic's zone.
# The SLA clock skips these public holidays (observed dates included) and the
# closure days supervisors add in the admin (clinic.ClosureDay).
# https://holidays.readthedocs.io/ ; an empty country turns public holidays off,
# an empty subdivision keeps the national ones only.
INTAKE_HOLIDAY_COUNTRY = env("INTAKE_HOLIDAY_COUNTRY", default="US")
INTAKE_HOLIDAY_SUBDIVISION = env("INTAKE_HOLIDAY_SUBDIVISION", default="IL")

# --- Operations: proxies, health checks, error reports ---
# The real client address (clinic.client_ip). Name the proxies in front of the
# app by network, by count, or both; a hop either names is trusted. Default:
# none, so X-Forwarded-For is ignored and REMOTE_ADDR is the client.
INTAKE_TRUSTED_PROXIES = env.list("INTAKE_TRUSTED_PROXIES", default=[])  # e.g. 10.0.0.0/8,fd00::/8
INTAKE_TRUSTED_PROXY_COUNT = env.int("INTAKE_TRUSTED_PROXY_COUNT", default=0)

# /readyz: seconds each of the database, the cache and the broker may take
# (they are checked in parallel). clinic.health.
INTAKE_READY_CHECK_TIMEOUT = env.float("INTAKE_READY_CHECK_TIMEOUT", default=1.0)

# Error mails: to ADMINS, without patient data (clinic.error_reports).
# https://docs.djangoproject.com/en/6.1/howto/error-reporting/
ADMINS = env.list("DJANGO_ADMINS", default=[])  # e-mail addresses, comma-separated
SERVER_EMAIL = env("DJANGO_SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[clinic] "
DEFAULT_EXCEPTION_REPORTER = "clinic.error_reports.PHISafeExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "clinic.error_reports.PHISafeExceptionReporterFilter"
LOGGING["formatters"]["plain"]["class"] = "clinic.error_reports.PHISafeFormatter"
LOGGING.setdefault("filters", {})["require_debug_false"] = {"()": "django.utils.log.RequireDebugFalse"}
# Django's request log lines name the path: no status-link token, no query string.
LOGGING["filters"]["redact_request_paths"] = {"()": "clinic.error_reports.RedactRequestPaths"}
for _logger in ("django.request", "django.server"):
    LOGGING["loggers"][_logger]["filters"] = ["redact_request_paths"]
# A 503 ("nothing was lost, try again") is one WARNING line, never an error
# mail with a traceback (clinic.error_reports.ServiceUnavailableIsAWarning).
LOGGING["filters"]["service_unavailable_is_a_warning"] = {"()": "clinic.error_reports.ServiceUnavailableIsAWarning"}
LOGGING["loggers"]["django.request"]["filters"].append("service_unavailable_is_a_warning")
# A refused CSRF check is logged by its own logger, naming the path (a status link's too).
LOGGING["loggers"]["django.security.csrf"] = {"filters": ["redact_request_paths"]}
# Celery's "Task ... raised unexpected: <exception>" lines: the type, not the message.
LOGGING["filters"]["redact_task_errors"] = {"()": "clinic.error_reports.RedactTaskErrors"}
for _logger in ("celery.app.trace", "celery.worker.request"):
    LOGGING["loggers"].setdefault(_logger, {})["filters"] = ["redact_task_errors"]
LOGGING["handlers"]["mail_admins"] = {
    "level": "ERROR",
    "filters": ["require_debug_false"],
    "class": "clinic.error_reports.PHISafeAdminEmailHandler",
}
# Replaces Django's default "django" logger (console only under DEBUG, and
# its own mail handler); records still propagate to the root console handler.
LOGGING["loggers"]["django"] = {"handlers": ["mail_admins"], "level": "INFO"}

# PostgreSQL connection pooling. Each web or worker process holds one
# connection (CONN_MAX_AGE); many processes on many machines need a pooler:
# https://docs.djangoproject.com/en/6.1/ref/databases/#connection-pool
# DJANGO_DB_POOL=true: Django's psycopg pool in each process (CONN_MAX_AGE
# must then be 0). DJANGO_DB_PGBOUNCER=true: behind PgBouncer in transaction
# mode, where server-side cursors do not survive between transactions.
# https://docs.djangoproject.com/en/6.1/ref/databases/#transaction-pooling-server-side-cursors
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    if env.bool("DJANGO_DB_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DJANGO_DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=10.0),
        }
    if env.bool("DJANGO_DB_PGBOUNCER", default=False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True


# --- File storage (MRI and media) ---
# Local folders by default. Naming a bucket moves MRI files (and, separately,
# public media) to an S3-compatible bucket through django-storages, so every
# web and worker machine stores, serves, purges, cleans up and re-keys the
# same files. https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
# Credentials come from boto3's own chain: AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or the machine's role. AWS_S3_ENDPOINT_URL names a
# non-AWS service (MinIO, Ceph, R2, ...).
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
INTAKE_MRI_S3_BUCKET = env("INTAKE_MRI_S3_BUCKET", default="")
INTAKE_MEDIA_S3_BUCKET = env("INTAKE_MEDIA_S3_BUCKET", default="")


def mri_s3_storage(bucket: str, prefix: str = "mri") -> dict:
    """STORAGES["mri"] in a bucket: private objects, no URLs (intake.storage.PrivateS3Storage)."""
    return {"BACKEND": "intake.storage.PrivateS3Storage", "OPTIONS": {"bucket_name": bucket, "location": prefix}}


if INTAKE_MRI_S3_BUCKET:
    STORAGES["mri"] = mri_s3_storage(INTAKE_MRI_S3_BUCKET, env("INTAKE_MRI_S3_PREFIX", default="mri"))
if INTAKE_MEDIA_S3_BUCKET:
    # Public stretch illustrations: plain URLs (no signatures) that pages can
    # cache, from a domain in front of the bucket if one is named. The pages'
    # CSP allows images from there and nowhere else new.
    _media_domain = env("INTAKE_MEDIA_S3_DOMAIN", default="")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": INTAKE_MEDIA_S3_BUCKET,
            "location": env("INTAKE_MEDIA_S3_PREFIX", default="media"),
            "querystring_auth": False,
            "file_overwrite": False,
            "custom_domain": _media_domain or None,
        },
    }
    if _media_domain:
        _media_origin = f"https://{_media_domain}"
    elif AWS_S3_ENDPOINT_URL:
        _media_origin = AWS_S3_ENDPOINT_URL.rstrip("/")
    else:
        _media_origin = f"https://{INTAKE_MEDIA_S3_BUCKET}.s3.amazonaws.com"
    SECURE_CSP["img-src"] = [*SECURE_CSP["img-src"], _media_origin]
# Draft MRI files and expired sessions (abandoned drafts) are cleared hourly.
CELERY_BEAT_SCHEDULE["delete-expired-draft-files"] = {
    "task": "intake.tasks.delete_expired_draft_files",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["clear-expired-sessions"] = {"task": "intake.tasks.clear_expired_sessions", "schedule": 3600.0}
# A reminder the day before each consult (reviews; idempotent, so hourly is safe).
CELERY_BEAT_SCHEDULE["consult-reminders"] = {"task": "reviews.tasks.send_consult_reminders", "schedule": 3600.0}

# --- DICOM node (Orthanc) ---
# Imaging centres send studies by C-STORE to the clinic's Orthanc; a beat task
# reads Orthanc's change feed through its REST API every 10 s and attaches
# each study to its case (dicomnode). Off while INTAKE_ORTHANC_URL is empty,
# as in `make run` (README, "DICOM node"). https://orthanc.uclouvain.be/book/users/rest.html
INTAKE_ORTHANC_URL = env("INTAKE_ORTHANC_URL", default="")
INTAKE_ORTHANC_USERNAME = env("INTAKE_ORTHANC_USERNAME", default="")
INTAKE_ORTHANC_PASSWORD = env("INTAKE_ORTHANC_PASSWORD", default="")
INTAKE_ORTHANC_TIMEOUT = env.float("INTAKE_ORTHANC_TIMEOUT", default=30.0)
if INTAKE_ORTHANC_URL:
    # Expires after one period: a busy worker skips stale polls instead of queueing them.
    CELERY_BEAT_SCHEDULE["orthanc-poll"] = {
        "task": "dicomnode.tasks.orthanc_poll",
        "schedule": 10.0,
        "options": {"expires": 10.0},
    }
# The received studies' headers (names, birth dates) kept no longer than their cases.
CELERY_BEAT_SCHEDULE["purge-received-studies"] = {"task": "dicomnode.tasks.purge_received_studies", "schedule": 3600.0}

# --- Partner API (/api/v1/, partners app; docs/partners.md) ---
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["partners.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["partners.authentication.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["partners.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["partners.parsers.DepthLimitedJSONParser"],  # size and nesting checked first
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "partners.problems.problem_exception_handler",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Spine clinic partner API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Referrals in, plain-words status and FHIR R4 out. Guide: docs/partners.md.",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_INCLUDE_SCHEMA": False,  # the schema does not describe itself
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: JSON Schema's if/then for the rules between fields, and `webhooks` (partners.schema).
    "OAS_VERSION": "3.1.0",
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,  # a field left out or null, never a "" enum member
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "partners.schema.postprocess"],
    "WEBHOOKS": ["partners.schema.stage_changed"],
    "ENUM_NAME_OVERRIDES": {
        "StageKeyEnum": "partners.schema.STAGE_KEYS",
        "RedFlagEnum": "partners.schema.RED_FLAGS",
        "RegionEnum": "partners.schema.REGIONS",
        "DiagnosisEnum": "partners.schema.DIAGNOSES",
    },
}
INTAKE_API_RATE_LIMIT = env("INTAKE_API_RATE_LIMIT", default="120/min")  # per API key
# Calls without a valid key, per client address per minute; past it a 429 (partners.throttling).
INTAKE_API_REFUSED_PER_MINUTE = env.int("INTAKE_API_REFUSED_PER_MINUTE", default=20)
# Urgent referrals (each pages the on-call clinician) per API key per hour; past it a 429 and one alert.
INTAKE_API_URGENT_PER_HOUR = env.int("INTAKE_API_URGENT_PER_HOUR", default=20)
INTAKE_API_KEY_DAYS = env.int("INTAKE_API_KEY_DAYS", default=365)  # a new key's lifetime
# Seconds for one webhook attempt: connect, send and the answer together.
INTAKE_WEBHOOK_TIMEOUT = env.float("INTAKE_WEBHOOK_TIMEOUT", default=5.0)
INTAKE_WEBHOOK_MAX_ATTEMPTS = env.int("INTAKE_WEBHOOK_MAX_ATTEMPTS", default=12)
# Deliveries to one endpoint being sent at once; more wait their turn (partners.services).
INTAKE_WEBHOOK_MAX_IN_FLIGHT = env.int("INTAKE_WEBHOOK_MAX_IN_FLIGHT", default=1)
# http:// and this machine's addresses as webhook destinations: development and
# tests only; production.py switches it off whatever the environment says.
INTAKE_WEBHOOK_ALLOW_LOOPBACK = env.bool("INTAKE_WEBHOOK_ALLOW_LOOPBACK", default=True)
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {"task": "partners.tasks.sweep_webhooks", "schedule": 10.0}
# Webhooks on their own Celery queue and worker (clinic/celery.py, README): a
# partner's slow endpoint never holds the worker that routes cases or mails patients.
CELERY_TASK_ROUTES = {
    "partners.tasks.deliver_webhook": {"queue": "webhooks"},
    "partners.tasks.sweep_webhooks": {"queue": "webhooks"},
}

# --- The patient loop (patientloop): status-page actions and contact by consent ---
# Texts: INTAKE_SMS_URL empty or file:// writes each text to INTAKE_SMS_DIR (as
# email does locally); https://user:token@provider/path posts JSON {to, body}.
INTAKE_SMS_URL = env("INTAKE_SMS_URL", default="")
INTAKE_SMS_DIR = Path(env("INTAKE_SMS_DIR", default=str(VAR_DIR / "sms")))
# Status updates closer together than this reach the patient as one message.
INTAKE_PATIENT_UPDATE_DEBOUNCE_SECONDS = env.int("INTAKE_PATIENT_UPDATE_DEBOUNCE_SECONDS", default=180)
# After the date-of-birth check the status page's actions do not ask again for this long.
INTAKE_PATIENT_VERIFIED_MINUTES = env.int("INTAKE_PATIENT_VERIFIED_MINUTES", default=30)
INTAKE_PATIENT_ACTION_LIMIT_PER_HOUR = env.int("INTAKE_PATIENT_ACTION_LIMIT_PER_HOUR", default=30)
CELERY_BEAT_SCHEDULE["dispatch-patient-updates"] = {
    "task": "patientloop.tasks.dispatch_patient_updates",
    "schedule": 20.0,
}
INTAKE_SMS_FILE_BACKEND_ALLOWED = True  # production: False (texts only through a provider)
