"""The ``/railscore/v1/eval`` answer cache (SPEC 4): per account and canonical request.

An answer is kept 300 seconds when it was scored in basic mode and 180 seconds in deep
mode (an ``auto`` request keeps the lifetime of the mode it resolved to). A hit is free:
``from_cache: true``, ``credits_consumed: 0`` and a fresh ``req_id``.

A degraded answer (the LLM judge failed and the embedded fallback scored) is never
kept: a retry once the judge is back must be scored by the judge.

Each entry stores its own expiry, read from ``time.time()``, and that expiry decides:
the backend's timeout is only clean-up, one second later. So a hit or a miss is the
same on local memory and on Redis, whose clock a test cannot move.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

from django.core.cache import cache

from regen.engine.requests import EvalRequest

logger = logging.getLogger(__name__)

LIFETIME_SECONDS = {"basic": 300, "deep": 180}
CLEANUP_SLACK_SECONDS = 1


def key_for(*, account_id: int, request: EvalRequest, engines: str = "") -> str:
    """Name the entry of an account's request: its canonical JSON and the engines that
    score it (a project's own evaluator and judge), hashed."""
    canonical = json.dumps(request.to_dict(), sort_keys=True, separators=(",", ":")) + engines
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"eval:{account_id}:{digest}"


def get(
    *, account_id: int, request: EvalRequest, req_id: str, engines: str = ""
) -> dict[str, Any] | None:
    """Return the cached answer as a free hit under ``req_id``, or None."""
    try:
        entry = cache.get(key_for(account_id=account_id, request=request, engines=engines))
    except Exception:  # a cache that is down is a miss: the evaluation runs and is charged
        logger.warning("eval cache unavailable; evaluating", exc_info=True)
        return None
    if entry is None or time.time() >= entry["expires_at"]:
        return None
    body: dict[str, Any] = entry["body"]  # a fresh copy: every cache backend pickles
    body["result"]["from_cache"] = True
    body["metadata"]["req_id"] = req_id
    body["credits_consumed"] = 0.0
    return body


def put(
    *,
    account_id: int,
    request: EvalRequest,
    body: dict[str, Any],
    resolved_mode: str,
    engines: str = "",
) -> None:
    """Keep ``body`` for the lifetime of the mode the evaluation ran in, unless degraded."""
    if body.get("metadata", {}).get("degraded"):
        return
    lifetime = LIFETIME_SECONDS[resolved_mode]
    entry = {"expires_at": time.time() + lifetime, "body": body}
    try:
        cache.set(
            key_for(account_id=account_id, request=request, engines=engines),
            entry,
            lifetime + CLEANUP_SLACK_SECONDS,
        )
    except Exception:  # not cached: the next identical evaluation is charged again
        logger.warning("eval cache unavailable; the answer is not cached", exc_info=True)
