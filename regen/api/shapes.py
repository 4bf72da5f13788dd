"""Which body shape a client reads: the seed's envelope, or the JavaScript SDK's flat one.

The seed (and the Python SDK) read ``{"result": {...}, "metadata": ..., "credits_...": ...}``.
The JavaScript SDK reads the ``result`` fields at the top level (``r.rail_score``,
``r.status``, ``r.best_content``...). It says who it is with ``X-RAIL-Client: sdk-js/<v>``
(2.4 and later) or ``User-Agent: rail-score-js/<v>`` (earlier); such a caller gets the
flat shape of ``/eval``, ``/safe-regenerate`` and ``/continue``, every other caller the
envelope. Error bodies are the same for both.
"""

from __future__ import annotations

from typing import Any

from django.utils.cache import patch_vary_headers
from rest_framework.request import Request
from rest_framework.response import Response

JS_CLIENT = "sdk-js/"
JS_AGENT = "rail-score-js/"


def wants_flat(request: Request) -> bool:
    """Tell whether the caller is the JavaScript SDK."""
    return request.headers.get("X-RAIL-Client", "").startswith(JS_CLIENT) or request.headers.get(
        "User-Agent", ""
    ).startswith(JS_AGENT)


def shaped(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    """Answer ``body`` in the shape the caller reads (the envelope unless it is the JS SDK)."""
    if wants_flat(request) and isinstance(body.get("result"), dict):
        body = {**body["result"], **{k: v for k, v in body.items() if k != "result"}}
    response = Response(body, status=status)
    patch_vary_headers(response, ("X-RAIL-Client", "User-Agent"))
    return response
