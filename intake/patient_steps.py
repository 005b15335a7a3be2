"""The steps a patient sees on the status page: request received, with the
clinic, images, review, result. Pure: a status in, the steps out (the status
page marks the current one with aria-current). The images step is shown only
to a patient whose MRI is part of the request (``images=True``): a patient
without one is never told about "your MRI"."""

from django.utils.translation import gettext_lazy as _

from .transitions import Status

S = Status

RECEIVED, WITH_CLINIC, IMAGES, REVIEW, RESULT = range(5)
STEPS = (_("Request received"), _("With the clinic"), _("Images"), _("Review"), _("Result"))

STEP_OF_STATUS = {
    S.SUBMITTED: RECEIVED,
    S.TRIAGE: WITH_CLINIC,
    S.AWAITING_MRI: IMAGES,
    S.MRI_RECEIVED: IMAGES,  # a coordinator checks them before the clinician reads
    S.IN_REVIEW: REVIEW,
    S.NEEDS_MORE_INFO: REVIEW,
    S.CANDIDATE: RESULT,
    S.NOT_CANDIDATE: RESULT,
    S.CONSULT_SCHEDULED: RESULT,
}
# Off the path: the stage's headline says it all, and "closed" can follow
# any step, so no step would be true for every closed request.
OFF_PATH = {S.CLOSED, S.WITHDRAWN, S.NO_RESPONSE, S.DUPLICATE, S.URGENT_ADVISED}
# Statuses that are about images whatever the patient said about an MRI.
IMAGE_STATUSES = {S.AWAITING_MRI, S.MRI_RECEIVED}
# The stage's words where the usual ones speak of "your MRI", for a request without one.
NO_MRI_STAGE = {
    S.IN_REVIEW: (_("A spine clinician is reviewing your request"), _("We will contact you with the result.")),
}
# In triage, the words follow who has the request: images already with the
# clinic go to a coordinator to check; an urgent call-back is a clinician's.
IMAGES_IN_HAND_STAGE = {
    S.TRIAGE: (
        _("A coordinator is checking your images"),
        _("They make sure the images are complete and are yours; then a spine clinician reads them."),
    ),
}
URGENT_STAGE = {
    S.TRIAGE: (
        _("A clinician will call you back"),
        _("Urgent requests are called back first. If you feel worse, do not wait for our call: call 911."),
    ),
}


def patient_steps(status: str, *, images: bool = True) -> list[dict]:
    """Each step's label and whether it is done or current; [] off the path.
    ``images=False`` leaves out the images step (no MRI in this request)."""
    current = STEP_OF_STATUS.get(status)
    if current is None:
        return []
    images = images or status in IMAGE_STATUSES
    return [
        {"label": label, "done": i < current, "current": i == current}
        for i, label in enumerate(STEPS)
        if images or i != IMAGES
    ]
