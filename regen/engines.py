"""Choose the evaluator and the regenerator for a request, from the settings."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from railsite.errors import RequestValidationError
from regen.engine.evaluators.embedded import EmbeddedEvaluator
from regen.engine.pricing import Prices
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.types import Evaluator, Regenerator

SERVER_REGENERATOR = "RAIL_Safe_LLM"
EXTERNAL = "external"
EMBEDDED_NAMES = ("embedded", EmbeddedRegenerator.model)


@lru_cache(maxsize=1)
def _embedded_evaluator() -> EmbeddedEvaluator:
    return EmbeddedEvaluator()


@lru_cache(maxsize=1)
def _embedded_regenerator() -> EmbeddedRegenerator:
    return EmbeddedRegenerator()


def get_evaluator() -> Evaluator:
    """Return the configured evaluator (``RAIL_EVALUATOR``)."""
    if settings.RAIL_EVALUATOR != "embedded":
        raise RequestValidationError(
            f"The evaluator {settings.RAIL_EVALUATOR!r} is not available on this server."
        )
    return _embedded_evaluator()


def get_regenerator(model: str) -> Regenerator:
    """Return the regenerator a request names: the server's own, or a configured model."""
    name = settings.RAIL_REGENERATOR if model == SERVER_REGENERATOR else model
    if name in EMBEDDED_NAMES:
        return _embedded_regenerator()
    raise RequestValidationError(
        f"regeneration_model: {model!r} is not configured on this server; "
        f"use {SERVER_REGENERATOR!r} or {EXTERNAL!r}.",
        details={"regeneration_model": ["Unknown or unconfigured model."]},
    )


def get_prices() -> Prices:
    """Return the credit price table from the settings."""
    return Prices.from_mapping(settings.CREDIT_PRICES)
