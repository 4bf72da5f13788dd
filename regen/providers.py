"""The LLM providers this server may call, read from the settings, and their clients.

``RAIL_PROVIDERS`` names any number of OpenAI-compatible endpoints, each with its allowed
models and their prices; the older ``RAIL_LLM_*`` variables add one more, named
``RAIL_LLM_PROVIDER``, when ``RAIL_LLM_BASE_URL`` is set. A model is ``provider/model``
everywhere. Every base URL passes the SSRF guard (operators' own private endpoints are
admitted; cloud metadata and other link-local addresses only when allow-listed in
``RAIL_LLM_URL_ALLOWLIST``). A faulty provider setting is the server's fault: a 503 in a
request, an error in ``manage.py check``, never a 400.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache, partial
from typing import Any

from django.conf import settings

from railsite.errors import ServiceUnavailable
from regen.engine.llm import CircuitBreaker, Completion, LLMClient, price_for, validate_base_url
from regen.engine.llm.providers import (
    Provider,
    ProviderConfigError,
    parse_providers,
    split_model,
)
from regen.engine.llm.ssrf import UnsafeBaseURL


def _defaults() -> dict[str, Any]:
    return {
        "connect_timeout": settings.RAIL_LLM_CONNECT_TIMEOUT,
        "read_timeout": settings.RAIL_LLM_READ_TIMEOUT,
        "deadline": settings.RAIL_LLM_DEADLINE,
        "max_retries": settings.RAIL_LLM_MAX_RETRIES,
        "backoff_base": settings.RAIL_LLM_BACKOFF_BASE,
    }


def _legacy() -> Provider | None:
    """The single provider of the ``RAIL_LLM_*`` variables, when they name one."""
    if not settings.RAIL_LLM_BASE_URL:
        return None
    model = settings.RAIL_LLM_MODEL
    return Provider(
        name=settings.RAIL_LLM_PROVIDER,
        base_url=settings.RAIL_LLM_BASE_URL.strip().rstrip("/"),
        models={model: price_for(model)},
        api_key=settings.RAIL_LLM_API_KEY,
        connect_timeout=settings.RAIL_LLM_CONNECT_TIMEOUT,
        read_timeout=settings.RAIL_LLM_READ_TIMEOUT,
        deadline=settings.RAIL_LLM_DEADLINE,
        max_retries=settings.RAIL_LLM_MAX_RETRIES,
        backoff_base=settings.RAIL_LLM_BACKOFF_BASE,
    )


@lru_cache(maxsize=1)
def _providers() -> dict[str, Provider]:
    configured = parse_providers(settings.RAIL_PROVIDERS, environ=os.environ, defaults=_defaults())
    legacy = _legacy()
    if legacy is not None and legacy.name not in configured:
        configured = {legacy.name: legacy, **configured}
    return configured


def providers() -> dict[str, Provider]:
    """Return the configured providers by name (a 503 if their settings are malformed)."""
    try:
        return _providers()
    except ProviderConfigError as error:
        raise ServiceUnavailable(f"RAIL_PROVIDERS is misconfigured: {error}") from error


def model_names() -> list[str]:
    """Every configured ``provider/model``, providers and models in settings order."""
    return [f"{p.name}/{model}" for p in providers().values() for model in p.models]


def default_model() -> str | None:
    """The model ``llm`` means: ``RAIL_DEFAULT_MODEL``, else the first provider's first."""
    if settings.RAIL_DEFAULT_MODEL:
        return str(settings.RAIL_DEFAULT_MODEL)
    first = next(iter(providers().values()), None)
    return f"{first.name}/{first.default_model}" if first else None


def resolve(name: str) -> tuple[Provider, str] | None:
    """Find the provider and the model of a ``provider/model`` name; None if unconfigured."""
    parts = split_model(name)
    if parts is None:
        return None
    provider = providers().get(parts[0])
    if provider is None or parts[1] not in provider.models:
        return None
    return provider, parts[1]


def check_base_url(provider: Provider) -> str:
    """Pass the provider's URL through the SSRF guard, or raise ``UnsafeBaseURL``."""
    return validate_base_url(
        provider.base_url, allow_private=True, allowlist=settings.RAIL_LLM_URL_ALLOWLIST
    )


def configuration_problems() -> list[str]:
    """Name what is wrong with the provider settings (the start-time check)."""
    try:
        configured = _providers()
    except ProviderConfigError as error:
        return [f"RAIL_PROVIDERS: {error}"]
    problems = []
    for provider in configured.values():
        try:
            check_base_url(provider)
        except UnsafeBaseURL as error:
            if "does not resolve" not in str(error):  # DNS may come up after the server
                problems.append(f"provider {provider.name!r}: {error}")
    for setting in ("RAIL_DEFAULT_MODEL", "RAIL_JUDGE_MODEL"):
        value = getattr(settings, setting)
        if value and resolve(value) is None:
            problems.append(f"{setting}={value!r} names no configured provider/model.")
    return problems


_circuits: dict[str, CircuitBreaker] = {}
_circuits_lock = threading.Lock()


def _circuit(provider: str) -> CircuitBreaker:
    """One breaker per provider, shared by all its clients (every model, every key)."""
    with _circuits_lock:
        if provider not in _circuits:
            _circuits[provider] = CircuitBreaker(
                failure_threshold=settings.RAIL_LLM_CIRCUIT_THRESHOLD,
                cooldown=settings.RAIL_LLM_CIRCUIT_COOLDOWN,
            )
        return _circuits[provider]


@lru_cache(maxsize=64)
def _client(provider_name: str, model: str, api_key: str | None, key_id: int | None) -> LLMClient:
    provider = providers()[provider_name]
    try:
        base_url = check_base_url(provider)
    except UnsafeBaseURL as error:
        raise ServiceUnavailable(
            f"The provider {provider_name!r} is not callable: {error}"
        ) from error
    return LLMClient(
        base_url,
        provider.api_key if api_key is None else api_key,
        model,
        provider=provider.name,
        connect_timeout=provider.connect_timeout,
        read_timeout=provider.read_timeout,
        total_deadline=provider.deadline,
        max_retries=provider.max_retries,
        backoff_base=provider.backoff_base,
        price_table={model: provider.price(model)},
        circuit=_circuit(provider.name),
        on_completion=None if key_id is None else partial(_meter, key_id),
    )


def _meter(key_id: int, completion: Completion) -> None:
    from billing.provider_keys import meter

    meter(key_id, completion.usage)


def client(name: str, *, account: Any = None) -> LLMClient:
    """Return a client for a configured ``provider/model``: with the account's own key for
    the provider when it stored one (its usage counted against that key), else with the
    provider's. A name that is not configured is a ``LookupError``."""
    from billing.provider_keys import key_for

    resolved = resolve(name)
    if resolved is None:
        raise LookupError(name)
    provider, model = resolved
    own = key_for(account, provider.name)
    if own is None:
        return _client(provider.name, model, None, None)
    return _client(provider.name, model, own[1], own[0])


def reset() -> None:
    """Forget the providers and clients (after a settings change in tests)."""
    _providers.cache_clear()
    _client.cache_clear()
    with _circuits_lock:
        _circuits.clear()
