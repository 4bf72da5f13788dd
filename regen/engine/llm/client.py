"""An OpenAI-compatible chat-completions client: deadlines, retries, a circuit breaker, costs.

Every socket read, write and connect of a call is bounded by the call's total deadline
(see ``_DeadlineStream``), so a server that trickles one byte at a time cannot hold a
worker past it even though no inactivity timeout ever fires.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import httpcore
import httpx

from .. import deadline as request_deadline
from ..types import Usage
from .errors import (
    CircuitOpen,
    LLMBadResponse,
    LLMError,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
)

Message = Mapping[str, str]

MAX_BODY_BYTES: Final = 4_000_000
"""A chat completion is text: a bigger answer is broken or hostile."""
_EXCERPT: Final = 300


# -- prices ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input and output tokens."""

    input_per_million: float
    output_per_million: float

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.input_per_million + output_tokens * self.output_per_million
        ) / 1_000_000


FALLBACK_PRICE: Final = Price(2.50, 10.00)
"""An unknown model is priced like a large one, so budgets err on the safe side."""
DEFAULT_PRICES: Final[Mapping[str, Price]] = MappingProxyType(
    {
        "gpt-4o-mini": Price(0.15, 0.60),
        "gpt-4o": Price(2.50, 10.00),
        "gpt-4.1-nano": Price(0.10, 0.40),
        "gpt-4.1-mini": Price(0.40, 1.60),
        "gpt-4.1": Price(2.00, 8.00),
        "*": FALLBACK_PRICE,
    }
)


def price_for(model: str, table: Mapping[str, Price] = DEFAULT_PRICES) -> Price:
    """Find a model's price: exact name, then without ``provider/``, then longest prefix."""
    for name in (model, model.rsplit("/", 1)[-1]):
        if name in table:
            return table[name]
        prefixes = [key for key in table if key != "*" and name.startswith(key)]
        if prefixes:
            return table[max(prefixes, key=len)]
    return table.get("*", FALLBACK_PRICE)


def estimate_tokens(chars: int) -> int:
    """Estimate tokens from characters (about four characters a token in English)."""
    return math.ceil(chars / 4)


@dataclass(frozen=True, slots=True)
class Completion:
    """One chat completion: its text, its tokens and cost, and the call's wall time."""

    text: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    attempts: int = 1

    @property
    def usage(self) -> Usage:
        return Usage(1, self.input_tokens, self.output_tokens, self.cost_usd)


# -- circuit breaker ---------------------------------------------------------------------
class CircuitBreaker:
    """Open after ``failure_threshold`` consecutive failures; fail fast for ``cooldown`` s.

    When the cool-down is over one call goes through as a probe (the others keep failing
    fast for another cool-down); its success closes the circuit, its failure re-opens it.
    Share one breaker among the clients of one endpoint.
    """

    def __init__(self, *, failure_threshold: int = 5, cooldown: float = 30.0) -> None:
        if failure_threshold < 1 or cooldown < 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown >= 0")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def allow(self) -> None:
        """Let a call through, or raise ``CircuitOpen`` while cooling down."""
        with self._lock:
            if self._opened_at is None:
                return
            waited = time.monotonic() - self._opened_at
            if waited < self.cooldown:
                raise CircuitOpen(
                    f"the LLM endpoint failed {self._failures} times in a row; "
                    f"retrying in {self.cooldown - waited:.1f} s"
                )
            self._opened_at = time.monotonic()  # half-open: this call is the probe

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._opened_at = time.monotonic()


# -- the total deadline, enforced on every socket operation ---------------------------------
_deadline: ContextVar[float | None] = ContextVar("llm_deadline", default=None)


