"""Who may download a patient's documents: the browser that passed the status
page's date-of-birth check for this very case, holding the case's signed
link. The check's mark in the session is intake.patient_session's (its one owner)."""

from intake.models import ReviewRequest
from intake.patient_session import patient_verified
from intake.status_links import TokenExpired, TokenInvalid, case_for_token


def verified_case(request, token: str) -> ReviewRequest | None:
    """The case if ``token`` is valid and this session verified it; else None."""
    try:
        case = case_for_token(token)
    except (TokenExpired, TokenInvalid):
        return None
    return case if patient_verified(request, case) else None
