"""Plans: what each tier may do. The default plans are created by migration 0002.

Defaults (SPEC 5): Free 100 credits/month, 10/min, 100/day, basic mode only, 3
regenerations; Pro 1,000, 60/min, 5,000/day; Business 10,000, 300/min, 50,000/day;
Enterprise is custom: it starts at 100,000, 1,000/min, 1,000,000/day, edited per contract
in the admin. Paid plans allow ``basic``, ``deep`` and ``auto`` and 5 regenerations.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.errors import InsufficientTier
from billing.models import Plan
from railsite.errors import RequestValidationError


def get_plan(slug: str) -> Plan:
    """Return the plan with this slug, or raise a validation error naming the known ones."""
    plan = Plan.objects.filter(slug=(slug or "").strip().lower()).first()
    if plan is None:
        known = ", ".join(Plan.objects.values_list("slug", flat=True))
        raise RequestValidationError(
            f"Unknown plan {slug!r}; choose one of: {known}.", details={"plan": ["Unknown plan."]}
        )
    return plan


def _required_tier(allows: Callable[[Plan], bool]) -> str | None:
    """The smallest plan (by monthly credits) that allows what was asked, if any does."""
    for plan in Plan.objects.order_by("credits_per_month", "pk"):
        if allows(plan):
            return plan.slug
    return None


def check_mode_allowed(plan: Plan, mode: str) -> None:
    """Raise InsufficientTier unless the plan includes the evaluation mode."""
    if mode not in plan.allowed_modes:
        raise InsufficientTier(
            f"The {plan.name} plan does not include {mode} mode; it allows: "
            f"{', '.join(plan.allowed_modes)}.",
            plan=plan.slug,
            mode=mode,
            current_tier=plan.slug,
            required_tier=_required_tier(lambda other: mode in other.allowed_modes),
        )


def check_max_regenerations(plan: Plan, requested: int) -> None:
    """Raise InsufficientTier if the plan allows fewer regenerations than requested."""
    if requested > plan.max_regenerations:
        raise InsufficientTier(
            f"The {plan.name} plan allows at most {plan.max_regenerations} regenerations "
            f"per request; {requested} were requested.",
            plan=plan.slug,
            max_regenerations=plan.max_regenerations,
            current_tier=plan.slug,
            required_tier=_required_tier(lambda other: other.max_regenerations >= requested),
        )
