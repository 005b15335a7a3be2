"""Settings for pytest: real PostgreSQL and Redis when DATABASE_URL and
CELERY_BROKER_URL are set (CI), SQLite and the embedded broker otherwise."""

import os
from pathlib import Path

from .base import *  # noqa: F403  (settings modules extend the base by design)
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret-4b7e0a"
ALLOWED_HOSTS = ["*"]
# Fast hashing: tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = mailer("django.core.mail.backends.locmem.EmailBackend")  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
INTAKE_FILE_KEYS = ["x0ZPc0T9nK3o6Qm8y2pC1g9qkVb7wHf5sXl4rUa8t2E="]
INTAKE_AUDIT_KEY = "test-only-audit-key-5d1c"
# Never a developer's var/audit-anchors: tests that export point it at their own folder.
# (A bucket named by INTAKE_AUDIT_S3_BUCKET is kept as it is: processes share it.)
if STORAGES["audit"]["BACKEND"].endswith("FileSystemStorage"):  # noqa: F405
    STORAGES["audit"]["OPTIONS"]["location"] = str(  # noqa: F405
        Path(env("INTAKE_AUDIT_ANCHOR_ROOT", default=str(VAR_DIR / f"audit-anchors-test-{os.getpid()}")))  # noqa: F405
    )
# Tests of the minimum fill time set it themselves.
INTAKE_MIN_FILL_SECONDS = 0
# Rate limits are exercised by their own tests with small values.
INTAKE_SUBMIT_LIMIT_PER_HOUR = 1000
INTAKE_STATUS_LIMIT_PER_HOUR = 1000
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
CELERY_TASK_SOFT_TIME_LIMIT = 30
# Test runs on one machine must not share a database or an embedded broker
# (a developer's run beside CI's, say): both are named for this process
# unless a parent process (a test starting a worker) named them already.
RUN_ID = env("INTAKE_TEST_RUN_ID", default=str(os.getpid()))
os.environ["INTAKE_TEST_RUN_ID"] = RUN_ID
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: worker processes started by tests must see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{RUN_ID}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{RUN_ID}"}  # noqa: F405
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(  # noqa: F405
        Path(env("INTAKE_BROKER_DIR", default=str(VAR_DIR / f"broker-test-{RUN_ID}")))  # noqa: F405
    )
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
