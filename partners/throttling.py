"""Per-key rate limits, counted in the cache (DRF's throttling)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "partner_key"

    def get_rate(self):
        # Read at each request (not at import) so settings and tests can change it.
        return settings.INTAKE_API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None  # refused before any work; anonymous calls are limited by the auth failure itself
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
