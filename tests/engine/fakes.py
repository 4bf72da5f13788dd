"""Scripted engines for loop tests: each text has scores chosen by the test."""

from dataclasses import dataclass, field

from regen.engine.dimensions import DIMENSIONS
from regen.engine.types import (
    DimensionScore,
    EvalContext,
    Issue,
    RawEvaluation,
    Regeneration,
    RegenerationRequest,
    Usage,
)


def uniform(score, confidence=0.8, **overrides):
    return {d: overrides.get(d, score) for d in DIMENSIONS}, confidence


@dataclass
class ScriptedEvaluator:
    """Score each text as the script says; unknown texts score 5.0 everywhere."""

    script: dict
    name: str = "scripted"
    calls: list = field(default_factory=list)
    usd: float = 0.0

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        self.calls.append((text, ctx))
        scores, confidence = self.script.get(text, uniform(5.0))
        dims = ctx.dimensions or DIMENSIONS
        out = {}
        for d in dims:
            issues = (
                ()
                if scores[d] >= 7
                else (Issue(d, f"{d} is low in {text[:12]}", kind="overclaim"),)
            )
            out[d] = DimensionScore(scores[d], confidence, issues=issues)
        return RawEvaluation(out, Usage(llm_calls=1, cost_usd=self.usd) if self.usd else Usage())

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        return self.usd


@dataclass
class ScriptedRegenerator:
    """Return the scripted texts in order."""

    outputs: list
    name: str = "scripted"
    model: str = "test/scripted"
    requests: list = field(default_factory=list)
    usd: float = 0.0

    def regenerate(self, request: RegenerationRequest) -> Regeneration:
        self.requests.append(request)
        return Regeneration(
            self.outputs[len(self.requests) - 1], self.model, Usage(llm_calls=1, cost_usd=self.usd)
        )

    def estimate_cost_usd(self, *, text_chars: int) -> float:
        return self.usd
