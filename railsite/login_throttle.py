"""Log-in throttling (django-axes, configured in settings): whose address a log-in is from.

Behind the TLS proxy the README describes (``BEHIND_TLS_PROXY``), every request arrives
from the proxy, so the client's address is the last one the proxy appended to
``X-Forwarded-For`` (entries before it are the client's own claims and can be forged).
Otherwise it is the socket's address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the address to count a failed log-in against."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))
