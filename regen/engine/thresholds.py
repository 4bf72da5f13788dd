"""The pass/fail decision under thresholds and the three tradeoff modes (SPEC 2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .dimensions import DIMENSIONS

TradeoffMode = Literal["priority", "strict", "weighted"]
TRADEOFF_MODES: tuple[str, ...] = ("priority", "strict", "weighted")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The ``thresholds`` object of a request, every field with its default."""

    overall_score: float = 7.0
    overall_confidence: float = 0.5
    tradeoff_mode: TradeoffMode = "priority"
    max_dimension_failures: int = 2
    dimensions: Mapping[str, float] = field(default_factory=dict)
    min_fidelity: float | None = None
    """The least fidelity to the original a regenerated version needs to pass (issue 15)."""

    def threshold_for(self, dimension: str) -> float:
        return self.dimensions.get(dimension, self.overall_score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": {"score": self.overall_score, "confidence": self.overall_confidence},
            "tradeoff_mode": self.tradeoff_mode,
            "max_dimension_failures": self.max_dimension_failures,
            "dimensions": dict(self.dimensions),
            **({} if self.min_fidelity is None else {"min_fidelity": self.min_fidelity}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        overall = data.get("overall", {})
        return cls(
            overall_score=float(overall.get("score", 7.0)),
            overall_confidence=float(overall.get("confidence", 0.5)),
            tradeoff_mode=data.get("tradeoff_mode", "priority"),
            max_dimension_failures=int(data.get("max_dimension_failures", 2)),
            dimensions={k: float(v) for k, v in data.get("dimensions", {}).items()},
            min_fidelity=None if data.get("min_fidelity") is None else float(data["min_fidelity"]),
        )


@dataclass(frozen=True, slots=True)
class DimensionResult:
    score: float
    threshold: float
    confidence: float
    confidence_threshold: float
    passed: bool
    required: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "threshold": self.threshold,
            "confidence": self.confidence,
            "confidence_threshold": self.confidence_threshold,
            "passed": self.passed,
            "required": self.required,
        }


@dataclass(frozen=True, slots=True)
class ThresholdsMet:
    """The ``thresholds_met`` structure of a response."""

    overall_passed: bool
    all_passed: bool
    all_required_passed: bool
    dimension_failures_count: int
    dimension_results: Mapping[str, DimensionResult]
    fidelity_passed: bool | None = None
    """Whether a regenerated version kept the original's meaning (None for the original)."""

    @property
    def failing_dimensions(self) -> list[str]:
        """Name the failing dimensions, in dimension order."""
        return [d for d, r in self.dimension_results.items() if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall_passed": self.overall_passed,
            "all_passed": self.all_passed,
            "all_required_passed": self.all_required_passed,
            "dimension_failures_count": self.dimension_failures_count,
            "dimension_results": {d: r.to_dict() for d, r in self.dimension_results.items()},
            **({} if self.fidelity_passed is None else {"fidelity_passed": self.fidelity_passed}),
        }


def decide(
    *,
    scores: Mapping[str, tuple[float, float]],
    overall_score: float,
    overall_confidence: float,
    thresholds: Thresholds,
    degraded: bool = False,
) -> ThresholdsMet:
    """Decide pass or fail for per-dimension ``(score, confidence)`` and the overall values.

    One rule for every score, overall and per dimension: it is accepted when it reaches its
    threshold *and* its confidence reaches ``overall.confidence``. A dimension the
    evaluator is unsure of therefore fails (and is named in ``failing_dimensions``, so a
    regeneration has something to act on) exactly as the overall does when the overall
    confidence is low. Scores are compared as shown (one decimal), so a response never
    says 7.0 < 7.0.
    A ``degraded`` evaluation (the configured evaluator failed and a fallback scored the
    text) never passes: ``all_passed`` is false whatever the scores (TESTS T23 (f)).
    """
    strict = thresholds.tradeoff_mode == "strict"
    weighted = thresholds.tradeoff_mode == "weighted"
    results: dict[str, DimensionResult] = {}
    for dimension in DIMENSIONS:
        if dimension not in scores:
            continue
        score, confidence = scores[dimension]
        threshold = thresholds.threshold_for(dimension)
        required = strict or (not weighted and dimension in thresholds.dimensions)
        results[dimension] = DimensionResult(
            score=score,
            threshold=threshold,
            confidence=confidence,
            confidence_threshold=thresholds.overall_confidence,
            passed=score >= threshold and confidence >= thresholds.overall_confidence,
            required=required,
        )
    overall_passed = (
        overall_score >= thresholds.overall_score
        and overall_confidence >= thresholds.overall_confidence
    )
    required_passed = all(r.passed for r in results.values() if r.required)
    failures = sum(1 for r in results.values() if not r.passed)
    optional_failures = sum(1 for r in results.values() if not r.passed and not r.required)
    if strict:
        passed = overall_passed and failures == 0
    elif weighted:
        passed = overall_passed
    else:
        passed = (
            overall_passed
            and required_passed
            and optional_failures <= thresholds.max_dimension_failures
        )
    return ThresholdsMet(
        overall_passed=overall_passed,
        all_passed=passed and not degraded,
        all_required_passed=required_passed,
        dimension_failures_count=failures,
        dimension_results=results,
    )
