"""What django-axes stores and counts for staff sign-in (issue 22).

Two hooks named in the settings:

- ``axes_username``: people type passwords into the user name box, and axes
  kept the typed text in AccessAttempt (and its log lines). It stores the
  audit trail's keyed fingerprint of it instead (clinic.models.audit_fingerprint,
  the same one clinic.signals writes for an unknown user): one text still
  counts as one name, so the lock-out per name works as before, and an
  investigator holding the audit key can check a suspicion, but nobody can
  read the text back.
- ``axes_lockout_parameters``: axes counted (user name, address) pairs only,
  so one password sprayed over many user names from one address never
  locked. Past INTAKE_SIGN_IN_FAILURES_PER_ADDRESS failures from one address
  within the cool-off, whatever the names, the whole address is locked.
"""

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from .models import audit_fingerprint


def axes_username(request, credentials=None) -> str | None:
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    else:
        typed = getattr(request, "POST", {}).get(field)
    if not typed:
        return None
    return f"name hash {audit_fingerprint('sign-in name', str(typed))}"


PER_NAME_AND_ADDRESS = [["username", "ip_address"]]
WHOLE_ADDRESS = ["ip_address"]


def axes_lockout_parameters(request_or_attempt, credentials=None) -> list:
    """Count per (name, address), and the whole address once it has failed
    too often for any names: then axes sums every failure of the address,
    which is past its own AXES_FAILURE_LIMIT, and locks it for the cool-off."""
    from axes.models import AccessAttempt

    ip = getattr(request_or_attempt, "axes_ip_address", None) or getattr(request_or_attempt, "ip_address", None)
    if not ip:
        return PER_NAME_AND_ADDRESS
    failures = (
        AccessAttempt.objects.filter(
            ip_address=ip, attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
        ).aggregate(n=Sum("failures_since_start"))["n"]
        or 0
    )
    return WHOLE_ADDRESS if failures >= settings.INTAKE_SIGN_IN_FAILURES_PER_ADDRESS else PER_NAME_AND_ADDRESS
