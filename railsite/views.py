"""Error pages: JSON in the contract's shape for API paths, HTML elsewhere."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found, server_error

API_PREFIXES = ("/railscore/", "/api/", "/verify", "/health")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "Not found.", "code": "NOT_FOUND"}, status=404)
    return page_not_found(request, exception)


def crashed(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = {"error": "An internal error occurred; it has been logged.", "code": "INTERNAL_ERROR"}
        return JsonResponse(body, status=500)
    return server_error(request)
