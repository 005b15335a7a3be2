"""The steps a patient sees on the status page: request received, being
reviewed, result. Pure: a status in, the steps out (the status page marks
the current one with aria-current)."""

from django.utils.translation import gettext_lazy as _

from .transitions import Status

S = Status

STEPS = (_("Request received"), _("Being reviewed"), _("Result"))

STEP_OF_STATUS = {
    S.SUBMITTED: 0,
    S.TRIAGE: 1,
    S.AWAITING_MRI: 1,
    S.MRI_RECEIVED: 1,
    S.IN_REVIEW: 1,
    S.NEEDS_MORE_INFO: 1,
    S.CANDIDATE: 2,
    S.NOT_CANDIDATE: 2,
    S.CONSULT_SCHEDULED: 2,
}
# Off the path: the stage's headline says it all, and "closed" can follow
# any step, so no step would be true for every closed request.
OFF_PATH = {S.CLOSED, S.WITHDRAWN, S.NO_RESPONSE, S.DUPLICATE, S.URGENT_ADVISED}


def patient_steps(status: str) -> list[dict]:
    """Each step's label and whether it is done or current; [] off the path."""
    current = STEP_OF_STATUS.get(status)
    if current is None:
        return []
    return [{"label": label, "done": i < current, "current": i == current} for i, label in enumerate(STEPS)]
