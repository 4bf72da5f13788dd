"""One DRF exception handler: every error leaves in the contract's JSON shape."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from railsite.errors import ServiceError, ServiceUnavailable

logger = logging.getLogger(__name__)

_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "VALIDATION_ERROR",
    exceptions.ValidationError: "VALIDATION_ERROR",
    exceptions.AuthenticationFailed: "AUTHENTICATION_ERROR",
    exceptions.NotAuthenticated: "AUTHENTICATION_ERROR",
    exceptions.PermissionDenied: "PERMISSION_DENIED",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    exceptions.Throttled: "RATE_LIMIT_EXCEEDED",
}


def _flatten(detail: Any) -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": ["message", ...]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            for sub, messages in _flatten(value).items():
                name = key if sub == "non_field_errors" else f"{key}.{sub}"
                out.setdefault(name, []).extend(messages)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {"non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            for sub, messages in _flatten(item).items():
                out.setdefault(
                    f"{index}" if sub == "non_field_errors" else f"{index}.{sub}", []
                ).extend(messages)
        return out
    return {"non_field_errors": [str(detail)]}


def _response(
    body: dict[str, Any], status_code: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status=status_code, headers=headers)


def handle_api_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map any exception raised in an API view to ``{"error", "code", ...}``."""
    if isinstance(exc, ServiceError):
        return _response(exc.body(), exc.status, exc.headers())
    if isinstance(exc, Http404):
        return _response({"error": "Not found.", "code": "NOT_FOUND"}, 404)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        first_field, messages = next(iter(details.items()), ("", ["Invalid input."]))
        message = (
            messages[0] if first_field == "non_field_errors" else f"{first_field}: {messages[0]}"
        )
        return _response({"error": message, "code": "VALIDATION_ERROR", "details": details}, 400)
    if isinstance(exc, exceptions.APIException):
        code = _DRF_CODES.get(type(exc), str(exc.default_code).upper())
        headers: dict[str, str] = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = "Bearer"
            exc.status_code = status.HTTP_401_UNAUTHORIZED
        wait = getattr(exc, "wait", None)  # a Throttled exception's seconds to wait
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(max(1, int(wait)))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _response({"error": str(detail), "code": code}, exc.status_code, headers)
    if isinstance(exc, DataError):
        # The database refused a value the request carried (a NUL character in a filter,
        # a number out of range): the client's input, not an outage.
        logger.info("database refused request data: %s", exc)
        return _response(
            {
                "error": "The request contains a value the service cannot store or search for.",
                "code": "VALIDATION_ERROR",
            },
            400,
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error in API view")
        unavailable = ServiceUnavailable()
        return _response(unavailable.body(), unavailable.status, unavailable.headers())
    return None
