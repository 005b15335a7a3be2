"""Settings for `make run` on a laptop: SQLite and the embedded broker by default."""

from .base import *  # noqa: F403  (settings modules extend the base by design)
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-not-secret-9c1f0e2b7d")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Emails land in var/mail as files, so a developer can read them.
if not env("EMAIL_URL", default=""):
    MAILERS = mailer("django.core.mail.backends.filebased.EmailBackend", file_path=str(VAR_DIR / "mail"))  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# A fixed development key for MRI files; production takes its keys from the environment.
INTAKE_FILE_KEYS = env.list("INTAKE_FILE_KEYS", default=["tXy5N0o8o0p0aXx5nP2b0Vb3H9r4Yw6b8XxqkQ2n0zU="])
# A fixed development key for the audit chain; production takes its key from the environment.
INTAKE_AUDIT_KEY = env("INTAKE_AUDIT_KEY", default="local-only-audit-key-7e3a91")
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
