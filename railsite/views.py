"""Error pages: JSON in the contract's shape for API paths, HTML elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error

from billing.dashboard import seat_for
from railsite.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

API_PREFIXES = ("/railscore/", "/api/", "/verify", "/health")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    """Render an error page inside the dashboard's frame, with the member's navigation."""
    if not hasattr(request, "seat"):
        try:
            request.seat = seat_for(request)  # type: ignore[attr-defined]
        except Exception:  # the page must render even when the database cannot answer
            logger.exception("no navigation on the %s page", status)
    return HttpResponse(render_to_string(template, request=request), status=status)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "Not found.", "code": "NOT_FOUND"}, status=404)
    return _page(request, "404.html", 404)


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    """Refuse a page the member's role does not allow, in the frame, naming what they can do."""
    if _is_api(request):
        body = {"error": "You do not have permission to do this.", "code": "PERMISSION_DENIED"}
        return JsonResponse(body, status=403)
    return _page(request, "403.html", 403)


def crashed(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = {
            "error": "An internal error occurred; it has been logged.",
            "code": "INTERNAL_ERROR",
        }
        return JsonResponse(body, status=500)
    return server_error(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    """Answer 503 while a dependency is down: JSON for the API, a plain styled page else."""
    logger.error("a dependency is unavailable while serving %s", request.path, exc_info=True)
    unavailable = ServiceUnavailable()
    if _is_api(request):
        return JsonResponse(
            unavailable.body(), status=unavailable.status, headers=unavailable.headers()
        )
    return HttpResponse(
        render_to_string("503.html"), status=unavailable.status, headers=unavailable.headers()
    )
