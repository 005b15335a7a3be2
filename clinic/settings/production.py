"""Production: PostgreSQL and Redis (or RabbitMQ) from the environment.

Secrets have no default: a missing DJANGO_SECRET_KEY or DJANGO_ALLOWED_HOSTS
stops start-up (https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/).
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403  (settings modules extend the base by design)
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of 50 characters or more.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the site's host names.")
INTAKE_FILE_KEYS = env.list("INTAKE_FILE_KEYS")
if not INTAKE_FILE_KEYS:
    raise ImproperlyConfigured("INTAKE_FILE_KEYS must hold at least one Fernet key for MRI files.")

# Email must be configured: notifications are part of the service.
if not env("EMAIL_URL", default=""):
    raise ImproperlyConfigured("EMAIL_URL must name the mail relay, e.g. smtp+tls://user:password@host:587.")

# https://docs.djangoproject.com/en/6.1/ref/middleware/#http-strict-transport-security
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

# Staff must pass a second factor (TOTP) for the admin in production.
INTAKE_REQUIRE_OTP = True

CACHES = {"default": env.cache("CACHE_URL", default="redis://127.0.0.1:6379/1")}
