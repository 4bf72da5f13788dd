"""The human-review queue: the only code that assigns or decides a review item."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.models import Account, APIKey
from railsite.errors import NotFound, RequestValidationError, ServiceError
from regen.engine.requests import CONTENT_MAX, CONTENT_MIN, RegenerateRequest
from regen.engine.scoring import aggregate
from regen.engine.types import EvalContext
from regen.engines import get_evaluator
from regen.models import ReviewItem

DECISIONS = {
    "approve": ReviewItem.State.APPROVED,
    "reject": ReviewItem.State.REJECTED,
    "rewrite": ReviewItem.State.REWRITTEN,
}


class ReviewNotFound(NotFound):
    default_message = "Review item not found."


class AlreadyDecided(ServiceError):
    status = 409
    code = "REVIEW_ALREADY_DECIDED"
    default_message = "This review item has already been decided."


def get_item_for(account: Account, item_id: Any) -> ReviewItem:
    """Fetch an item of the account; any other account's item is simply not found."""
    try:
        return ReviewItem.objects.select_related("project", "run").get(id=item_id, account=account)
    except (ReviewItem.DoesNotExist, ValueError, TypeError) as error:
        raise ReviewNotFound() from error


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})


def _score_rewrite(item: ReviewItem, content: str) -> dict[str, Any]:
    request = RegenerateRequest.from_dict(item.run.request) if item.run.request else None
    ctx = EvalContext(
        mode=request.mode if request else "basic",
        dimensions=request.dimensions if request else (),
        domain=request.domain if request else "general",
    )
    evaluation = aggregate(get_evaluator().evaluate(content, ctx), request.weights if request else None)
    return evaluation.to_state()


def decide(
    *,
    item: ReviewItem,
    decision: str,
    reason: str,
    content: str = "",
    user: Any = None,
    api_key: APIKey | None = None,
) -> ReviewItem:
    """Approve, reject or rewrite a pending item, keeping who, when and why."""
    if decision not in DECISIONS:
        raise _invalid("decision", f"Must be one of: {', '.join(DECISIONS)}.")
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Give a reason for the decision.")
    rewritten: dict[str, Any] | None = None
    if decision == "rewrite":
        if not len((content or "").strip()) >= CONTENT_MIN or len(content) > CONTENT_MAX:
            raise _invalid("content", f"A rewrite must be between {CONTENT_MIN} and {CONTENT_MAX} characters.")
        rewritten = _score_rewrite(item, content)
    with transaction.atomic():
        changed = ReviewItem.objects.filter(id=item.id, state=ReviewItem.State.PENDING).update(
            state=DECISIONS[decision],
            decided_by=user if getattr(user, "pk", None) else None,
            decided_by_key=api_key,
            decided_at=timezone.now(),
            decision_reason=reason[:5000],
            rewritten_content=content if rewritten is not None else "",
            rewritten_evaluation=rewritten,
        )
        if not changed:
            raise AlreadyDecided()
    item.refresh_from_db()
    return item


def assign(*, item: ReviewItem, assignee: Any) -> ReviewItem:
    """Assign a pending item to a reviewer (or unassign it with ``None``)."""
    if item.state != ReviewItem.State.PENDING:
        raise AlreadyDecided()
    ReviewItem.objects.filter(id=item.id).update(assigned_to=assignee)
    item.refresh_from_db()
    return item
