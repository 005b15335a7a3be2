"""Cache-based limits per client address: a friendly 429 past the limit."""

from django.core.cache import cache
from django.shortcuts import render


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


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


def too_many(request, what: str):
    return render(request, "429.html", {"what": what}, status=429)
