"""The patient's private status link: a signed token naming the case.

Its own module (it was in selectors.py) so that the notification service can
build links without importing the selectors, which broke an import circle.
The token carries the reference only, never health data, and is checked
together with the date of birth on the status page.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import ReviewRequest

STATUS_SALT = "intake.status-link"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def status_token(case: ReviewRequest) -> str:
    return signing.dumps({"r": case.reference}, salt=STATUS_SALT, compress=False)


def status_link(case: ReviewRequest) -> str:
    return reverse("intake:status", args=[status_token(case)])


def case_for_token(token: str) -> ReviewRequest:
    max_age = settings.INTAKE_STATUS_TOKEN_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=STATUS_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired from None
    except signing.BadSignature:
        raise TokenInvalid from None
    case = ReviewRequest.objects.filter(reference=data.get("r"), purged_at__isnull=True).select_related("queue").first()
    if case is None:
        raise TokenInvalid
    return case
