"""Errors of the LLM engines: each says what failed and how many requests it took."""

from __future__ import annotations

from ..types import EngineError


class LLMError(EngineError):
    """An LLM call failed; ``attempts`` says how many HTTP requests it made."""

    attempts: int = 0


class LLMTimeout(LLMError):
    """No complete answer within the read timeout or the call's total deadline."""


class LLMUnavailable(LLMError):
    """The endpoint could not be reached, kept failing (5xx, 429), or its circuit is open."""


class CircuitOpen(LLMUnavailable):
    """The circuit breaker is open: the call failed at once, without touching the network."""


class LLMBadResponse(LLMError):
    """The answer was malformed (not JSON, wrong shape, no nonce) even after retries."""


class LLMRejected(LLMError):
    """The endpoint refused the request (a 4xx other than 429): retrying will not help."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
