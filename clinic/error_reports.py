"""Error reports and logs that carry no patient data.

Django's error mail to ADMINS holds the request's POST data (a patient's
answers), uploaded file names, cookies and session id, every local variable of
every frame, the full request environ (client address, referrer with its query
string) and the exception's message, which can quote a value (a database
integrity error names the duplicate e-mail address). None of that may leave the
server by e-mail, and none of it may reach the logs.

So outside DEBUG:

* ``PHISafeExceptionReporter`` (DEFAULT_EXCEPTION_REPORTER) writes a report
  from an allow-list instead: exception type, method, path (status-link token
  replaced), host, view, user name for staff, time, versions and the
  traceback's frames (file, line, function, source line), with no message and
  no variables. A superuser's request is no exception: staff requests carry
  patient data just the same, and e-mail is not where patient data goes.
* ``PHISafeExceptionReporterFilter`` (DEFAULT_EXCEPTION_REPORTER_FILTER)
  strips POST data, cookies, request META and local variables for anything
  else that asks the filter.
* ``PHISafeAdminEmailHandler`` replaces the status-link token in the subject.
* ``PHISafeFormatter`` is the console formatter: tracebacks without exception
  messages, status-link tokens replaced.
* ``RedactRequestPaths`` rewrites Django's request log records themselves (no
  token, no query string), so no handler ever sees them; ``RedactTaskErrors``
  does the same for the exception's message in Celery's task failure lines.

With DEBUG on (a developer's laptop) Django's full technical report is shown.
"""

import logging
import platform
import re
import sys
import traceback

import django
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# /mri-review/status/<signed token>/ (with or without a language prefix): the
# token plus a date of birth opens a patient's status page.
STATUS_TOKEN = re.compile(r"(/mri-review/status/)[^/?#\s'\"]+")
REDACTED_TOKEN = r"\1<token>"
MESSAGE_REMOVED = "(message left out: it can hold patient data)"

# Request META keys that hold no personal data. Everything else (the client
# address, cookies, referrer, query string, forwarded headers) stays out.
SAFE_META = (
    "REQUEST_METHOD",
    "PATH_INFO",
    "SCRIPT_NAME",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "HTTP_HOST",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
)


# A query string after a path, as in runserver's request lines.
QUERY_STRING = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def redact_path(text: str) -> str:
    return STATUS_TOKEN.sub(REDACTED_TOKEN, text)


def redact_request_line(text: str) -> str:
    return QUERY_STRING.sub(r"\1", redact_path(text))


def _reporting_is_safe() -> bool:
    """Strip everything unless DEBUG is on (Django shows the full report then)."""
    try:
        return not settings.DEBUG
    except Exception:  # noqa: BLE001  (settings not configured: strip)
        return True


