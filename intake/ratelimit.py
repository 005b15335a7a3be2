"""Cache-based limits per client address: a friendly 429 past the limit.

The limits fail open: if the cache (Redis in production) is unreachable, a
patient's request goes through rather than ending in an error page. Losing a
rate limit for a minute is a far smaller harm than losing a request.
"""

import functools
import logging

from django.core.cache import cache
from django.shortcuts import render

from clinic.client_ip import client_ip

log = logging.getLogger(__name__)


def client_address(request) -> str:
    """The real client address behind trusted proxies (clinic.client_ip), so
    patients behind one load balancer do not share a bucket."""
    return client_ip(request) or "unknown"


def _fail_open(default):
    """Any cache failure: log it and answer ``default`` (see above)."""

    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001  (whatever the cache raises)
                log.warning("rate-limit cache unavailable, allowing the request: %s", type(exc).__name__)
                return default

        return inner

    return wrap


@_fail_open(False)
def limit_exceeded(bucket: str, key: str, limit: int, period: int = 3600) -> bool:
    """Count one hit; True once more than ``limit`` hits fell in the window."""
    cache_key = f"rl:{bucket}:{key}"
    if cache.add(cache_key, 1, period):
        return 1 > limit
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, period)
        return False


@_fail_open(0)
def failures(key: str) -> int:
    return cache.get(f"rf:{key}") or 0


@_fail_open(None)
def record_failure(key: str, period: int = 3600) -> None:
    if not cache.add(f"rf:{key}", 1, period):
        cache.incr(f"rf:{key}")


@_fail_open(None)
def clear_failures(key: str) -> None:
    cache.delete(f"rf:{key}")


def too_many(request, what: str):
    return render(request, "429.html", {"what": what}, status=429)