def _cap(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the total deadline of the call has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _cap(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _cap(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _cap(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport with a network backend that honours the call's total deadline."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


# -- the client --------------------------------------------------------------------------
class _Retry(Exception):
    """An attempt failed in a way another attempt may fix."""

    def __init__(self, error: LLMError, *, after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.after = after


class LLMClient:
    """Call ``POST {base_url}/chat/completions`` of an OpenAI-compatible endpoint.

    ``base_url`` must already be trusted: check a caller-supplied one with
    ``validate_base_url`` first. The client is thread-safe; share one per endpoint and key.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        provider: str = "openai",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        total_deadline: float = 60.0,
        max_retries: int = 2,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_after: float = 30.0,
        price_table: Mapping[str, Price] | None = None,
        circuit: CircuitBreaker | None = None,
        max_connections: int = 32,
        on_completion: Callable[[Completion], None] | None = None,
    ) -> None:
        if min(connect_timeout, read_timeout, total_deadline) <= 0 or max_retries < 0:
            raise ValueError("timeouts must be positive and max_retries >= 0")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.provider = provider
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_deadline = total_deadline
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.price = price_for(model, DEFAULT_PRICES if price_table is None else price_table)
        self.circuit = circuit
        self.on_completion = on_completion
        """Told of every completed call (e.g. to count an account key's usage)."""
        self._secret = api_key
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=16)
        self._http = httpx.Client(
            transport=_DeadlineTransport(limits=limits),
            headers=headers,
            follow_redirects=False,  # a redirect could point at an internal address
            trust_env=False,
        )

    def __repr__(self) -> str:  # never show the key
        return f"LLMClient({self.base_url!r}, model={self.qualified_model!r})"

    @property
    def qualified_model(self) -> str:
        """Name the model as ``provider/model``."""
        return self.model if "/" in self.model else f"{self.provider}/{self.model}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cost_usd(self, *, input_tokens: int, output_tokens: int) -> float:
        """Price tokens of this client's model."""
        return self.price.cost_usd(input_tokens, output_tokens)

    def complete(
        self,
        messages: Sequence[Message],
        *,
        temperature: float,
        max_tokens: int,
        response_format: Mapping[str, Any] | None = None,
    ) -> Completion:
        """Ask for one chat completion, retrying transient failures within the deadline.

        The deadline is the client's ``total_deadline`` or the request's (``engine.deadline``),
        whichever comes first: a call made for a web request ends before the web worker's
        timeout would kill it.
        """
        started = time.monotonic()
        deadline = started + self.total_deadline
        outer = request_deadline.current()
        if outer is not None:
            if outer <= started:
                raise LLMTimeout("the request's deadline has passed; the model was not called")
            deadline = min(deadline, outer)
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if response_format is not None:
            payload["response_format"] = dict(response_format)
        body = json.dumps(payload).encode()
        prompt_chars = sum(len(message.get("content", "")) for message in messages)
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.circuit is not None:
                    self.circuit.allow()
                data = self._post(body, deadline)
                text, tokens_in, tokens_out = _read_completion(data, prompt_chars)
            except _Retry as retry:
                delay = self._delay(retry, attempt)
                if attempt > self.max_retries or time.monotonic() + delay >= deadline:
                    raise _with_attempts(retry.error, attempt) from retry
                time.sleep(delay)
                continue
            except LLMError as error:
                sent = attempt - 1 if isinstance(error, CircuitOpen) else attempt
                raise _with_attempts(error, sent) from None
            completion = Completion(
                text=text,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=self.price.cost_usd(tokens_in, tokens_out),
                latency_ms=(time.monotonic() - started) * 1000.0,
                attempts=attempt,
            )
            if self.on_completion is not None:
                self.on_completion(completion)
            return completion

    def _delay(self, retry: _Retry, attempt: int) -> float:
        if retry.after is not None:
            return min(retry.after, self.max_retry_after) * (1.0 + 0.05 * random.random())
        # exponential backoff with "equal jitter": half fixed, half random
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * random.random())

    def _post(self, body: bytes, deadline: float) -> Any:
        """Make one HTTP request; return the decoded JSON answer, or raise."""
        timeout = httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.connect_timeout,
        )
        token = _deadline.set(deadline)
        try:
            with self._http.stream(
                "POST", f"{self.base_url}/chat/completions", content=body, timeout=timeout
            ) as response:
                raw = _read_body(response)
                return self._check(response, raw)
        except httpx.TimeoutException as exc:
            self._failed()
            if time.monotonic() >= deadline - 0.001:
                raise LLMTimeout(
                    f"no answer within the deadline ({self.total_deadline:g} s a call, or the "
                    "request's, whichever comes first)"
                ) from exc
            if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise _Retry(LLMUnavailable(f"could not connect: {exc!r}")) from exc
            raise LLMTimeout(f"no data for {self.read_timeout:g} s (read timeout)") from exc
        except httpx.TransportError as exc:
            self._failed()
            raise _Retry(LLMUnavailable(f"connection failed: {exc!r}")) from exc
        finally:
            _deadline.reset(token)

    def _check(self, response: httpx.Response, raw: bytes) -> Any:
        status = response.status_code
        if status >= 500:
            self._failed()
            raise _Retry(LLMUnavailable(f"the LLM endpoint answered HTTP {status}"))
        if self.circuit is not None:
            self.circuit.record_success()  # anything below 500 means the endpoint is up
        if status == 429:
            after = _retry_after(response.headers)
            raise _Retry(LLMUnavailable("the LLM endpoint is rate limiting (429)"), after=after)
        if status != 200:
            excerpt = raw[:_EXCERPT].decode("utf-8", "replace")
            if self._secret:  # a provider may echo the key it refuses: never pass it on
                excerpt = excerpt.replace(self._secret, "[redacted]")
            raise LLMRejected(
                f"the LLM endpoint refused the call: HTTP {status}: {excerpt}", status=status
            )
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise _Retry(LLMBadResponse("the LLM endpoint answered with invalid JSON")) from exc

    def _failed(self) -> None:
        if self.circuit is not None:
            self.circuit.record_failure()


def _read_body(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise LLMBadResponse(f"the LLM answer is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _read_completion(data: Any, prompt_chars: int) -> tuple[str, int, int]:
    """Take the text and the token counts out of a chat-completions answer."""
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        text = None
    if not isinstance(text, str):
        raise _Retry(LLMBadResponse("the LLM answer has no choices[0].message.content"))
    usage = data.get("usage") if isinstance(data, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    tokens_in = usage.get("prompt_tokens")
    tokens_out = usage.get("completion_tokens")
    # a provider that reports no usage is charged by estimate, never for free
    if not isinstance(tokens_in, int) or tokens_in < 0:
        tokens_in = estimate_tokens(prompt_chars)
    if not isinstance(tokens_out, int) or tokens_out < 0:
        tokens_out = estimate_tokens(len(text))
    return text, tokens_in, tokens_out


def _retry_after(headers: httpx.Headers) -> float | None:
    """Read ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _with_attempts(error: LLMError, attempts: int) -> LLMError:
    error.attempts = attempts
    return error
