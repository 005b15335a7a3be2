"""Issue 22: production booted with CACHE_URL=locmemcache://, which split every
rate limit per worker process (12 workers, 12 times the limit). The
production settings now refuse a cache that is not shared, naming CACHE_URL."""

import pytest

from tests.clinic.test_security import run_manage


@pytest.mark.parametrize(
    "url, message",
    [
        ("locmemcache://", "CACHE_URL names a memory cache each worker process keeps to itself"),
        ("locmemcache://intake-default", "CACHE_URL names a memory cache each worker process keeps to itself"),
        ("dummycache://", "CACHE_URL names a cache that keeps nothing"),
        ("filecache:///tmp/intake-cache", "CACHE_URL names a folder each machine keeps to itself"),
    ],
)
def test_production_refuses_a_cache_each_process_keeps_to_itself(url, message):
    result = run_manage("check", env_overrides={"CACHE_URL": url})
    assert result.returncode != 0
    assert "cannot start" in result.stderr and message in result.stderr


def test_production_accepts_a_shared_cache():
    result = run_manage("check", env_overrides={"CACHE_URL": "redis://redis.clinic.example:6379/1"})
    assert result.returncode == 0, result.stderr
