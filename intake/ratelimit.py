"""Limits per client address, and wrong answers per status link: a friendly
429 past the limit.

The per-address limits live in the cache and fail open: if the cache (Redis in
production) is unreachable, a patient's request goes through rather than
ending in an error page. Losing a rate limit for a minute is a far smaller
harm than losing a request.

Wrong answers (a status link's date of birth) are different: that limit is
what stops someone guessing a birth date to read a patient's status, so it
must not switch off with the cache, and it must hold under parallel guesses.
It is counted in the database, under a row lock, by its one owner:
intake.status_links.status_link_check_birth_date.
"""

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy

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


def too_many(request, what: str):
    return render(request, "429.html", {"what": what}, status=429)


def downloads_limited(request, case) -> bool:
    """One more status-page document (a PDF rendered on each request: ~0.2 s
    of WeasyPrint) for this address and this case's link; True past
    INTAKE_DOWNLOAD_LIMIT_PER_HOUR for either, so neither one address nor one
    link passed round can keep the renderers busy (issue 22)."""
    limit = settings.INTAKE_DOWNLOAD_LIMIT_PER_HOUR
    return limit_exceeded("download", client_address(request), limit) or limit_exceeded(
        "download-case", str(case.pk), limit
    )


def too_many_downloads(request, case):
    """The friendly 429, in the language the patient used for the case."""
    with translation.override(case.language):
        return too_many(request, gettext_lazy("downloads"))
