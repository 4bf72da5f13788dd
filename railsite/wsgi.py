"""The WSGI entry point, with chunked request bodies made readable to Django.

Django reads ``CONTENT_LENGTH`` bytes of a body, so a ``Transfer-Encoding: chunked``
request (no length; gunicorn de-chunks it) would be read as empty and fail validation as
if nothing was sent. ``ChunkedBody`` reads such a body (up to the upload limit; beyond it
a 413 in the contract's shape) and hands Django a length.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBody:
    """Give a chunked request a ``CONTENT_LENGTH`` by reading it, within ``limit`` bytes."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(self.limit + 1)
            if len(body) > self.limit:
                payload = json.dumps(
                    {
                        "error": f"The request body is larger than {self.limit:,} bytes.",
                        "code": "PAYLOAD_TOO_LARGE",
                    }
                ).encode()
                start_response(
                    "413 Payload Too Large",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
                )
                return [payload]
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _application() -> WSGIApp:
    from django.conf import settings

    django_app = get_wsgi_application()
    return ChunkedBody(django_app, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31)


application = _application()
