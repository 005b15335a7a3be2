"""Cache-based limits per client address: a friendly 429 past the limit.

The limits fail open: if the cache (Redis in production) is unreachable, a
patient's request goes through rather than ending in an error page. Losing a
rate limit for a minute is a far smaller harm than losing a request.
"""

import logging

from django.core.cache import cache
from django.shortcuts import render

log = logging.getLogger(__name__)


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def _cache_down(exc):
    log.warning("rate-limit cache unavailable, allowing the request: %s", type(exc).__name__)


def limit_exceeded(bucket: str, key: str, limit: int, period: int = 3600) -> bool:
    """Count one hit; True once more than ``limit`` hits fell in the window."""
    cache_key = f"rl:{bucket}:{key}"
    try:
        if cache.add(cache_key, 1, period):
            return 1 > limit
        try:
            return cache.incr(cache_key) > limit
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, period)
            return False
    except Exception as exc:  # noqa: BLE001  (any cache failure: fail open, see above)
        _cache_down(exc)
        return False


def failures(key: str) -> int:
    try:
        return cache.get(f"rf:{key}") or 0
    except Exception as exc:  # noqa: BLE001
        _cache_down(exc)
        return 0


def record_failure(key: str, period: int = 3600) -> None:
    try:
        if not cache.add(f"rf:{key}", 1, period):
            cache.incr(f"rf:{key}")
    except Exception as exc:  # noqa: BLE001
        _cache_down(exc)


def clear_failures(key: str) -> None:
    try:
        cache.delete(f"rf:{key}")
    except Exception as exc:  # noqa: BLE001
        _cache_down(exc)


def too_many(request, what: str):
    return render(request, "429.html", {"what": what}, status=429)
