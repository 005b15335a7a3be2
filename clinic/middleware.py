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
