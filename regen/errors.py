"""Errors of the regeneration domain, in the contract's shape (see railsite/errors.py)."""

from __future__ import annotations

from typing import Any

from railsite.errors import NotFound, RequestValidationError, ServiceError, ServiceUnavailable
from regen.engine.requests import RequestInvalid


class RegenerationFailed(ServiceError):
    status = 500
    code = "REGENERATION_FAILED"
    default_message = (
        "Regeneration failed after retries; the credits held for this call were released."
    )


class QueueUnavailable(ServiceUnavailable):
    default_message = (
        "The job queue is unavailable; the run was not queued and nothing was charged. "
        "Retry shortly."
    )


class CriticalContent(ServiceError):
    """Raised with the seed's 422 body (evaluation, credits, ``review_id``)."""

    status = 422
    code = "RAIL_CRITICAL_CONTENT"

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["error"])
        self._body = body

    def body(self) -> dict[str, Any]:
        return self._body


class RunNotFound(NotFound):
    default_message = "Run not found."


class SessionNotFound(NotFound):
    default_message = "Session not found."


class SessionExpired(ServiceError):
    status = 410
    code = "SESSION_EXPIRED"
    default_message = "Session expired. Please start a new safe-regenerate request."


class SessionBusy(ServiceError):
    status = 409
    code = "SESSION_BUSY"
    default_message = "Another continue call for this session is in progress; retry when it ends."


class NotImplementedByServer(ServiceError):
    """A RAIL API feature the official SDKs call that this server does not offer (501).

    The SDKs map 501 to ``NotImplementedByServerError``, which their examples catch."""

    status = 501
    code = "NOT_IMPLEMENTED"


class BudgetExceeded(ServiceError):
    """The worst case of a call costs more USD than its ``maxCostUsd`` allows."""

    status = 402
    code = "BUDGET_EXCEEDED"


def invalid_request(error: RequestInvalid) -> RequestValidationError:
    """Turn the engine's validation error into the contract's 400."""
    field, messages = error.field, error.details[error.field]
    message = messages[0] if field in ("content", "non_field_errors") else f"{field}: {messages[0]}"
    return RequestValidationError(message, details=error.details)
