"""gunicorn's own error answers in the contract's JSON shape (gunicorn.conf.py installs it).

Some requests never reach Django: a malformed request line, a header too large, a bad
chunk. gunicorn answers those itself, in HTML (``gunicorn.util.write_error``); this writes
``{"error", "code"}`` with the same status instead, so every answer of the API is JSON.
"""

from __future__ import annotations

import json
import socket
from typing import Final

from gunicorn import util

CODES: Final[dict[int, str]] = {
    400: "VALIDATION_ERROR",
    403: "PERMISSION_DENIED",
    414: "URI_TOO_LONG",
    417: "EXPECTATION_FAILED",
    431: "HEADERS_TOO_LARGE",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
}


def write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Write gunicorn's error answer as JSON (same status, reason and message)."""
    message = mesg or reason
    if status_int >= 500 and status_int != 501:
        message = "An internal error occurred; it has been logged."
    body = json.dumps(
        {
            "error": f"{reason}: {message}" if mesg else message,
            "code": CODES.get(status_int, "BAD_REQUEST"),
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


def install() -> None:
    """Make gunicorn's workers answer their own errors with ``write_error``."""
    util.write_error = write_error