def safe_traceback(exc: BaseException | None, tb=None) -> str:
    """A traceback with frames and exception types only: no messages, no notes,
    no variables. Chained exceptions (cause or context) come first, as Python
    prints them."""
    if exc is None:
        return ""
    lines: list[str] = []
    seen: set[int] = set()

    def add(e, e_tb):
        seen.add(id(e))
        cause = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
        if cause is not None and id(cause) not in seen:
            add(cause, cause.__traceback__)
            lines.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
                if e.__cause__ is not None
                else "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(e_tb))
        lines.append(f"{type(e).__module__}.{type(e).__qualname__} {MESSAGE_REMOVED}\n")

    add(exc, tb if tb is not None else exc.__traceback__)
    return "".join(lines)


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Active unless DEBUG (``is_active`` is inherited): no POST data, cookies,
    META beyond SAFE_META, or local variables."""

    def get_post_parameters(self, request):
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return {}

    def get_safe_cookies(self, request):
        if not self.is_active(request):
            return super().get_safe_cookies(request)
        return {}

    def get_safe_request_meta(self, request):
        if not self.is_active(request):
            return super().get_safe_request_meta(request)
        meta = getattr(request, "META", {})
        return {key: redact_path(str(meta[key])) for key in SAFE_META if key in meta}

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return []


class PHISafeExceptionReporter(ExceptionReporter):
    """The error mail's text from an allow-list (see the module doc)."""

    def _describe_request(self) -> list[str]:
        request = self.request
        if request is None:
            return ["Request:  (none: not raised while answering a request)"]
        meta = self.filter.get_safe_request_meta(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            who = f"staff user {user.get_username()} (id {user.pk})"
        else:
            who = "not signed in"
        return [
            f"Request:  {meta.get('REQUEST_METHOD', '?')} {redact_path(request.path)}",
            f"Host:     {meta.get('HTTP_HOST', meta.get('SERVER_NAME', '?'))}",
            f"View:     {match.view_name if match else '(not resolved)'}",
            f"User:     {who}",
        ]

    def get_traceback_text(self):
        if not _reporting_is_safe():
            return super().get_traceback_text()
        if self.exc_type is not None:
            headline = f"{self.exc_type.__module__}.{self.exc_type.__qualname__} {MESSAGE_REMOVED}"
        else:  # a logged message without an exception: the message is ours
            headline = redact_path(str(self.exc_value))
        lines = [
            headline,
            "",
            *self._describe_request(),
            f"Time:     {timezone.now().isoformat(timespec='seconds')}",
            f"Server:   Django {django.get_version()}, Python {platform.python_version()} ({sys.executable})",
            "",
            "POST data, uploaded files, cookies, the session, request headers, local",
            "variables and the exception's message are left out on purpose: they can",
            "hold patient data. The time and path find the request in the access log.",
            "",
            safe_traceback(self.exc_value if isinstance(self.exc_value, BaseException) else None, self.tb),
        ]
        return "\n".join(lines)

    def get_traceback_html(self):
        if not _reporting_is_safe():
            return super().get_traceback_html()
        return f"<!doctype html><html><body><pre>{escape(self.get_traceback_text())}</pre></body></html>"


class PHISafeAdminEmailHandler(AdminEmailHandler):
    """Django's mail to ADMINS, with the status-link token out of the subject
    and the first line, and never an HTML part (the text says it all)."""

    def __init__(self, include_html=False, **kwargs):
        super().__init__(include_html=False, **kwargs)

    def format(self, record):
        return redact_path(super().format(record))

    def format_subject(self, subject):
        return super().format_subject(redact_path(subject))


class RedactRequestPaths(logging.Filter):
    """On the ``django.request`` and ``django.server`` loggers: rewrite the
    record's message without status-link tokens and query strings, for every
    handler (a filter on a logger runs before any handler sees the record)."""

    def filter(self, record):
        message = record.getMessage()
        clean = redact_request_line(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class RedactTaskErrors(logging.Filter):
    """On Celery's task loggers: a failed or retried task's log line names the
    exception's type, not its message (``Task ... raised unexpected:
    IntegrityError(...)`` would otherwise quote the message)."""

    def filter(self, record):
        exc_info = record.exc_info
        if isinstance(record.args, dict) and "exc" in record.args:
            exc = exc_info[1] if exc_info else None
            # Without exc_info ("raised expected"), the repr's head: "KeyError('x')" -> KeyError.
            kind = type(exc).__qualname__ if exc is not None else str(record.args["exc"]).split("(", 1)[0][:80]
            record.args = {**record.args, "exc": f"{kind} {MESSAGE_REMOVED}", "traceback": ""}
            if isinstance(getattr(record, "data", None), dict):
                record.data = record.args
        return True


class PHISafeFormatter(logging.Formatter):
    """Console formatter: tracebacks without exception messages (outside
    DEBUG), status-link tokens replaced in every line."""

    def formatException(self, ei):
        if not _reporting_is_safe():
            return super().formatException(ei)
        return safe_traceback(ei[1], ei[2]).rstrip("\n")

    def format(self, record):
        return redact_path(super().format(record))


class ServiceUnavailableIsAWarning(logging.Filter):
    """On ``django.request``: a 503 is an answer, not a server error.

    The database-unavailable page ("nothing you sent was lost", from
    ``clinic.views.server_error``) and the other 503s (a full disk, the file
    store down) tell the visitor to try again; the failure behind them is
    temporary and reported elsewhere (``clinic.dbretry`` logs each retry,
    storage alerts reach supervisors). Django logs every 5xx at ERROR with the
    traceback, which mails ADMINS once per response: one database restart
    under load meant hundreds of mails and tracebacks. Here the one record
    Django writes per 503 becomes a WARNING naming the exception's type,
    without the traceback, below the mail handler's level.
    """

    def filter(self, record):
        if getattr(record, "status_code", None) == 503 and record.levelno > logging.WARNING:
            exc = record.exc_info[1] if record.exc_info else None
            if exc is not None:
                record.msg = f"{record.msg} ({type(exc).__qualname__})"
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True
