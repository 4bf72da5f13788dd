"""Guards around every view: oversized bodies never reach a parser; every answer carries
the security headers Django does not set itself."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from regen.engine import deadline


class BodySizeLimitMiddleware:
    """Refuse a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE with 413, before parsing it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                {
                    "error": f"The request body is larger than {limit:,} bytes.",
                    "code": "PAYLOAD_TOO_LARGE",
                },
                status=413,
            )
        return self.get_response(request)


CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no page has an inline script or handler
        # htmx's indicator rule and plotly's chart rules are <style> elements they insert
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    """Add Content-Security-Policy and Permissions-Policy to every answer.

    Constant headers: the pages load scripts only from this server (static, no CDN), so a
    strict script policy holds; ``tests/pages/test_security_headers.py`` and the browser
    tests (which fail on any console error, a CSP violation included) prove it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestDeadlineMiddleware:
    """Give the work of every request a deadline inside the web worker's timeout.

    ``RAIL_REQUEST_WORK_SECONDS`` (``RAIL_REQUEST_TIMEOUT`` less a margin for the answer):
    model calls end by it and the regeneration loop stops before a step it cannot finish
    (``regen.engine.deadline``), so a request answers in JSON before gunicorn kills it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with deadline.within(settings.RAIL_REQUEST_WORK_SECONDS):
            return self.get_response(request)


class DependencyDownMiddleware:
    """Answer 503 when the database (or the broker) fails outside an API view's own handling.

    API views map database errors themselves (``railsite.exceptions``); this catches what
    escapes them and every page: an API path gets the contract's JSON, a page a
    self-contained styled page (it touches no database: the base template would).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import DatabaseError, DataError

        from railsite.views import unavailable

        if isinstance(exception, DatabaseError) and not isinstance(exception, DataError):
            return unavailable(request)
        return None
