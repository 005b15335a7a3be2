import time
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import logout


class StaffIdleTimeoutMiddleware:
    """End a staff session after INTAKE_STAFF_IDLE_SECONDS without a request.

    Patients have no accounts, so only authenticated users are affected; their
    drafts keep the normal session lifetime.
    """

    key = "_staff_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(self.key)
            if last is not None and now - last > settings.INTAKE_STAFF_IDLE_SECONDS:
                logout(request)
            elif last is None or now - last >= 30:
                # Written at most every 30 s: a session save per request
                # would cost every admin page a write.
                request.session[self.key] = now
        return self.get_response(request)


# Where the current request comes from, for audit entries written deep in
# services that never see the request (transitions, notes, assignments).
current_request: ContextVar = ContextVar("current_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class CacheCheckAtStartupMiddleware:
    """Production: refuse to start a web process whose cache is unreachable.

    The per-address rate limits fail open when the cache is down (a patient's
    request matters more than a limit for a minute), so a cache that was never
    reachable would leave them off for good, silently. Middleware is built
    once when the WSGI application loads (gunicorn's worker boot), before any
    request and never for management commands, so this is the place to check:
    a worker that cannot reach the cache fails to boot and says why. Then it
    leaves the chain (MiddlewareNotUsed) and costs requests nothing.
    """

    def __init__(self, get_response):
        from django.core.cache import cache
        from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed

        probe = f"startup-check:{time.time()}"
        try:
            cache.set(probe, 1, 10)
            reached = cache.get(probe) == 1
            cache.delete(probe)
        except Exception as exc:  # noqa: BLE001  (whatever the cache's client raises)
            raise ImproperlyConfigured(
                f"The cache (CACHE_URL) is unreachable ({type(exc).__name__}): rate limits would be off. "
                "Start Redis or fix CACHE_URL."
            ) from exc
        if not reached:
            raise ImproperlyConfigured("The cache (CACHE_URL) does not keep values: rate limits would be off.")
        raise MiddlewareNotUsed


class PrivacyHeadersMiddleware:
    """Two headers Django has no setting for.

    ``Permissions-Policy`` on every response: no page of this site uses the
    camera, microphone, location, payment or USB, so none may (nor can anything
    that got into a page). ``Cache-Control: no-store`` on every page of the
    patient's request (the ``intake`` URLs: the steps, the call-back, the
    confirmation, the status page): they carry personal and health answers, which
    must not be kept by the browser's cache or a shared computer's back button.
    The admin's views are never cached already (Django's admin_view).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.permissions_policy = ", ".join(f"{feature}=()" for feature in settings.INTAKE_PERMISSIONS_POLICY_DENY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        match = getattr(request, "resolver_match", None)
        if match is not None and "intake" in match.namespaces:
            from django.utils.cache import add_never_cache_headers

            add_never_cache_headers(response)  # no-store, no-cache, must-revalidate, private
        return response
