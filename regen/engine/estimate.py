"""The one price estimate of a request: the most it can cost, in credits and in USD.

The hold, the dry run, the EvalGuard pre-flight and the loop's budget stop all read the
same ``Estimate``, made by ``estimate`` from the request, the engines that would serve it
and the price table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from .pricing import Prices
from .requests import RegenerateRequest
from .types import Evaluator, Regenerator


@dataclass(frozen=True, slots=True)
class Estimate:
    """The worst case of a request: every evaluation and every regeneration it may run."""

    credits: Decimal
    """Credits held before any work: each evaluation and regeneration at its price."""
    eval_usd: float
    """What one evaluation's model calls may cost (0 for the offline engines)."""
    regen_usd: float
    """What one regeneration's model calls may cost (0 offline or client-side)."""
    max_regenerations: int

    @property
    def usd(self) -> float:
        """USD of the model calls of every evaluation and regeneration, to the micro-dollar."""
        n = self.max_regenerations
        return round(self.eval_usd * (n + 1) + self.regen_usd * n, 6)


def estimate(
    request: RegenerateRequest,
    *,
    evaluator: Evaluator,
    regenerator: Regenerator | None,
    prices: Prices,
) -> Estimate:
    """Price ``request`` served by ``evaluator`` and ``regenerator`` (None: the caller
    regenerates, so regenerations cost nothing here) at ``prices``."""
    chars = len(request.content)
    n = request.max_regenerations
    if regenerator is None:
        prices = replace(prices, regeneration=Decimal(0))
    return Estimate(
        credits=prices.worst_case(
            mode=request.mode, dimension_count=len(request.dimensions), max_regenerations=n
        ),
        eval_usd=evaluator.estimate_cost_usd(text_chars=chars, ctx=request.eval_context()),
        regen_usd=regenerator.estimate_cost_usd(text_chars=chars)
        if regenerator is not None
        else 0.0,
        max_regenerations=n,
    )
