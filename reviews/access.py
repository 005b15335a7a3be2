"""Who may download a patient's documents: the browser that passed the status
page's date-of-birth check for this very case (intake.views.status records it
in the session), holding the case's signed link, within an hour."""

import time

from intake.models import ReviewRequest
from intake.status_links import TokenExpired, TokenInvalid, case_for_token

VERIFIED_FOR_SECONDS = 60 * 60


def verified_case(request, token: str) -> ReviewRequest | None:
    """The case if ``token`` is valid and this session verified it; else None."""
    try:
        case = case_for_token(token)
    except (TokenExpired, TokenInvalid):
        return None
    mark = request.session.get("status_verified") or {}
    if mark.get("case") != case.pk or time.time() - mark.get("at", 0) > VERIFIED_FOR_SECONDS:
        return None
    return case
