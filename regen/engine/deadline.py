"""The deadline of the work being done for one request, so it ends before the server does.

A web worker is killed at its timeout (gunicorn's ``--timeout``, set from
``RAIL_REQUEST_TIMEOUT``); work killed there answers an HTML 500, leaves its run and hold
behind, and a retry runs it again. So the web layer sets a deadline a few seconds inside
that timeout (``within``), and the engine honours it: every model call ends by it
(``LLMClient.complete``) and the loop does not start a step it cannot finish
(``run_loop``). Outside a request (a Celery worker) there is no deadline.
Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


def current() -> float | None:
    """Return the current work's deadline (monotonic seconds), or None without one."""
    return _deadline.get()


def remaining() -> float | None:
    """Return the seconds left before the deadline (0 when past), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now (an outer, earlier one stays)."""
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)
