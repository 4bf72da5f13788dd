"""A deterministic evaluator for API tests, installed where ``/eval`` looks it up."""

from __future__ import annotations

from dataclasses import dataclass, field

from regen.engine.dimensions import DIMENSIONS
from regen.engine.types import DimensionScore, EvalContext, RawEvaluation


@dataclass
class ModeEvaluator:
    """Score every dimension ``(score, confidence)`` per mode; record each call's mode."""

    basic: tuple[float, float]
    deep: tuple[float, float] | None = None
    modes: list[str] = field(default_factory=list)

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        self.modes.append(ctx.mode)
        score, confidence = self.deep if ctx.mode == "deep" and self.deep else self.basic
        dims = ctx.dimensions or DIMENSIONS
        return RawEvaluation(
            {d: DimensionScore(score, confidence) for d in dims}, engine="scripted"
        )

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        return 0.0


def install(monkeypatch, evaluator: ModeEvaluator) -> ModeEvaluator:
    """Make ``/railscore/v1/eval`` score with ``evaluator`` for this test."""
    from regen import evals

    monkeypatch.setattr(evals, "get_evaluator", lambda **_: evaluator)
    return evaluator
