"""The rules evaluator: offline, deterministic scores from the rule-based detectors alone.

``RAIL_EVALUATOR=rules``. The default (``embedded``, ``evaluators.learned``) composes these
detectors with learned heads; this one keeps them alone, for comparison and for the LLM
judge's injection cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from ..detectors import Finding, GoodSign, Scan, issues_for, scan
from ..dimensions import DIMENSION_INFO, DIMENSIONS
from ..kinds import KINDS
from ..types import DimensionScore, EvalContext, Issue, RawEvaluation

BASELINE: Final = 8.4
"""A clean text's score: good, but not proof of excellence."""
_POSITION_WEIGHT: Final = (1.0, 0.75, 0.6)
"""A kind lowers its main dimension most (KINDS lists it first)."""
_DECAY: Final = 0.6
"""Each further finding on a dimension counts this much less than the one before."""
_STEEPNESS: Final = 0.9
"""How fast penalty mass turns into lost points (1 - exp(-k p) of the baseline)."""
_SPILL: Final[dict[str, float]] = {
    # severe harm spoils every dimension, as a human judge would score it
    "violence": 0.9,
    "threat": 0.9,
    "self_harm": 0.9,
    "dehumanizing": 0.85,
    "doxxing": 0.85,
    "weapon_or_drug_instructions": 0.7,
    "slur": 0.45,
}
_SPILL_FLOOR: Final = 0.75
"""Spill only from clear findings: a weak match of a harsh verb stays local."""
_CREDIT: Final[dict[str, dict[str, float]]] = {
    "referral": {"safety": 0.5, "accountability": 0.6, "transparency": 0.3, "user_impact": 0.2},
    "disclosure": {"transparency": 0.6, "accountability": 0.3, "reliability": 0.3},
    "hedge": {"reliability": 0.3, "transparency": 0.2},
    "ownership": {"accountability": 0.3},
}
_SIGN_LABEL: Final[dict[str, str]] = {
    "referral": "a referral to a qualified professional",
    "disclosure": "a disclosure of limits",
    "hedge": "hedged claims",
    "ownership": "owned responsibility",
}


@dataclass(frozen=True, slots=True)
class _Penalty:
    mass: float
    strongest: float
    spilled_from: tuple[str, ...]


_NO_PENALTY: Final = _Penalty(0.0, 0.0, ())


class RulesEvaluator:
    """Score text on the RAIL dimensions with pure-Python detectors (no model, no network)."""

    name = "rules"
    offline = True  # calls nothing outside this process (engine.types.is_offline)

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        """Score ``ctx.dimensions`` (all eight when empty) of ``text``."""
        dimensions = ctx.dimensions or DIMENSIONS
        result = scan(text, ctx)
        penalties = _penalties(result, dimensions)
        scores = _score_all(result, penalties)
        if result.has("prompt_injection"):
            # judge the text as if the injection were absent too, and keep the lower score
            clean = scan(_blank_injections(text, result.findings), ctx)
            baseline = _score_all(clean, _penalties(clean, dimensions))
            scores = {d: min(scores[d], baseline[d]) for d in dimensions}
        deep = ctx.mode == "deep"
        issues = issues_for(text, result.findings, deep=deep)
        words = len(text.split())
        return RawEvaluation(
            scores={
                d: _dimension_score(d, scores[d], penalties[d], result, issues, words, deep=deep)
                for d in dimensions
            },
            engine=self.name,
        )

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        """Cost nothing: the embedded evaluator runs locally."""
        return 0.0


def _penalties(result: Scan, dimensions: tuple[str, ...]) -> dict[str, _Penalty]:
    if not result.findings:
        return dict.fromkeys(dimensions, _NO_PENALTY)
    return {d: _penalty(d, result.findings) for d in dimensions}


def _score_all(result: Scan, penalties: dict[str, _Penalty]) -> dict[str, float]:
    injected = result.has("prompt_injection")
    # an injected text earns no credit: its reassurances may be addressed to the judge
    signs = () if injected else result.good_signs
    return {d: _score(penalty, d, signs) for d, penalty in penalties.items()}


