"""Rate limits of the partner API, counted in the shared cache.

Two limits:

* per API key (DRF's throttling, ``ApiKeyRateThrottle``) for calls with a valid key;
* per client address for calls **without** a valid key (none, unknown, expired,
  revoked): ``refused_call_limited``. Past it the answer is a 429 before any
  per-call work, and such calls reach the audit trail only in aggregate
  (``refused_calls_count``; services.api_call_audit), so nobody can flood the
  audit chain, whose appends are serialised under one lock, without a key.

Both count in the default cache, which production requires to be shared
(Redis, ``CACHE_URL``), so the limits hold across gunicorn workers and
machines; the address is the real one behind trusted proxies
(``clinic.client_ip``, through ``intake.ratelimit.client_address``).
"""

import logging

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from intake.ratelimit import client_address, limit_exceeded

from .models import ApiKey

log = logging.getLogger(__name__)

# Per-minute counters of refused calls are kept this long, so an address's next
# audit entry can still carry the count of its previous minute.
REFUSED_COUNT_TTL = 2 * 3600


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "partner_key"

    def get_rate(self):
        # Read at each request (not at import) so settings and tests can change it.
        return settings.INTAKE_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None  # no valid key: limited by address instead (refused_call_limited)
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view):
        # Fails open like the patient pages' limits (intake.ratelimit): a referral
        # matters more than a limit while the cache is briefly unreachable.
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # cache down or misconfigured
            log.warning("API rate limit not applied, cache unavailable: %s", type(exc).__name__)
            return True


def refused_call_limited(request) -> bool:
    """Count one call without a valid key from this request's address; True once
    the address made more than INTAKE_API_REFUSED_PER_MINUTE of them in a minute
    (the caller answers 429). Fails open with the cache, as intake.ratelimit does."""
    return limit_exceeded("api-refused", client_address(request), settings.INTAKE_API_REFUSED_PER_MINUTE, period=60)


def _count_key(address: str, minute: str) -> str:
    return f"api-refused-n:{address}:{minute}"


def refused_calls_count(address: str, minute: str) -> tuple[int, tuple[str, int] | None] | None:
    """Count one refused call of ``address`` in ``minute`` (e.g. ``2026-12-07T23:01Z``).

    Returns (calls so far in this minute, (the address's previous minute with
    refused calls, its final count) or None). The second part is only given
    with the first call of a minute: it is what that minute's audit entry
    carries. None if the cache is unavailable (the caller audits the call on
    its own then: a missing entry would be worse than one per call).
    """
    try:
        key = _count_key(address, minute)
        if cache.add(key, 1, REFUSED_COUNT_TTL):
            n = 1
        else:
            try:
                n = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, REFUSED_COUNT_TTL)
                n = 1
        if n != 1:
            return n, None
        last_key = f"api-refused-last:{address}"
        previous_minute = cache.get(last_key)
        cache.set(last_key, minute, REFUSED_COUNT_TTL)
        if not previous_minute or previous_minute == minute:
            return 1, None
        previous_count = cache.get(_count_key(address, previous_minute))
        return 1, ((previous_minute, int(previous_count)) if previous_count else None)
    except Exception as exc:  # noqa: BLE001  (whatever the cache raises)
        log.warning("refused-call count unavailable, auditing the call on its own: %s", type(exc).__name__)
        return None
