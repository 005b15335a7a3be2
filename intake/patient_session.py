"""The status page's short-lived proof that this browser passed the date-of-birth
check for one case: the case id and when, in the session, nothing else.

intake's status view writes the mark after the check; the status page's
downloads (reviews.access) and actions (patientloop.views) read it, so there
is one mark, kept here in the request app they are all built on. This module
decides how long it holds (INTAKE_PATIENT_VERIFIED_MINUTES)."""

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
