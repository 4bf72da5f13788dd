"""How a dashboard page answers: the whole page, or its named partial for an htmx swap.

One rule for every page: an htmx request gets the partial named in the page's own template
(``page.html#partial``, django-template-partials), except a history restore, which needs
the whole page. Every answer varies on ``HX-Request`` so a cache never serves one for the
other.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_partial(request: HttpRequest) -> bool:
    """Say whether the request is an htmx swap (a history restore needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or its ``partial`` for an htmx swap, with ``Vary: HX-Request``."""
    name = f"{template}#{partial}" if partial and wants_partial(request) else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
