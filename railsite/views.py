"""Error pages: JSON in the contract's shape for API paths, HTML elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import page_not_found, server_error

from railsite.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

API_PREFIXES = ("/railscore/", "/api/", "/verify", "/health")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "Not found.", "code": "NOT_FOUND"}, status=404)
    return page_not_found(request, exception)


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
