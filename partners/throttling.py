"""Rate limits of the partner API, counted in the shared cache.

Two limits:

* per API key (DRF's throttling, ``ApiKeyRateThrottle``) for calls with a valid key;
* per client address for calls **without** a valid key (none, unknown, expired,
  revoked): ``refused_call_limited``. Past it the answer is a 429 before any
  per-call work, and such calls reach the audit trail only in aggregate
  (services.api_call_audit), so nobody can flood the
  audit chain, whose appends are serialised under one lock, without a key.

Both count in the default cache, which production requires to be shared
(Redis, ``CACHE_URL``), so the limits hold across gunicorn workers and
machines; the address is the real one behind trusted proxies
(``clinic.client_ip``, through ``intake.ratelimit.client_address``).
"""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from intake.ratelimit import client_address, limit_exceeded

from .addresses import address_bucket
from .models import ApiKey

log = logging.getLogger(__name__)


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
    the address (its /64 for IPv6: partners.addresses) made more than INTAKE_API_REFUSED_PER_MINUTE of them in a minute
    (the caller answers 429). Fails open with the cache, as intake.ratelimit does."""
    bucket = address_bucket(client_address(request))
    return limit_exceeded("api-refused", bucket, settings.INTAKE_API_REFUSED_PER_MINUTE, period=60)
