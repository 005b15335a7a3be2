"""Health checks for load balancers: ``/healthz`` and ``/readyz``; for the
operator's monitor: ``/healthz/beat`` (clinic.beat).

* ``/healthz``: the process answers (liveness). Touches nothing else.
* ``/readyz``: the database, the cache and the Celery broker each answer
  within ``INTAKE_READY_CHECK_TIMEOUT`` seconds (readiness); 503 names the one
  that did not.

``HealthCheckMiddleware`` is the first middleware, so these paths never reach
ALLOWED_HOSTS (a balancer probes by address or by its own host name), the SSL
redirect (balancers probe over plain HTTP), sessions (no cookie, no session
row), rate limits or the audit trail. The answers carry no patient data and no
error text: only "ok", "error" or "timeout" per check; the exception's type
goes to the log.

The three checks run in parallel, each in its own short-lived thread, and the
answer never waits longer than the timeout (plus a few milliseconds): a
database or Redis that accepts connections and then says nothing must not hold
a web worker. A check still stuck from an earlier probe is not started again
but reported as a timeout, so a wedged dependency costs at most one thread per
check per process.
"""

import json
import logging
import threading
import time
from concurrent.futures import Future, wait

from django.conf import settings
from django.http import HttpResponse
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

HEALTH_PATHS = {"/healthz", "/healthz/"}
BEAT_PATHS = {"/healthz/beat", "/healthz/beat/"}
READY_PATHS = {"/readyz", "/readyz/"}


# --- The checks --------------------------------------------------------------
def check_database(timeout: float) -> None:
    """A round trip on a connection of this thread's own, closed afterwards
    (returned to the pool when Django's pool is on)."""
    from django.db import connections

    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


_probe_cache: tuple[str, object] | None = None
_probe_cache_lock = threading.Lock()


def _cache_for_probes(timeout: float):
    """The default cache's backend, built once per process with socket
    timeouts (Django's Redis cache has none by default) and shared by the
    probe threads: a new client per probe would leave a connection pool behind
    each time."""
    global _probe_cache
    config = settings.CACHES["default"]
    key = repr((sorted(config.items()), timeout))
    with _probe_cache_lock:
        if _probe_cache is None or _probe_cache[0] != key:
            params = {**config, "OPTIONS": dict(config.get("OPTIONS", {}))}
            backend = params.pop("BACKEND")
            if backend.endswith(".RedisCache"):
                params["OPTIONS"].setdefault("socket_connect_timeout", timeout)
                params["OPTIONS"].setdefault("socket_timeout", timeout)
            _probe_cache = (key, import_string(backend)(params.pop("LOCATION", ""), params))
        return _probe_cache[1]


def check_cache(timeout: float) -> None:
    cache = _cache_for_probes(timeout)
    token = str(time.monotonic_ns())
    cache.set("intake:readyz", token, 30)
    if cache.get("intake:readyz") != token:
        raise RuntimeError("the cache did not return what was just written")


def check_broker(timeout: float) -> None:
    """Connect to CELERY_BROKER_URL (with the app's transport and options)
    once, no retries; a Redis broker is PINGed when its channel opens."""
    from clinic.celery import app

    socket_timeouts = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    with app.connection_for_write(connect_timeout=timeout, transport_options=socket_timeouts) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
        connection.default_channel  # noqa: B018  (opening the channel is the check)


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}

# The future of each check's latest run in this process (see the module doc).
_in_flight: dict[str, Future] = {}
_in_flight_lock = threading.Lock()


def _start(name: str, check, timeout: float) -> Future | None:
    with _in_flight_lock:
        previous = _in_flight.get(name)
        if previous is not None and not previous.done():
            return None
        future: Future = Future()
        _in_flight[name] = future

    def run():
        try:
            check(timeout)
        except BaseException as exc:  # noqa: BLE001  (any failure is "not ready")
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=run, name=f"readyz-{name}", daemon=True).start()
    return future


def run_checks(timeout: float | None = None) -> dict[str, str]:
    """``{"database": "ok" | "error" | "timeout", ...}`` within ``timeout`` s."""
    timeout = settings.INTAKE_READY_CHECK_TIMEOUT if timeout is None else timeout
    futures = {name: _start(name, check, timeout) for name, check in CHECKS.items()}
    wait([f for f in futures.values() if f is not None], timeout=timeout)
    results = {}
    for name, future in futures.items():
        if future is None or not future.done():
            results[name] = "timeout"
        elif future.exception() is not None:
            results[name] = "error"
            log.warning("readiness: %s failed (%s)", name, type(future.exception()).__name__)
        else:
            results[name] = "ok"
    for name, result in results.items():
        if result == "timeout":
            log.warning("readiness: %s did not answer within %s s", name, timeout)
    return results


# --- The middleware ----------------------------------------------------------
def _response(request, status: int, body: str, content_type: str) -> HttpResponse:
    response = HttpResponse("" if request.method == "HEAD" else body, content_type=content_type, status=status)
    response["Cache-Control"] = "no-store"
    # A 503 here is an answer, not a server error: without this Django logs it
    # at ERROR level, which mails ADMINS on every probe while a dependency is
    # down. run_checks() logs one warning naming what failed instead.
    response._has_been_logged = True
    return response


def _beat_response(request) -> HttpResponse:
    """``/healthz/beat``, for the operator's monitor (not the balancer: web
    nodes serve patients whether or not beat runs). 200 when beat ticked and a
    worker ran scheduled work within INTAKE_BEAT_STALE_SECONDS; 503 otherwise,
    naming which."""
    from clinic.beat import beat_status

    try:
        checks = beat_status()
    except Exception as exc:  # noqa: BLE001  (no database: nothing can be said about beat)
        log.warning("beat check: the database did not answer (%s)", type(exc).__name__)
        checks = {"beat": "unknown", "periodic": "unknown"}
    ok = all(value == "ok" for value in checks.values())
    if not ok:
        log.warning("beat check: %s", checks)
    body = json.dumps({"status": "ok" if ok else "unavailable", "checks": checks})
    return _response(request, 200 if ok else 503, body + "\n", "application/json")


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before any other middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path not in HEALTH_PATHS and path not in READY_PATHS and path not in BEAT_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _response(request, 405, "", "text/plain")
            response["Allow"] = "GET, HEAD"
            return response
        if path in HEALTH_PATHS:
            return _response(request, 200, "ok\n", "text/plain")
        if path in BEAT_PATHS:
            return _beat_response(request)
        checks = run_checks()
        ready = all(result == "ok" for result in checks.values())
        body = json.dumps({"status": "ok" if ready else "unavailable", "checks": checks})
        return _response(request, 200 if ready else 503, body + "\n", "application/json")
