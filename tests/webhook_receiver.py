"""A webhook receiver on 127.0.0.1 for the webhook tests (review decisions, jobs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """A webhook receiver: answers the scripted statuses (then 200), keeps what came."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        return Handler


def serve(settings: object) -> Iterator[tuple[Receiver, str]]:
    """Serve a Receiver until the generator is closed (the ``receiver`` fixture)."""
    settings.RAIL_WEBHOOK_ALLOWLIST = ["127.0.0.1"]  # type: ignore[attr-defined]
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver, f"http://127.0.0.1:{server.server_address[1]}/hooks/rail"
    server.shutdown()
    server.server_close()
