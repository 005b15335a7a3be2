"""Per-key rate limits, counted in the cache (DRF's throttling)."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey

log = logging.getLogger(__name__)


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "partner_key"

    def get_rate(self):
        # Read at each request (not at import) so settings and tests can change it.
        return settings.INTAKE_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None  # no valid key: refused before any work is done
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request, view):
        # Fails open like the patient pages' limits (intake.ratelimit): a referral
        # matters more than a limit while the cache is briefly unreachable.
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # cache down or misconfigured
            log.warning("API rate limit not applied, cache unavailable: %s", type(exc).__name__)
            return True
