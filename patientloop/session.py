"""The status page's short-lived proof that this browser passed the date-of-birth
check for one case: the case id and when, in the session, nothing else.

The mark's shape ({"case": id, "at": epoch seconds} under "status_verified")
is shared with reviews.access (the result letter's downloads), so there is
one mark; this module writes it and decides how long it holds for the status
page's actions (INTAKE_PATIENT_VERIFIED_MINUTES)."""

import time

from django.conf import settings

SESSION_KEY = "status_verified"


def patient_verify(request, case) -> None:
    # A new session key at the moment of proof: a session id planted before
    # the check (fixation) is worth nothing after it.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"case": case.pk, "at": int(time.time())}


def patient_verified(request, case) -> bool:
    mark = request.session.get(SESSION_KEY) or {}
    if mark.get("case") != case.pk:
        return False
    return time.time() - mark.get("at", 0) <= settings.INTAKE_PATIENT_VERIFIED_MINUTES * 60


def patient_forget(request) -> None:
    request.session.pop(SESSION_KEY, None)
