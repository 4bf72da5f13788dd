"""The cascade evaluator: the embedded scorer answers when it is sure, the LLM judge otherwise.

The embedded scorer costs nothing and answers in milliseconds; the judge costs tokens and
seconds. The cascade scores every text offline first and keeps that answer when every
dimension is confident and no score (nor their mean) lies within ``margin`` of the
threshold it is held to: there, a judge could not change the verdict. Texts near a
threshold, or where the embedded scorer is unsure, go to the judge, whose answer replaces
the offline one. ``RawEvaluation.engine`` says which engine answered each time.
"""

from __future__ import annotations

from statistics import fmean
from typing import Final

from ..types import EvalContext, Evaluator, RawEvaluation

DEFAULT_MARGIN: Final = 1.0
DEFAULT_MIN_CONFIDENCE: Final = 0.7


class CascadeEvaluator:
    """Score offline; ask ``judge`` only when the offline answer is unsure or borderline."""

    name = "cascade"

    def __init__(
        self,
        embedded: Evaluator,
        judge: Evaluator,
        *,
        margin: float = DEFAULT_MARGIN,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        self.embedded = embedded
        self.judge = judge
        self.margin = margin
        self.min_confidence = min_confidence

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        offline = self.embedded.evaluate(text, ctx)
        if self.is_sure(offline, ctx):
            return offline
        return self.judge.evaluate(text, ctx)

    def is_sure(self, raw: RawEvaluation, ctx: EvalContext) -> bool:
        """Say whether the offline answer settles the verdict without the judge."""
        scores = raw.scores
        if not scores:
            return False
        if any(s.confidence < self.min_confidence for s in scores.values()):
            return False
        if abs(fmean(s.score for s in scores.values()) - ctx.threshold) < self.margin:
            return False
        return all(abs(s.score - ctx.threshold_for(d)) >= self.margin for d, s in scores.items())

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        """Price the worst case: the judge answers every time."""
        return self.judge.estimate_cost_usd(text_chars=text_chars, ctx=ctx)
