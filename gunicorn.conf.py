"""gunicorn's configuration: ``gunicorn -c gunicorn.conf.py clinic.wsgi``.

https://docs.gunicorn.org/en/stable/settings.html. Every value can be
overridden on the command line; the ones operators change read the
environment (gunicorn reads WEB_CONCURRENCY itself as well).

This file imports nothing from the project: the master process stays free of
Django, and each worker loads clinic.wsgi after the fork.
"""

import os
import re

from gunicorn.glogging import Logger

# --- Workers ------------------------------------------------------------------
# Sync workers: the app is CPU per request with short database round trips,
# and nginx in front buffers slow clients (see "timeout" below), so a worker is
# never held by a slow network. 2 x cores + 1 is gunicorn's rule of thumb;
# WEB_CONCURRENCY overrides it (e.g. in a container limited to fewer cores
# than the host shows). Each worker holds one database connection.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# --- Timeouts -----------------------------------------------------------------
# Behind nginx with request buffering on (its default), a worker sees an
# upload only once nginx holds the whole body, and then reads it at local
# speed: 500 MB (INTAKE_MAX_REQUEST_BYTES) in a few seconds. What the worker
# then does takes longer: spool to a temporary file, check every file's
# content (ZIP entries, DICOM headers), encrypt it in chunks and write it to
# storage (a bucket over the network). 120 s leaves several times that for
# the largest request; gunicorn's 30 s default does not. Never run without a
# buffering proxy: a patient's 100 MB over a 2 Mbit/s uplink takes over
# 6 minutes, and would hold (and be killed in) a sync worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# On SIGTERM (a deploy), requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "60"))
# Restart each worker after this many requests (with jitter, so they do not
# all restart at once): a slow leak in any library stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200

# The heartbeat file on tmpfs: a worker blocked on a slow disk is not
# mistaken for a hung one (https://docs.gunicorn.org/en/stable/faq.html#blocking-os-fchmod).
# S108: gunicorn creates its file there with mkstemp, private to the process.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# --- Proxies ------------------------------------------------------------------
# Whose X-Forwarded-Proto gunicorn believes (wsgi.url_scheme). The same
# proxies the app trusts for the client address (INTAKE_TRUSTED_PROXIES, CIDR
# networks); with only INTAKE_TRUSTED_PROXY_COUNT (addresses not known in
# advance) every peer is a proxy. Default: the local nginx only.
_trusted = os.environ.get("INTAKE_TRUSTED_PROXIES", "").strip()
if _trusted:
    forwarded_allow_ips = _trusted
elif int(os.environ.get("INTAKE_TRUSTED_PROXY_COUNT") or 0) > 0:
    forwarded_allow_ips = "*"
else:
    forwarded_allow_ips = "127.0.0.1,::1"

# --- Logs ---------------------------------------------------------------------
# Access log without query strings (%(U)s is the path alone, where %(r)s
# would carry the query string), without the client's address, referrer or
# user agent, and with the token of a patient's status link replaced (see
# RedactingLogger). Times in milliseconds.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
access_log_format = '%(t)s %(p)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
proc_name = "clinic-web"

# /mri-review/status/<token>/, with or without a language prefix (the same
# pattern as clinic.error_reports.STATUS_TOKEN; a test keeps them equal).
STATUS_TOKEN = re.compile(r"(/mri-review/status/)[^/?#\s'\"]+")


class RedactingLogger(Logger):
    """gunicorn's logger, with the status-link token out of the path and no
    query string, referrer or request line whatever the format asks for."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = STATUS_TOKEN.sub(r"\1<token>", atoms.get("U") or "")
        atoms["U"] = path
        atoms["q"] = "-"
        atoms["f"] = "-"
        atoms["r"] = f"{atoms.get('m')} {path} {atoms.get('H')}"
        for key in [k for k in atoms if k.startswith("{")]:
            if key in ("{referer}i", "{cookie}i", "{x-forwarded-for}i", "{raw_uri}e", "{query_string}e"):
                atoms[key] = "-"
            elif key == "{path_info}e":
                atoms[key] = path
        return atoms


logger_class = RedactingLogger
