"""The case lifecycle's rules: the statuses and one transitions table, in code.

Pure: no database access. Every status change goes through
``intake.services.lifecycle`` (``case_transition``, and routing's first move),
which checks this table, writes an event and an audit entry.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "Triage"
    AWAITING_MRI = "awaiting_mri", "Awaiting MRI"
    MRI_RECEIVED = "mri_received", "MRI received"
    IN_REVIEW = "in_review", "In review"
    CANDIDATE = "candidate", "Candidate"
    NOT_CANDIDATE = "not_candidate", "Not a candidate"
    NEEDS_MORE_INFO = "needs_more_info", "Needs more information"
    CONSULT_SCHEDULED = "consult_scheduled", "Consult scheduled"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    NO_RESPONSE = "no_response", "No response"
    DUPLICATE = "duplicate", "Duplicate"
    URGENT_ADVISED = "urgent_advised", "Urgent care advised"


S = Status
# From most open states a case may also be withdrawn, marked without response,
# marked a duplicate or closed with urgent-care advice.
_SIDE_EXITS = {S.WITHDRAWN, S.NO_RESPONSE, S.DUPLICATE, S.URGENT_ADVISED}

TRANSITIONS: dict[str, set[str]] = {
    S.SUBMITTED: {S.TRIAGE} | _SIDE_EXITS,
    S.TRIAGE: {S.AWAITING_MRI, S.MRI_RECEIVED, S.IN_REVIEW} | _SIDE_EXITS,
    S.AWAITING_MRI: {S.MRI_RECEIVED} | _SIDE_EXITS,
    S.MRI_RECEIVED: {S.AWAITING_MRI, S.IN_REVIEW} | _SIDE_EXITS,
    S.IN_REVIEW: {S.CANDIDATE, S.NOT_CANDIDATE, S.NEEDS_MORE_INFO, S.AWAITING_MRI} | _SIDE_EXITS,
    S.NEEDS_MORE_INFO: {S.IN_REVIEW, S.AWAITING_MRI} | _SIDE_EXITS,
    S.CANDIDATE: {S.CONSULT_SCHEDULED, S.CLOSED, S.WITHDRAWN, S.NO_RESPONSE},
    S.NOT_CANDIDATE: {S.CLOSED},
    S.CONSULT_SCHEDULED: {S.CLOSED, S.WITHDRAWN},
    S.WITHDRAWN: {S.CLOSED},
    S.NO_RESPONSE: {S.TRIAGE, S.CLOSED},
    S.DUPLICATE: {S.CLOSED, S.TRIAGE},
    S.URGENT_ADVISED: {S.CLOSED, S.TRIAGE},
    S.CLOSED: set(),
}

# Clinical decisions: only clinicians, and only with a reason and a note.
DECISIONS = {S.CANDIDATE, S.NOT_CANDIDATE, S.NEEDS_MORE_INFO}
# The clinic is waiting on the patient or an imaging centre: the SLA clock pauses.
WAITING = {S.AWAITING_MRI, S.NEEDS_MORE_INFO}
# The clinic owes nothing more within the SLA: the clock stops.
SETTLED = {
    S.CANDIDATE,
    S.NOT_CANDIDATE,
    S.CONSULT_SCHEDULED,
    S.CLOSED,
    S.WITHDRAWN,
    S.NO_RESPONSE,
    S.DUPLICATE,
    S.URGENT_ADVISED,
}
OPEN = set(Status.values) - {S.CLOSED, S.WITHDRAWN, S.NO_RESPONSE, S.DUPLICATE, S.NOT_CANDIDATE}
# The patient hears about these by email (no health data, a link to the status page).
PATIENT_NOTIFIED = {
    S.AWAITING_MRI,
    S.MRI_RECEIVED,
    S.CANDIDATE,
    S.NOT_CANDIDATE,
    S.NEEDS_MORE_INFO,
    S.CONSULT_SCHEDULED,
}
# Cases that count as "still with the clinic" for retention and duplicates.
RETENTION_ENDED = {S.CLOSED, S.NO_RESPONSE, S.WITHDRAWN, S.DUPLICATE, S.NOT_CANDIDATE}

# What the patient reads on the status page, in plain words (translated when shown).
PATIENT_STAGE = {
    S.SUBMITTED: (_("We have your request"), _("A member of our team will look at it and contact you.")),
    S.TRIAGE: (_("A coordinator is looking at your request"), _("We will contact you the way you asked.")),
    S.AWAITING_MRI: (
        _("We are waiting for your MRI"),
        _("If your imaging centre is sending it, nothing is needed from you. Otherwise please call us."),
    ),
    # Who has it now, as the clinic works (README, "Who does what"): a
    # coordinator checks the images, then a spine clinician reads them.
    S.MRI_RECEIVED: (
        _("A coordinator is checking your images"),
        _("They make sure the images are complete and are yours; then a spine clinician reads them."),
    ),
    S.IN_REVIEW: (_("A spine clinician is reading your MRI"), _("We will contact you with the result.")),
    S.CANDIDATE: (_("Your review is complete"), _("We will call you to talk through the next steps.")),
    S.NOT_CANDIDATE: (_("Your review is complete"), _("We will contact you to explain the result and your options.")),
    S.NEEDS_MORE_INFO: (_("We need a little more information"), _("We will contact you, or please call us.")),
    S.CONSULT_SCHEDULED: (_("Your consultation is booked"), _("We will remind you before the day.")),
    S.CLOSED: (_("This request is closed"), _("If you still need help, you are welcome to send a new request.")),
    S.WITHDRAWN: (_("This request was withdrawn"), _("You are welcome to send a new request at any time.")),
    S.NO_RESPONSE: (_("We could not reach you"), _("Please call us and mention your reference.")),
    S.DUPLICATE: (_("We joined this to your other request"), _("We will answer both together.")),
    S.URGENT_ADVISED: (
        _("We advised you to get urgent care"),
        _("Please follow that advice; call us if you are unsure."),
    ),
}


def allowed_next(status: str) -> list[str]:
    """The statuses a case in ``status`` may move to, in the table's order."""
    return [s for s in Status.values if s in TRANSITIONS.get(status, set())]


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())
