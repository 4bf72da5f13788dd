"""The base of every domain error: a status, a contract code and extra body fields.

``billing/errors.py`` and ``regen/errors.py`` subclass ``ServiceError``; the one DRF
exception handler in ``railsite/exceptions.py`` turns any of them into the contract's
``{"error": ..., "code": ..., ...}`` body, and the pages show the same message.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """A failure the caller should see, in the contract's error shape."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "VALIDATION_ERROR"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}

    def headers(self) -> dict[str, str]:
        return {}


class RequestValidationError(ServiceError):
    """Bad input: ``details`` maps each bad field to its messages."""

    status = 400
    code = "VALIDATION_ERROR"

    def __init__(self, message: str, *, details: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, **({"details": details} if details else {}))


class NotFound(ServiceError):
    status = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class ServiceUnavailable(ServiceError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable. Please retry shortly."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
