"""Issue 22 point 5: the status page's limit of five wrong dates of birth per
link could be raced. Count, compare and record were three steps, so under
gunicorn with 12 workers on PostgreSQL 18 wrong guesses were judged and the
right 30th opened the page.

Real parallel requests here: a live server that answers each request in its
own thread with its own database connection (PostgreSQL in CI), and client
threads released together by a barrier.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import requests

from clinic.models import FailedAttempt
from intake.status_links import WRONG_BIRTH_DATES_PER_LINK, status_link
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db(transaction=True)

GUESSERS = 20
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _form(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200
    return CSRF.search(page.text).group(1)


def _post(session, url, token, dob):
    return session.post(url, data={"csrfmiddlewaretoken": token, "date_of_birth": dob}, timeout=60)


def test_parallel_wrong_guesses_are_judged_at_most_five_times(live_server):
    case = CaseFactory(date_of_birth=date(1970, 5, 17))
    url = live_server.url + status_link(case)
    sessions = [requests.Session() for _ in range(GUESSERS)]
    tokens = [_form(s, url) for s in sessions]
    barrier = threading.Barrier(GUESSERS)

    def guess(i):
        barrier.wait()
        # Every guess differs, as a guesser's would.
        return _post(sessions[i], url, tokens[i], f"1980-01-{i + 1:02d}").status_code

    with ThreadPoolExecutor(GUESSERS) as pool:
        codes = list(pool.map(guess, range(GUESSERS)))

    judged = codes.count(200)  # the form again, "does not match our records"
    assert judged == WRONG_BIRTH_DATES_PER_LINK, codes
    assert codes.count(429) == GUESSERS - WRONG_BIRTH_DATES_PER_LINK, codes
    assert FailedAttempt.objects.filter(key=f"status-dob:{case.pk}").count() == WRONG_BIRTH_DATES_PER_LINK

    # The right date after the limit is refused too, and reveals nothing.
    right = _post(sessions[0], url, tokens[0], "1970-05-17")
    assert right.status_code == 429
    assert "1970" not in right.text
    for s in sessions:
        s.close()
