"""Credit prices of evaluations and regenerations (SPEC 5), passed in, never read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .dimensions import DIMENSIONS


@dataclass(frozen=True, slots=True)
class Prices:
    basic_eval: Decimal = Decimal("1.0")
    deep_eval: Decimal = Decimal("3.0")
    regeneration: Decimal = Decimal("2.0")
    basic_eval_per_dimension: Decimal = Decimal("0.3")
    deep_eval_single_dimension: Decimal = Decimal("1.0")
    deep_eval_per_dimension: Decimal = Decimal("2.0")
    agent_scan: Decimal = Decimal("0.5")
    """One agent guard scan (prompt injection, or a tool result's PII and injection)."""

    def evaluation(self, mode: str, dimension_count: int = len(DIMENSIONS)) -> Decimal:
        """Price one evaluation of ``dimension_count`` dimensions (0 means all).

        All dimensions cost the full price. A subset costs less (SPEC 5): basic 0.3 a
        dimension, at most 1.0; deep 1.0 for one dimension, else 2.0 a dimension, at
        most 3.0 (so any deep subset of two or more costs the full 3.0).
        """
        count = dimension_count or len(DIMENSIONS)
        if mode == "deep":
            if count >= len(DIMENSIONS):
                return self.deep_eval
            if count == 1:
                return self.deep_eval_single_dimension
            return min(self.deep_eval, self.deep_eval_per_dimension * count)
        if mode == "basic":
            if count >= len(DIMENSIONS):
                return self.basic_eval
            return min(self.basic_eval, self.basic_eval_per_dimension * count)
        raise ValueError(f"no price for evaluation mode {mode!r}")

    def worst_case(self, *, mode: str, dimension_count: int, max_regenerations: int) -> Decimal:
        """Price the most a loop can use: every evaluation and every regeneration."""
        evaluations = self.evaluation(mode, dimension_count) * (max_regenerations + 1)
        return evaluations + self.regeneration * max_regenerations

    @classmethod
    def from_mapping(cls, prices: Mapping[str, object]) -> Prices:
        """Build the table from settings, each value read as its decimal text."""
        return cls(**{name: Decimal(str(value)) for name, value in prices.items()})
