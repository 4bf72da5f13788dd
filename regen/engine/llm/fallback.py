"""Fall back to the offline evaluator when the LLM cannot be reached in time."""

from __future__ import annotations

import logging

from ..types import DEGRADED_SUFFIX, EvalContext, Evaluator, RawEvaluation
from .errors import LLMTimeout, LLMUnavailable

logger = logging.getLogger(__name__)


class FallbackEvaluator:
    """Evaluate with ``primary``; if it is down or too slow, score with ``fallback``.

    The fallback's result is marked degraded (``engine`` ends in ``-fallback``, e.g.
    ``embedded-fallback``) and never passes its thresholds (``thresholds.decide``).
    Other failures (a rejected key, malformed judge output) propagate: an evaluator
    failure is never turned into scores silently.
    """

    def __init__(self, primary: Evaluator, fallback: Evaluator) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        try:
            return self.primary.evaluate(text, ctx)
        except (LLMUnavailable, LLMTimeout) as error:
            logger.warning("%s evaluator failed, falling back: %s", self.primary.name, error)
            raw = self.fallback.evaluate(text, ctx)
            return RawEvaluation(raw.scores, raw.usage, engine=self.fallback.name + DEGRADED_SUFFIX)

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        return self.primary.estimate_cost_usd(text_chars=text_chars, ctx=ctx)


def is_degraded(raw: RawEvaluation) -> bool:
    """Tell whether an evaluation came from a fallback engine."""
    return raw.engine.endswith(DEGRADED_SUFFIX)
