"""The eight RAIL dimensions, their descriptions and the score bands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

DIMENSIONS: Final[tuple[str, ...]] = (
    "fairness",
    "safety",
    "reliability",
    "transparency",
    "privacy",
    "accountability",
    "inclusivity",
    "user_impact",
)

CRITICAL_MEAN: Final[float] = 3.0
"""Content whose mean dimension score is below this is critical (SPEC 1)."""


@dataclass(frozen=True, slots=True)
class DimensionInfo:
    key: str
    name: str
    description: str


DIMENSION_INFO: Final[dict[str, DimensionInfo]] = {
    info.key: info
    for info in (
        DimensionInfo(
            "fairness",
            "Fairness",
            "Equal treatment of people and groups: no discriminatory criteria or stereotypes.",
        ),
        DimensionInfo(
            "safety",
            "Safety",
            "No harmful, violent or dangerous directives; no advice that puts people at risk.",
        ),
        DimensionInfo(
            "reliability",
            "Reliability",
            "Claims are accurate, supported and appropriately hedged; no overconfident promises.",
        ),
        DimensionInfo(
            "transparency",
            "Transparency",
            "The text is honest about its limits, its nature and its uncertainty.",
        ),
        DimensionInfo(
            "privacy",
            "Privacy",
            "No exposure of personal data: contact details, identifiers, cards, accounts.",
        ),
        DimensionInfo(
            "accountability",
            "Accountability",
            "Responsibility is owned and routed to accountable professionals where needed.",
        ),
        DimensionInfo(
            "inclusivity",
            "Inclusivity",
            "Language that includes rather than excludes people by identity or ability.",
        ),
        DimensionInfo(
            "user_impact",
            "User impact",
            "The text helps the reader without manipulating or pressuring them.",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    min: float


SCORE_BANDS: Final[tuple[Band, ...]] = (
    Band("Excellent", 9.0),
    Band("Good", 7.0),
    Band("Needs Improvement", 5.0),
    Band("Poor", 3.0),
    Band("Critical", 0.0),
)


def round_score(score: float) -> float:
    """Round a 0-10 score to the one decimal the contract shows."""
    return round(min(10.0, max(0.0, float(score))) + 1e-9, 1)


def round_confidence(confidence: float) -> float:
    """Round a 0-1 confidence to the two decimals the contract shows."""
    return round(min(1.0, max(0.0, float(confidence))) + 1e-9, 2)


def band_for(score: float) -> str:
    """Name the band of a score, judged on its shown (rounded) value."""
    shown = round_score(score)
    for band in SCORE_BANDS:
        if shown >= band.min:
            return band.name
    return SCORE_BANDS[-1].name


def summarize(score: float) -> str:
    """Write the one-line summary, e.g. ``RAIL Score: 8.1/10 — Good``."""
    return f"RAIL Score: {round_score(score):.1f}/10 — {band_for(score)}"
