"""Red-team finding 8: with the cache down, the status page's date-of-birth
limit switched off (40 wrong dates, then the right one: no 429). Production
also started without checking that the cache is there."""

import socket
import subprocess
import sys
from datetime import date
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed

from clinic.middleware import CacheCheckAtStartupMiddleware
from intake.status_links import status_link
from tests.clinic.test_security import PROD_ENV, ROOT
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


class _DeadCache:
    """Every call fails, as a Redis client does when Redis is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


@pytest.fixture
def cache_down():
    dead = _DeadCache()
    with mock.patch("intake.ratelimit.cache", dead):
        yield


def _case():
    return CaseFactory(date_of_birth=date(1970, 5, 17))


def test_wrong_dates_of_birth_are_limited_with_the_cache_down(client, cache_down):
    case = _case()
    url = status_link(case)
    for _ in range(40):
        response = client.post(url, {"date_of_birth": "1980-01-01"})
        assert response.status_code in (200, 429)
    response = client.post(url, {"date_of_birth": "1970-05-17"})
    assert response.status_code == 429
    assert b"1970" not in response.content


def test_the_limit_counts_per_link_and_a_right_answer_still_works_below_it(client, cache_down):
    case = _case()
    url = status_link(case)
    for _ in range(4):
        assert client.post(url, {"date_of_birth": "1980-01-01"}).status_code == 200
    response = client.post(url, {"date_of_birth": "1970-05-17"})
    assert response.status_code == 200 and response.context["stage"] is not None
    # Another case's link is not affected by this one's failures.
    assert client.post(status_link(_case()), {"date_of_birth": "1970-05-17"}).status_code == 200


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_startup_check_refuses_an_unreachable_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        CacheCheckAtStartupMiddleware(lambda request: None)


def test_startup_check_leaves_the_chain_when_the_cache_works():
    with pytest.raises(MiddlewareNotUsed):
        CacheCheckAtStartupMiddleware(lambda request: None)


def test_a_production_web_process_fails_to_boot_without_its_cache():
    """The WSGI application, as gunicorn loads it, under production settings."""
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DJANGO_", "INTAKE_"))}
    env.update(PROD_ENV, CACHE_URL=f"redis://127.0.0.1:{_closed_port()}/1")
    result = subprocess.run(
        [sys.executable, "-c", "import clinic.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "CACHE_URL" in result.stderr and "unreachable" in result.stderr
