"""The patient's private status link: a signed token naming the case.

Its own module (it was in selectors.py) so that the notification service can
build links without importing the selectors, which broke an import circle.
The token carries the reference and the case's language, never health
data, and is checked together with the date of birth on the status page: this
module owns that check and its limit of wrong answers per link
(status_link_check_birth_date), and the language the case's pages speak
(case_page_language, applied by CaseLanguageMiddleware).
"""

import enum
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from clinic.models import failed_attempt_record, failed_attempts, failed_attempts_clear

from .models import ReviewRequest

STATUS_SALT = "intake.status-link"


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


def status_token(case: ReviewRequest) -> str:
    # "l": the language every message to the patient is written in, so the
    # page the message opens speaks it too (signed: a link cannot be edited
    # into another language; the switcher is the patient's way to change it).
    return signing.dumps({"r": case.reference, "l": case.language}, salt=STATUS_SALT, compress=False)


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


# --- The language of the case's pages ------------------------------------------------
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)
# The patient's own choice on this case's pages, made with the switcher: one
# case at a time, for this browser's session only.
CHOSEN_LANGUAGE_KEY = "case_language_chosen"


def _token_data(token: str) -> dict:
    """A token's signed data, whatever its age ({} if it is not ours): an
    expired link's page can still speak its language."""
    try:
        data = signing.loads(token, salt=STATUS_SALT)
    except signing.BadSignature:
        return {}
    return data if isinstance(data, dict) else {}


def case_page_language(request, token: str) -> str | None:
    """The language of a page of the case this status link names (the status
    page, its date-of-birth check, the result letter and its PDF, the
    patient's actions and their messages), or None for a link that is not ours.

    The one rule, in order:

    1. ``?lang=`` on the address, for that request only (clinic.i18n);
    2. the patient's explicit switch on this case's pages, in this browser's
       session: a patient who chooses to read in the other language is the
       best judge, so the choice wins over the clinic's record from then on,
       on the pages and the letter PDF, until the patient switches again or
       the session ends. It is kept apart from the site-wide cookie on purpose:
       that cookie (and Accept-Language) says what a browser read elsewhere,
       maybe another person's choice on a shared phone, so it never decides;
    3. the language the link carries (the language of the message it came in);
    4. the case's stored language (links made before they carried one).

    The clinical summary for the patient's doctor never follows any of these:
    reviews.documents renders it in INTAKE_CLINICAL_SUMMARY_LANGUAGE.
    """
    data = _token_data(token)
    reference = data.get("r")
    if not reference:
        return None
    asked = request.GET.get("lang")
    if asked in LANGUAGE_CODES:
        return asked
    chosen = request.session.get(CHOSEN_LANGUAGE_KEY) if hasattr(request, "session") else None
    if isinstance(chosen, dict) and chosen.get("r") == reference and chosen.get("l") in LANGUAGE_CODES:
        return chosen["l"]
    if data.get("l") in LANGUAGE_CODES:
        return data["l"]
    stored = ReviewRequest.objects.filter(reference=reference).values_list("language", flat=True).first()
    return stored if stored in LANGUAGE_CODES else None


def _status_token_of(path: str) -> str | None:
    """The status token in a path under the status page (intake's namespace), or None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs.get("token") if "intake" in match.namespaces else None


def _remember_switch(request) -> None:
    """The switcher (Django's set_language, posted from any page) was used on
    one of a case's pages: record the patient's choice for that case."""
    language = request.POST.get("language")
    token = _status_token_of(urlsplit(request.POST.get("next") or "").path)
    reference = _token_data(token).get("r") if token else None
    if reference and language in LANGUAGE_CODES:
        request.session[CHOSEN_LANGUAGE_KEY] = {"r": reference, "l": language}


class CaseLanguageMiddleware:
    """Pages about one case speak the case's language, not the browser's.

    Placed after clinic.i18n.LocaleMiddleware, which has already chosen the
    reader's language (cookie, Accept-Language) for every other page; for any
    view under a status link (intake's namespace, a ``token`` in the URL) this
    activates case_page_language instead, before the view runs, so its words,
    its messages for the next page, its dates and the Content-Language header
    all follow the case. A POST to the language switcher from such a page is
    remembered as the patient's explicit choice for that case.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.url_name == "set_language" and request.method == "POST":
            _remember_switch(request)
            return None
        token = view_kwargs.get("token")
        if token and "intake" in match.namespaces:
            language = case_page_language(request, token)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return None
