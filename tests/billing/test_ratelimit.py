"""Per-key rate limits (T14, T15): atomic on the shared cache, headers on every answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection

from billing import ratelimit
from billing.errors import RateLimitExceeded
from billing.models import LedgerEntry
from tests.factories import AccountFactory, APIKeyFactory, PlanFactory, ProjectFactory, default_plan
from tests.helpers import client_for

WINDOW_START = 20_834 * 86_400  # a UTC midnight, so also a minute boundary


@pytest.fixture
def clock(monkeypatch):
    """Freeze the limiter's clock one second into a fresh minute; ``clock.now`` moves it."""

    class Clock:
        now = float(WINDOW_START + 1)

    monkeypatch.setattr(ratelimit, "clock", lambda: Clock.now)
    return Clock


def key_on(plan):
    return APIKeyFactory(project=ProjectFactory(account=AccountFactory(plan=plan)))


@pytest.fixture
def free_key(db):
    return key_on(default_plan("free"))


def test_a_free_key_gets_ten_requests_a_minute_with_headers_counting_down(free_key, clock):
    api = client_for(free_key)
    for remaining in range(9, -1, -1):
        response = api.get("/railscore/v1/credits")
        assert response.status_code == 200
        assert response["X-RateLimit-Limit"] == "10"
        assert response["X-RateLimit-Remaining"] == str(remaining)
        assert response["X-RateLimit-Reset"] == str(WINDOW_START + 60)
        assert response["RateLimit-Policy"] == "10;w=60, 100;w=86400"
    entries = LedgerEntry.objects.count()
    refused = api.get("/railscore/v1/credits")
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert refused["Retry-After"] == "59"
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("10", "0")
    assert LedgerEntry.objects.count() == entries


def test_a_database_counter_opens_a_new_window_and_prunes_the_old_one(free_key, clock, monkeypatch):
    from billing.models import RateCounter

    monkeypatch.setattr(ratelimit, "_atomic_cache", lambda: False)
    for _ in range(10):
        ratelimit.check_rate_limit(free_key)
    with pytest.raises(RateLimitExceeded):
        ratelimit.check_rate_limit(free_key)
    clock.now += 60 + ratelimit.EXPIRY_MARGIN + 1  # the minute's row has expired
    assert ratelimit.check_rate_limit(free_key).window == 60
    minutes = RateCounter.objects.filter(name__startswith=f"rl:{free_key.prefix}:60:")
    assert [row.count for row in minutes] == [1]


def test_the_next_minute_opens_a_new_window(free_key, clock):
    for _ in range(10):
        ratelimit.check_rate_limit(free_key)
    with pytest.raises(RateLimitExceeded):
        ratelimit.check_rate_limit(free_key)
    clock.now += 60
    assert ratelimit.check_rate_limit(free_key).remaining == 9


def test_the_daily_cap_applies_across_minutes_until_utc_midnight(db, clock):
    key = key_on(PlanFactory(slug="tiny", requests_per_minute=5, requests_per_day=7))
    for _ in range(5):
        ratelimit.check_rate_limit(key)
    clock.now += 60
    state = ratelimit.check_rate_limit(key)
    assert (state.window, state.remaining) == (86_400, 1)  # the tighter window is shown
    ratelimit.check_rate_limit(key)
    with pytest.raises(RateLimitExceeded) as caught:
        ratelimit.check_rate_limit(key)
    assert caught.value.state.window_name == "day"
    assert caught.value.headers()["Retry-After"] == str(86_400 - 61)


def test_refused_requests_do_not_count_against_the_day(db, clock):
    key = key_on(PlanFactory(slug="tiny2", requests_per_minute=2, requests_per_day=3))
    for _ in range(2):
        ratelimit.check_rate_limit(key)
    for _ in range(5):
        with pytest.raises(RateLimitExceeded):
            ratelimit.check_rate_limit(key)
    clock.now += 60
    assert ratelimit.check_rate_limit(key).remaining == 0


def test_a_429_carries_retry_after_and_the_rate_limit_headers(free_key, clock):
    for _ in range(10):
        ratelimit.check_rate_limit(free_key)
    with pytest.raises(RateLimitExceeded) as caught:
        ratelimit.check_rate_limit(free_key)
    headers = caught.value.headers()
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "RateLimit",
        "RateLimit-Policy",
    } <= set(headers)


def test_a_broken_cache_counts_in_the_database_instead(free_key, clock, monkeypatch):
    """Redis down: the limits still hold (counted in billing.RateCounter), not waived."""

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit, "_atomic_cache", lambda: True)  # count in the cache
    monkeypatch.setattr(cache, "incr", broken)
    assert ratelimit.check_rate_limit(free_key).remaining == 9
    assert ratelimit.check_rate_limit(free_key).remaining == 8
    for _ in range(8):
        ratelimit.check_rate_limit(free_key)
    with pytest.raises(ratelimit.RateLimitExceeded):
        ratelimit.check_rate_limit(free_key)


@pytest.fixture(params=["cache", "database"])
def counter_store(request, monkeypatch):
    """Count in the cache (Redis in CI) or in the database (the embedded default)."""
    if request.param == "database":
        monkeypatch.setattr(ratelimit, "_atomic_cache", lambda: False)
    elif not ratelimit._atomic_cache():
        pytest.skip("no Redis cache configured (CACHE_URL)")
    return request.param


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="30 threads need a server database")
def test_thirty_concurrent_requests_from_one_key_let_exactly_ten_through(clock, counter_store):
    key, other = key_on(default_plan("free")), key_on(default_plan("free"))
    start = threading.Barrier(30)

    def call(_: int) -> tuple[int, str]:
        api = client_for(key)
        start.wait()
        try:
            response = api.get("/railscore/v1/credits")
            return response.status_code, response["X-RateLimit-Remaining"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(call, range(30)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20
    assert sorted(int(rem) for status, rem in results if status == 200) == list(range(10))
    assert client_for(other).get("/railscore/v1/credits")["X-RateLimit-Remaining"] == "9"
    assert not LedgerEntry.objects.exclude(kind="grant").exists()
