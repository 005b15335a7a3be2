"""Reads for the patient's status page: what the clinic asks, holds and waits for."""

from django.utils.translation import gettext as _

from intake.selectors import has_images
from intake.transitions import OPEN, Status, can_transition

from .models import PatientRequest


def status_loop(case) -> dict:
    requests = list(case.patient_requests.exclude(state=PatientRequest.State.CANCELLED))
    open_requests = [r for r in requests if r.state == PatientRequest.State.OPEN]
    # What the clinic holds: the kind of each file and when it came, never its content.
    files = [{"label": f.get_file_type_display(), "at": f.uploaded_at} for f in case.files.all()]
    waiting_for = []
    if open_requests:
        waiting_for.append(_("Your answers to our questions (below)"))
    if case.status == Status.AWAITING_MRI:
        if case.mri_status == "centre_sends":
            waiting_for.append(_("Your MRI images from your imaging centre (or you can upload them below)"))
        else:
            waiting_for.append(_("Your MRI images: you can upload them below"))
    return {
        "open_requests": open_requests,
        "answered_requests": [r for r in requests if r.state == PatientRequest.State.ANSWERED],
        "files": files,
        "images": has_images(case),
        "waiting_for": waiting_for,
        "can_upload": bool(open_requests) or case.status == Status.AWAITING_MRI,
        "can_withdraw": can_transition(case.status, Status.WITHDRAWN),
        "is_open": case.status in OPEN,
    }
