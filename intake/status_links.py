"""The patient's private status link: a signed token naming the case.

Its own module (it was in selectors.py) so that the notification service can
build links without importing the selectors, which broke an import circle.
The token carries the reference only, never health data, and is checked
together with the date of birth on the status page: this module owns that
check and its limit of wrong answers per link (status_link_check_birth_date).
"""

import enum
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from clinic.models import failed_attempt_record, failed_attempts, failed_attempts_clear

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


# Wrong dates of birth one status link may take in an hour before it refuses
# every answer, the right one too (a birth date is guessable: ~365 x 80).
WRONG_BIRTH_DATES_PER_LINK = 5
WRONG_BIRTH_DATE_WINDOW = timedelta(hours=1)


class BirthDateCheck(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"  # the link took its wrong answers: nothing was judged


def status_link_check_birth_date(*, case: ReviewRequest, date_of_birth: date) -> BirthDateCheck:
    """The one judge of a date of birth typed on a status page.

    Count, compare and record are one step: the case row is locked first, so
    a link's guesses are judged one behind the other and parallel requests
    cannot all read "four wrong so far" (issue 22: 18 guesses were judged
    under 12 workers, and the 30th, right, opened the page). At most
    WRONG_BIRTH_DATES_PER_LINK answers are judged per window, whatever the
    concurrency. The wrong answers are counted in the database, not the cache,
    so the limit holds with the cache down (clinic.FailedAttempt).
    """
    key = f"status-dob:{case.pk}"
    with transaction.atomic():
        # FOR NO KEY UPDATE: it queues the other guesses for this case but not
        # the rows that refer to it (events, files); held for three queries.
        list(ReviewRequest.objects.select_for_update(no_key=True).filter(pk=case.pk).values_list("pk", flat=True))
        if failed_attempts(key, window=WRONG_BIRTH_DATE_WINDOW) >= WRONG_BIRTH_DATES_PER_LINK:
            return BirthDateCheck.LOCKED
        if case.date_of_birth and date_of_birth == case.date_of_birth:
            failed_attempts_clear(key=key)
            return BirthDateCheck.RIGHT
        failed_attempt_record(key=key, window=WRONG_BIRTH_DATE_WINDOW)
        return BirthDateCheck.WRONG
