"""The ``llm`` engines (SPEC 8): an OpenAI-compatible client, a judge, a rewriter."""

from .client import DEFAULT_PRICES, CircuitBreaker, Completion, LLMClient, Price, price_for
from .errors import (
    CircuitOpen,
    LLMBadResponse,
    LLMError,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
)
from .fallback import FallbackEvaluator, is_degraded
from .judge import LLMEvaluator
from .rewriter import LLMRegenerator
from .ssrf import UnsafeBaseURL, validate_base_url

__all__ = [
    "DEFAULT_PRICES",
    "CircuitBreaker",
    "CircuitOpen",
    "Completion",
    "FallbackEvaluator",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMEvaluator",
    "LLMRegenerator",
    "LLMRejected",
    "LLMTimeout",
    "LLMUnavailable",
    "Price",
    "UnsafeBaseURL",
    "is_degraded",
    "price_for",
    "validate_base_url",
]
