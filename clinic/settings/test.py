"""Settings for pytest: real PostgreSQL and Redis when DATABASE_URL and
CELERY_BROKER_URL are set (CI), SQLite and the embedded broker otherwise."""

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
# Tests of the minimum fill time set it themselves.
INTAKE_MIN_FILL_SECONDS = 0
# Rate limits are exercised by their own tests with small values.
INTAKE_SUBMIT_LIMIT_PER_HOUR = 1000
INTAKE_STATUS_LIMIT_PER_HOUR = 1000
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
CELERY_TASK_SOFT_TIME_LIMIT = 30
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: worker processes started by tests must see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
# Serve static files from the finders: tests never run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