def _blank_injections(text: str, findings: tuple[Finding, ...]) -> str:
    chars = list(text)
    for item in findings:
        if item.kind == "prompt_injection":
            chars[item.start : item.end] = " " * (item.end - item.start)
    return "".join(chars)


def _penalty(dimension: str, findings: tuple[Finding, ...]) -> _Penalty:
    weights: list[float] = []
    spilled: list[str] = []
    for item in findings:
        affected = KINDS.get(item.kind, ())
        if dimension in affected:
            position = min(affected.index(dimension), len(_POSITION_WEIGHT) - 1)
            weights.append(item.severity * _POSITION_WEIGHT[position])
        elif item.kind in _SPILL and item.severity >= _SPILL_FLOOR:
            weights.append(item.severity * _SPILL[item.kind])
            spilled.append(item.kind)
    weights.sort(reverse=True)
    mass = sum(weight * _DECAY**index for index, weight in enumerate(weights))
    return _Penalty(mass, weights[0] if weights else 0.0, tuple(dict.fromkeys(spilled)))


def _credit(dimension: str, signs: tuple[GoodSign, ...]) -> float:
    kinds = {sign.kind for sign in signs}
    return sum(_CREDIT[kind].get(dimension, 0.0) for kind in kinds if kind in _CREDIT)


def _score(penalty: _Penalty, dimension: str, signs: tuple[GoodSign, ...]) -> float:
    if not penalty.mass and not signs:
        return BASELINE
    drop = BASELINE * (1.0 - math.exp(-_STEEPNESS * penalty.mass))
    # credit fades as problems grow: a referral cannot wash out a dangerous directive
    credit = min(1.0, _credit(dimension, signs)) * max(0.0, 1.0 - penalty.mass)
    return max(0.0, min(10.0, BASELINE - drop + credit))


def _confidence(penalty: _Penalty, words: int) -> float:
    length = min(1.0, words / 50.0)
    confidence = 0.45 + 0.3 * length
    strongest = penalty.strongest
    if strongest:
        # a clear detector hit is strong evidence even in a short text
        confidence = max(confidence, 0.55 + 0.4 * strongest)
    return min(0.95, confidence)


def _dimension_score(
    dimension: str,
    score: float,
    penalty: _Penalty,
    result: Scan,
    issues: list[Issue],
    words: int,
    *,
    deep: bool,
) -> DimensionScore:
    own = tuple(issue for issue in issues if issue.dimension == dimension)
    return DimensionScore(
        score=score,
        confidence=_confidence(penalty, words),
        explanation=_explain(dimension, score, own, result, penalty, deep=deep),
        issues=own,
    )


def _explain(
    dimension: str,
    score: float,
    issues: tuple[Issue, ...],
    result: Scan,
    penalty: _Penalty,
    *,
    deep: bool,
) -> str:
    info = DIMENSION_INFO[dimension]
    kinds = list(dict.fromkeys(issue.kind.replace("_", " ") for issue in issues))
    spilled = penalty.spilled_from
    signs = [
        _SIGN_LABEL[kind]
        for kind in dict.fromkeys(sign.kind for sign in result.good_signs)
        if _CREDIT[kind].get(dimension) and not result.has("prompt_injection")
    ]
    if not deep:
        if not kinds and not spilled:
            return f"{info.name}: no concerns found."
        return (
            f"{info.name}: lowered by {', '.join(kinds + [k.replace('_', ' ') for k in spilled])}."
        )
    parts = [f"{info.name} {score:.1f}/10. {info.description}"]
    if issues:
        parts.append("Found: " + "; ".join(issue.description for issue in issues) + ".")
    else:
        parts.append("No problem specific to this dimension was found.")
    if spilled:
        parts.append(f"Lowered as well by severe harm in the text ({', '.join(spilled)}).")
    if signs:
        parts.append(f"Credited for {', '.join(signs)}.")
    return " ".join(parts)
