"""Per-key rate limits (SPEC 5): fixed per-minute and per-UTC-day windows, shared.

With Redis (``CACHE_URL=redis://...``) counters live in the cache, where ``incr`` is
one atomic ``INCR``. Without it (the embedded default, whose cache is the database
table ``railsite_cache``) they live in ``billing.RateCounter`` and each request is one
atomic upsert. Either way every worker and node counts together: of 30 simultaneous
requests against a limit of 10, exactly 10 get a count within the limit. DRF's own
throttles read, then write, a list of timestamps, so they let bursts through: not used.

A request counts against the minute window first; one refused there does not count
against the day. If the cache is unreachable the request is let through and logged:
an outage of the limiter must not become an outage of the API.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches
from django.db import connection, transaction
from rest_framework.throttling import BaseThrottle

from billing.errors import RateLimitExceeded
from billing.models import APIKey, RateCounter

logger = logging.getLogger(__name__)

MINUTE = 60
DAY = 86_400
# Counters outlive their window a little, so a key never expires while still in use.
EXPIRY_MARGIN = 30
clock = time.time  # the tests move it


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """The tightest window's figures after a request, as the response headers show them."""

    limit: int
    remaining: int
    window: int
    reset_at: int
    """When the window ends, in Unix seconds."""
    reset_in: int
    """Seconds until the window ends (at least 1)."""
    policy: str
    """Both windows, as the ``RateLimit-Policy`` header lists them, e.g. ``10;w=60, 100;w=86400``."""

    @property
    def window_name(self) -> str:
        return "minute" if self.window == MINUTE else "day"

    @property
    def retry_after(self) -> int:
        return self.reset_in

    def headers(self) -> dict[str, str]:
        """Return the ``X-RateLimit-*`` and IETF draft ``RateLimit*`` headers."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "RateLimit-Policy": self.policy,
            "RateLimit": f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_in}",
        }


def check_rate_limit(key: APIKey, now: float | None = None) -> RateLimitState:
    """Count one request for the key; return the state, or raise RateLimitExceeded."""
    plan = key.project.account.plan
    now = clock() if now is None else now
    policy = f"{plan.requests_per_minute};w={MINUTE}, {plan.requests_per_day};w={DAY}"
    states = []
    for window, limit in ((MINUTE, plan.requests_per_minute), (DAY, plan.requests_per_day)):
        start = int(now // window) * window
        count = _hit(f"rl:{key.prefix}:{window}:{start}", timeout=window + EXPIRY_MARGIN)
        state = RateLimitState(
            limit=limit,
            remaining=max(0, limit - count),
            window=window,
            reset_at=start + window,
            reset_in=max(1, math.ceil(start + window - now)),
            policy=policy,
        )
        if count > limit:
            raise RateLimitExceeded(state)
        states.append(state)
    return min(states, key=lambda s: (s.remaining, s.window))


def _hit(counter: str, *, timeout: int) -> int:
    """Add one to a counter, creating it with its expiry (in the database while Redis is down)."""
    if not _atomic_cache():
        return _db_hit(counter, timeout=timeout)
    try:
        try:
            return int(cache.incr(counter))
        except ValueError:  # no such counter yet
            if cache.add(counter, 1, timeout):
                return 1
            return int(cache.incr(counter))  # another request created it meanwhile
    except Exception:
        logger.warning("rate-limit cache unavailable; counting in the database", exc_info=True)
        return _db_hit(counter, timeout=timeout)


def _atomic_cache() -> bool:
    """Tell whether the cache counts atomically across processes (Redis does)."""
    return type(caches["default"]).__name__ == "RedisCache"  # ``cache`` is only a proxy


_UPSERT = """
INSERT INTO billing_ratecounter (name, count, expires_at) VALUES (%s, 1, %s)
ON CONFLICT (name) DO UPDATE SET
    count = CASE WHEN billing_ratecounter.expires_at < %s THEN 1
                 ELSE billing_ratecounter.count + 1 END,
    expires_at = CASE WHEN billing_ratecounter.expires_at < %s THEN excluded.expires_at
                      ELSE billing_ratecounter.expires_at END
RETURNING count
"""


def _db_hit(counter: str, *, timeout: int) -> int:
    """Count one request in the database: one atomic upsert (PostgreSQL, SQLite 3.35+).

    Opening a window also deletes the key's expired windows, so rows stay few.
    """
    now = clock()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_UPSERT, [counter, now + timeout, now, now])
            count = int(cursor.fetchone()[0])
            if count == 1:
                prefix = counter.rsplit(":", 2)[0] + ":"
                RateCounter.objects.filter(name__startswith=prefix, expires_at__lt=now).delete()
        return count
    except Exception:
        logger.exception("rate-limit counter unavailable; letting the request through")
        return 0


class APIKeyRateThrottle(BaseThrottle):
    """DRF adapter: count the request for ``request.auth`` and keep the state for headers."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if not isinstance(request.auth, APIKey):
            return True
        try:
            state = check_rate_limit(request.auth)
        except RateLimitExceeded as exc:
            request._request.rate_limit_state = exc.state
            raise
        request._request.rate_limit_state = state
        return True


def add_rate_limit_headers(response: Any, request: Any) -> Any:
    """Copy the request's rate-limit state, if any, onto the response's headers."""
    state = getattr(request, "rate_limit_state", None)
    if state is not None:
        for name, value in state.headers().items():
            response[name] = value
    return response
