"""Sending a text: a pluggable backend chosen by INTAKE_SMS_URL (settings).

Plumbing, as Django's mail backends are: a text to a patient is an
``intake.models.Notification`` on the text channel, claimed and sent at most
once by ``intake.services.notifications.notification_send``, which calls
``get_backend().send`` here; patientloop decides who gets one (channels).

- empty or ``file://`` (locally, like email's file backend): each text is a
  file in INTAKE_SMS_DIR (or the URL's path), for a developer to read;
- ``http://`` or ``https://``: a JSON POST ``{"to": ..., "body": ...}`` to the
  provider's endpoint, credentials in the URL's user part (basic auth). Any
  answer but 2xx raises ``SmsError``; a ``{"id": ...}`` in the answer is kept.

A backend's ``send`` either hands the text over or raises; it never retries
(the task does, and only when nothing was handed over).
"""

import base64
import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings


class SmsError(Exception):
    """The provider refused the text or could not be reached."""


class FileBackend:
    def __init__(self, directory):
        self.directory = Path(directory)

    def send(self, *, to: str, body: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.txt"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        tmp.rename(self.directory / name)  # whole files only, for anyone watching the folder
        return name


class HttpBackend:
    def __init__(self, url: str, timeout: float = 10.0):
        parts = urlsplit(url)
        self.auth: str | None = None
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.auth = "Basic " + base64.b64encode(pair.encode()).decode()
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        self.url = urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))
        self.timeout = timeout

    def send(self, *, to: str, body: str) -> str:
        data = json.dumps({"to": to, "body": body}).encode()
        request = urllib.request.Request(self.url, data=data, method="POST")  # noqa: S310  (http(s) only: get_backend)
        request.add_header("Content-Type", "application/json")
        if self.auth:
            request.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  (scheme checked in get_backend)
                answer = response.read(4096)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"provider answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"provider unreachable: {type(exc).__name__}") from None
        try:
            return str(json.loads(answer or b"{}").get("id", ""))[:100]
        except (ValueError, AttributeError):
            return ""


def texts_available() -> bool:
    """Can a text reach a patient? A provider is set, or files are allowed
    (not in production: a text written to a server's disk reaches nobody)."""
    return bool(settings.INTAKE_SMS_URL) or settings.INTAKE_SMS_FILE_BACKEND_ALLOWED


def get_backend():
    url = settings.INTAKE_SMS_URL
    if not url:
        return FileBackend(settings.INTAKE_SMS_DIR)
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return FileBackend(urlsplit(url).path or settings.INTAKE_SMS_DIR)
    if scheme in ("http", "https"):
        return HttpBackend(url)
    raise SmsError(f"INTAKE_SMS_URL: unknown scheme {scheme!r}")
