"""Choose the evaluator and the regenerator for a request, from the settings.

``RAIL_EVALUATOR`` / ``RAIL_REGENERATOR`` pick ``embedded`` (offline, the default: learned
heads composed with the rules; ``learned`` is an alias) or ``llm`` (an OpenAI-compatible
endpoint at ``RAIL_LLM_BASE_URL``); ``RAIL_EVALUATOR=rules`` scores with the rules alone.
The LLM evaluator falls back to the embedded one when the endpoint is down, and says so
(``degraded``).
Clients are built lazily in each process, so a forked worker never shares a socket.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

from railsite.errors import RequestValidationError, ServiceUnavailable
from regen.engine.estimate import Estimate, estimate
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.evaluators.rules import RulesEvaluator
from regen.engine.llm import (
    CircuitBreaker,
    FallbackEvaluator,
    LLMClient,
    LLMEvaluator,
    LLMRegenerator,
    validate_base_url,
)
from regen.engine.pricing import Prices
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.requests import RegenerateRequest
from regen.engine.types import Evaluator, Regenerator

SERVER_REGENERATOR = "RAIL_Safe_LLM"
EXTERNAL = "external"
EMBEDDED_NAMES = ("embedded", EmbeddedRegenerator.model)


EMBEDDED_EVALUATORS = ("embedded", "learned")


@lru_cache(maxsize=1)
def _embedded_evaluator() -> LearnedEvaluator:
    return LearnedEvaluator()


@lru_cache(maxsize=1)
def _rules_evaluator() -> RulesEvaluator:
    return RulesEvaluator()


@lru_cache(maxsize=1)
def _embedded_regenerator() -> EmbeddedRegenerator:
    return EmbeddedRegenerator()


@lru_cache(maxsize=1)
def llm_client() -> LLMClient:
    """Build the server's own LLM client (its URL is trusted: it is allow-listed)."""
    url = settings.RAIL_LLM_BASE_URL
    if not url:
        # the server's configuration, not the caller's request, is wrong: a 503, never a 400
        raise ServiceUnavailable("The LLM engine is selected but RAIL_LLM_BASE_URL is not set.")
    allow = [urlsplit(url).hostname or "", *settings.RAIL_LLM_URL_ALLOWLIST]
    validate_base_url(url, allow_private=True, allowlist=allow)
    return LLMClient(
        url,
        settings.RAIL_LLM_API_KEY,
        settings.RAIL_LLM_MODEL,
        provider=settings.RAIL_LLM_PROVIDER,
        connect_timeout=settings.RAIL_LLM_CONNECT_TIMEOUT,
        read_timeout=settings.RAIL_LLM_READ_TIMEOUT,
        total_deadline=settings.RAIL_LLM_DEADLINE,
        max_retries=settings.RAIL_LLM_MAX_RETRIES,
        backoff_base=settings.RAIL_LLM_BACKOFF_BASE,
        circuit=CircuitBreaker(
            failure_threshold=settings.RAIL_LLM_CIRCUIT_THRESHOLD,
            cooldown=settings.RAIL_LLM_CIRCUIT_COOLDOWN,
        ),
    )


@lru_cache(maxsize=1)
def _llm_evaluator() -> Evaluator:
    return FallbackEvaluator(LLMEvaluator(llm_client()), _embedded_evaluator())


@lru_cache(maxsize=1)
def _llm_regenerator() -> LLMRegenerator:
    return LLMRegenerator(llm_client())


def reset() -> None:
    """Forget built engines (after a settings change in tests)."""
    for cached in (llm_client, _llm_evaluator, _llm_regenerator):
        cached.cache_clear()


def get_evaluator() -> Evaluator:
    """Return the configured evaluator (``RAIL_EVALUATOR``)."""
    if settings.RAIL_EVALUATOR == "llm":
        return _llm_evaluator()
    if settings.RAIL_EVALUATOR == "rules":
        return _rules_evaluator()
    if settings.RAIL_EVALUATOR not in EMBEDDED_EVALUATORS:
        raise ServiceUnavailable(
            f"The evaluator {settings.RAIL_EVALUATOR!r} is not available on this server."
        )
    return _embedded_evaluator()


EVALUATORS = ("embedded", "learned", "rules", "llm")
REGENERATORS = ("embedded", EmbeddedRegenerator.model, "llm")


def configuration_problems() -> list[str]:
    """Name what is wrong with the engine settings (checked at start: ``regen.checks``)."""
    problems = []
    if settings.RAIL_EVALUATOR not in EVALUATORS:
        problems.append(
            f"RAIL_EVALUATOR={settings.RAIL_EVALUATOR!r}: use one of {', '.join(EVALUATORS)}."
        )
    regenerator = settings.RAIL_REGENERATOR
    if regenerator not in REGENERATORS and regenerator != server_model_name():
        problems.append(f"RAIL_REGENERATOR={regenerator!r}: use embedded or llm.")
    uses_llm = "llm" in (settings.RAIL_EVALUATOR, settings.RAIL_REGENERATOR)
    if uses_llm and not settings.RAIL_LLM_BASE_URL:
        problems.append("An LLM engine is selected but RAIL_LLM_BASE_URL is not set.")
    return problems


def server_model_name() -> str:
    return f"{settings.RAIL_LLM_PROVIDER}/{settings.RAIL_LLM_MODEL}"


def get_regenerator(model: str) -> Regenerator:
    """Return the regenerator a request names: the server's own, or a configured model."""
    name = settings.RAIL_REGENERATOR if model == SERVER_REGENERATOR else model
    if name in EMBEDDED_NAMES:
        return _embedded_regenerator()
    if name == "llm" or (settings.RAIL_LLM_BASE_URL and name == server_model_name()):
        return _llm_regenerator()
    if model == SERVER_REGENERATOR:  # the server's own setting names nothing it has
        raise ServiceUnavailable(
            f"The regenerator {settings.RAIL_REGENERATOR!r} is not available on this server."
        )
    raise RequestValidationError(
        f"regeneration_model: {model!r} is not configured on this server; "
        f"use {SERVER_REGENERATOR!r} or {EXTERNAL!r}.",
        details={"regeneration_model": ["Unknown or unconfigured model."]},
    )


def get_prices() -> Prices:
    """Return the credit price table from the settings."""
    return Prices.from_mapping(settings.CREDIT_PRICES)


def price(request: RegenerateRequest) -> Estimate:
    """The one estimate of a request on this server's engines and prices: what the hold,
    the dry run, the EvalGuard pre-flight and the budget stop all read. An unknown
    regeneration model is a 400 here, before anything is held."""
    external = request.regeneration_model == EXTERNAL
    return estimate(
        request,
        evaluator=get_evaluator(),
        regenerator=None if external else get_regenerator(request.regeneration_model),
        prices=get_prices(),
    )
