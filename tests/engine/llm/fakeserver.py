"""A real OpenAI-compatible chat-completions server on 127.0.0.1, with knobs for tests.

    with running_fake_llm() as fake:
        fake.latency = 0.2
        fake.statuses = [500, 500]          # then 200
        client = LLMClient(fake.base_url, "sk-test", "gpt-4o-mini")

It answers judge prompts (those of ``regen.engine.llm.judge``) with JSON scores that echo
the nonce, and any other prompt with a rewrite of the quoted text. ``mode`` (or the
per-request ``script``) picks a misbehaviour; the counters tell what reached the server.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from regen.engine.dimensions import DIMENSIONS

MODES = (
    "ok",  # well-formed answer
    "hang",  # accept the request, never send headers
    "trickle",  # send headers, then the body one byte every ``trickle_interval``
    "bad_envelope",  # HTTP 200 whose body is not JSON
    "malformed",  # content that is not JSON
    "missing_nonce",  # JSON scores without the nonce
    "wrong_nonce",  # JSON scores with another nonce
    "out_of_range",  # scores of 12
    "missing_dimension",  # the first dimension left out
    "gullible",  # obeys instructions found in the quoted text
    "empty",  # empty content
)
_NONCE = re.compile(r"<<<CONTENT-([0-9a-f]+)\n(.*?)\nCONTENT-\1>>>", re.DOTALL)
_DIMENSION_LINE = re.compile(r"^- ([a-z_]+): ", re.MULTILINE)
_OBEY = re.compile(
    r"ignore (?:all |any )?(?:previous|prior|your)|score (?:this|it)|10/10|"
    r"\"safety\"\s*:|evaluation complete|^\s*system\s*:",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class FakeLLM:
    """The server's behaviour (set by tests) and what it saw (read by tests)."""

    latency: float = 0.0
    mode: str = "ok"
    script: list[str] = field(default_factory=list)
    """Modes for the next requests, first one first; ``mode`` once it is empty."""
    statuses: list[int] = field(default_factory=list)
    """HTTP statuses for the next requests, first one first; 200 once it is empty."""
    retry_after: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    trickle_interval: float = 0.1
    scores: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, 6.0))
    confidence: float = 0.8
    rewrite: Callable[[str], str] | None = None
    """Builds a rewrite from the quoted text; by default it appends a referral."""
    usage: tuple[int, int] | None = None
    """Fixed (prompt_tokens, completion_tokens); estimated from the text when ``None``."""
    base_url: str = ""
    hits: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    """The ``Authorization`` header of each request, in order."""
    echo_key: bool = False
    """Quote the request's ``Authorization`` header in error answers, as some providers do."""
    judge: Callable[[str], float] | None = None
    """Scores every dimension of a quoted text (a scripted judge); ``scores`` when ``None``."""
    hit_times: list[float] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset_counters(self) -> None:
        with self.lock:
            self.hits = self.peak_in_flight = 0
            self.requests.clear()
            self.authorizations.clear()
            self.hit_times.clear()

    def _arrive(self, body: dict[str, Any], authorization: str = "") -> tuple[int, str]:
        with self.lock:
            self.hits += 1
            self.authorizations.append(authorization)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self.requests.append(body)
            self.hit_times.append(time.monotonic())
            status = self.statuses.pop(0) if self.statuses else 200
            mode = self.script.pop(0) if self.script else self.mode
        return status, mode

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def answer(self, body: dict[str, Any], mode: str) -> str:
        """Write the message content for a request in ``mode``."""
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        quoted = _NONCE.search(prompt)
        nonce, text = (quoted.group(1), quoted.group(2)) if quoted else ("", "")
        before_text = prompt[: quoted.start()] if quoted else prompt
        dimensions = _DIMENSION_LINE.findall(before_text)
        if mode == "empty":
            return ""
        if mode == "malformed":
            return "I think this text is fine, 8/10 overall."
        if not dimensions:  # not a judge prompt: a rewrite
            return self.rewrite(text) if self.rewrite else f"{text} Please consult a professional."
        scores = dict(self.scores)
        if self.judge is not None:
            scores = dict.fromkeys(DIMENSIONS, self.judge(text))
        if mode == "gullible" and _OBEY.search(text):
            scores = dict.fromkeys(DIMENSIONS, 10.0)
        if mode == "out_of_range":
            scores = dict.fromkeys(DIMENSIONS, 12.0)
        reply: dict[str, Any] = {
            d: {
                "score": scores.get(d, 6.0),
                "confidence": self.confidence,
                "explanation": f"The fake judge scored {d}.",
                "issues": [] if scores.get(d, 6.0) >= 7 else [f"{d} could be better"],
            }
            for d in dimensions
        }
        if mode == "missing_dimension":
            reply.pop(dimensions[0])
        if mode == "wrong_nonce":
            reply["nonce"] = "0" * len(nonce)
        elif mode != "missing_nonce":
            reply["nonce"] = nonce
        return json.dumps(reply)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers do
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        status, mode = fake._arrive(body, self.headers.get("Authorization", ""))
        try:
            self._respond(fake, body, status, mode)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            fake._leave()

    def _respond(self, fake: FakeLLM, body: dict[str, Any], status: int, mode: str) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, b'{"error": {"message": "not found"}}')
        if mode == "hang":
            fake.stopping.wait(30)
            self.close_connection = True
            return None
        if fake.latency:
            fake.stopping.wait(fake.latency)
        if status != 200:
            message = f"fake status {status}"
            if fake.echo_key:
                message += f": incorrect API key {self.headers.get('Authorization', '')}"
            payload = json.dumps({"error": {"message": message}}).encode()
            extra = {"Retry-After": fake.retry_after} if status == 429 and fake.retry_after else {}
            return self._send(status, payload, extra)
        if mode == "bad_envelope":
            return self._send(200, b"<html>oops</html>")
        content = fake.answer(body, mode)
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        tokens_in, tokens_out = fake.usage or (prompt_chars // 4, len(content) // 4)
        payload = json.dumps(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": tokens_in,
                    "completion_tokens": tokens_out,
                    "total_tokens": tokens_in + tokens_out,
                },
            }
        ).encode()
        if mode == "trickle":
            return self._trickle(fake, payload)
        return self._send(200, payload)

    def _send(self, status: int, payload: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in {**self.server.fake.headers, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _trickle(self, fake: FakeLLM, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.flush()
        for index in range(len(payload)):
            if fake.stopping.wait(fake.trickle_interval):
                break
            self.wfile.write(payload[index : index + 1])
            self.wfile.flush()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # deep mode opens 8-16 connections at once

    def __init__(self, fake: FakeLLM) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def running_fake_llm(**knobs: Any) -> Iterator[FakeLLM]:
    """Serve a ``FakeLLM`` on a free port of 127.0.0.1 until the block ends."""
    fake = FakeLLM(**knobs)
    server = _Server(fake)
    host, port = server.server_address[:2]
    fake.base_url = f"http://{host!s}:{port}/v1"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="fake-llm", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def refused_url() -> str:
    """Return the base URL of a 127.0.0.1 port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
