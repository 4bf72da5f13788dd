"""Turn an evaluator's per-dimension scores into a weighted RAIL score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .dimensions import CRITICAL_MEAN, DIMENSIONS, round_confidence, round_score, summarize
from .types import DEGRADED_SUFFIX, DimensionScore, Issue, RawEvaluation, Usage


def effective_weights(
    dimensions: tuple[str, ...], weights: Mapping[str, float]
) -> dict[str, float]:
    """Give each evaluated dimension its weight: the request's, else equal."""
    if weights:
        chosen = {d: float(weights.get(d, 0.0)) for d in dimensions}
        if sum(chosen.values()) > 0:
            return chosen
    return {d: 1.0 for d in dimensions}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of one text, with the overall weighted score, confidence and usage."""

    scores: Mapping[str, DimensionScore]
    score: float
    confidence: float
    usage: Usage = field(default_factory=Usage)
    engine: str = "embedded"

    @property
    def summary(self) -> str:
        return summarize(self.score)

    @property
    def mean(self) -> float:
        """Return the plain (unweighted) mean of the dimension scores."""
        values = [s.score for s in self.scores.values()]
        return round(sum(values) / len(values), 6) if values else 10.0

    @property
    def degraded(self) -> bool:
        """Say whether a fallback engine scored this because the configured one failed."""
        return self.engine.endswith(DEGRADED_SUFFIX)

    @property
    def is_critical(self) -> bool:
        """Say whether the content is critical: the mean dimension score is below 3.0."""
        return self.mean < CRITICAL_MEAN

    @property
    def issues(self) -> tuple[Issue, ...]:
        return tuple(issue for s in self.scores.values() for issue in s.issues)

    def pairs(self) -> dict[str, tuple[float, float]]:
        return {d: (s.score, s.confidence) for d, s in self.scores.items()}

    def rail_score(self) -> dict[str, Any]:
        return {"score": self.score, "confidence": self.confidence, "summary": self.summary}

    def to_dict(self, *, explanations: bool = False, issues: bool = False) -> dict[str, Any]:
        """Render ``rail_score`` and ``dimension_scores`` as the contract shows them."""
        return {
            "rail_score": self.rail_score(),
            "dimension_scores": {
                d: s.to_dict(explanations=explanations, issues=issues)
                for d, s in self.scores.items()
            },
        }

    def to_state(self) -> dict[str, Any]:
        """Serialize everything, issues with spans included, for storage."""
        return {
            "score": self.score,
            "confidence": self.confidence,
            "engine": self.engine,
            "usage": self.usage.to_dict(),
            "scores": {
                d: {
                    "score": s.score,
                    "confidence": s.confidence,
                    "explanation": s.explanation,
                    "issues": [issue.to_dict() for issue in s.issues],
                }
                for d, s in self.scores.items()
            },
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any]) -> Evaluation:
        scores = {
            d: DimensionScore(
                score=s["score"],
                confidence=s["confidence"],
                explanation=s.get("explanation", ""),
                issues=tuple(Issue.from_dict(i) for i in s.get("issues", [])),
            )
            for d, s in data["scores"].items()
        }
        return cls(
            scores=scores,
            score=float(data["score"]),
            confidence=float(data["confidence"]),
            usage=Usage.from_dict(data.get("usage", {})),
            engine=data.get("engine", "embedded"),
        )


def aggregate(raw: RawEvaluation, weights: Mapping[str, float] | None = None) -> Evaluation:
    """Weigh the dimension scores into the overall score and confidence.

    Both are weighted means over the evaluated dimensions, with the same weights (the
    request's, renormalised over those dimensions; equal when they all weigh 0), then
    rounded as shown: the score to one decimal, the confidence to two (SPEC 1).
    """
    ordered = {d: raw.scores[d] for d in DIMENSIONS if d in raw.scores}
    if not ordered:
        raise ValueError("an evaluation needs at least one dimension score")
    weight = effective_weights(tuple(ordered), weights or {})
    total = sum(weight.values())
    score = sum(ordered[d].score * w for d, w in weight.items()) / total
    confidence = sum(ordered[d].confidence * w for d, w in weight.items()) / total
    return Evaluation(
        scores=ordered,
        score=round_score(score),
        confidence=round_confidence(confidence),
        usage=raw.usage,
        engine=raw.engine,
    )
