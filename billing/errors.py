"""Billing's domain errors, mapped to the contract's JSON by ``railsite.exceptions``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from billing.models import next_month_start
from railsite.errors import ServiceError

if TYPE_CHECKING:
    from billing.ratelimit import RateLimitState


class AuthenticationFailed(ServiceError):
    """A missing, malformed, unknown or revoked API key (401)."""

    status = 401
    code = "AUTHENTICATION_ERROR"
    default_message = "Invalid or missing API key"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InsufficientCredits(ServiceError):
    """The available balance does not cover the amount asked for (402)."""

    status = 402
    code = "INSUFFICIENT_CREDITS"

    def __init__(self, *, balance: Decimal, required: Decimal) -> None:
        self.balance = balance
        self.required = required
        super().__init__(
            f"Insufficient credits: {balance} available, {required} required",
            balance=float(balance),
            required=float(required),
        )


class KeyBudgetExceeded(ServiceError):
    """The call would take the key past its monthly credit budget (402); nothing was held.

    ``details`` carries the budget, what the key spent this month (holds of running calls
    included), what the call needs, the month (UTC) and when the budget starts afresh.
    """

    status = 402
    code = "KEY_BUDGET_EXCEEDED"

    def __init__(
        self, *, budget: Decimal, spent: Decimal, required: Decimal, month: datetime
    ) -> None:
        self.budget, self.spent, self.required = budget, spent, required
        resets = next_month_start(month)
        super().__init__(
            f"This API key's monthly credit budget is spent: {spent:,.2f} of {budget:,.2f} "
            f"credits used in {month:%B %Y} (UTC), and this call needs up to {required:,.2f}. "
            f"The budget starts afresh on {resets:%Y-%m-%d}; an account admin can raise it "
            "on the API keys page.",
            details={
                "budget": float(budget),
                "spent": float(spent),
                "required": float(required),
                "remaining": float(max(budget - spent, Decimal("0"))),
                "month": f"{month:%Y-%m}",
                "resets_at": resets.isoformat().replace("+00:00", "Z"),
            },
        )


class InsufficientTier(ServiceError):
    """The key's plan does not include the mode or feature asked for (403)."""

    status = 403
    code = "INSUFFICIENT_TIER"
    default_message = "Your plan does not include this feature."


class PermissionDenied(ServiceError):
    """A member's role does not allow the action (403)."""

    status = 403
    code = "PERMISSION_DENIED"
    default_message = "You do not have permission to perform this action."


class RateLimitExceeded(ServiceError):
    """Too many requests for the key in the current window (429)."""

    status = 429
    code = "RATE_LIMIT_EXCEEDED"

    def __init__(self, state: RateLimitState) -> None:
        self.state = state
        super().__init__(
            f"Rate limit exceeded: {state.limit} requests per {state.window_name}. "
            f"Retry in {state.retry_after} seconds.",
            retry_after=state.retry_after,
        )

    def headers(self) -> dict[str, str]:
        return {**self.state.headers(), "Retry-After": str(self.state.retry_after)}


class InvalidAmount(ServiceError):
    """A credit amount that is not a positive number with at most two decimals (400)."""

    status = 400
    code = "VALIDATION_ERROR"
    default_message = "Amount must be a positive number with at most two decimal places."


class HoldClosed(ServiceError):
    """The hold was already settled or released (409): it cannot be closed twice."""

    status = 409
    code = "HOLD_CLOSED"
    default_message = "This credit hold was already settled or released."
