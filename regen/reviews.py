"""The human-review queue: the only code that assigns or decides a review item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from billing.models import Account, APIKey
from railsite.errors import NotFound, RequestValidationError, ServiceError
from regen.engine.requests import CONTENT_MAX, CONTENT_MIN, RegenerateRequest
from regen.engine.scoring import aggregate
from regen.engine.types import EvalContext
from regen.engines import get_evaluator
from regen.models import ReviewItem, ReviewItemQuerySet

DECISIONS = {
    "approve": ReviewItem.State.APPROVED,
    "reject": ReviewItem.State.REJECTED,
    "rewrite": ReviewItem.State.REWRITTEN,
}


OVERDUE_AFTER = timedelta(hours=1)
"""A critical item still pending after this long is flagged in the queue."""


class ReviewNotFound(NotFound):
    default_message = "Review item not found."


class AlreadyDecided(ServiceError):
    status = 409
    code = "REVIEW_ALREADY_DECIDED"
    default_message = "This review item has already been decided."


def get_item_for(account: Account, item_id: Any) -> ReviewItem:
    """Fetch an item of the account; any other account's item is simply not found."""
    try:
        return ReviewItem.objects.select_related(
            "project", "run", "assigned_to", "decided_by", "decided_by_key"
        ).get(id=item_id, account=account)
    except (ReviewItem.DoesNotExist, ValueError, TypeError, DjangoValidationError) as error:
        raise ReviewNotFound() from error


def queue_for(
    account: Account,
    *,
    dimension: str | None = None,
    project: Any = None,
    state: str | None = None,
    older_than: timedelta | None = None,
) -> ReviewItemQuerySet:
    """List the account's items, pending first, filtered, each marked ``overdue`` or not."""
    now = timezone.now()
    items = ReviewItem.objects.filter(account=account)
    if dimension:
        if connection.features.supports_json_field_contains:
            items = items.filter(failing_dimensions__contains=[dimension])
        else:  # SQLite: match the quoted key in the stored JSON list
            items = items.filter(failing_dimensions__icontains=f'"{dimension}"')
    if project is not None:
        items = items.filter(project=project)
    if state:
        items = items.filter(state=state)
    if older_than is not None:
        items = items.filter(created_at__lte=now - older_than)
    overdue = models.Q(
        state=ReviewItem.State.PENDING,
        reason=ReviewItem.Reason.CRITICAL,
        created_at__lte=now - OVERDUE_AFTER,
    )
    return (
        items.select_related("project", "assigned_to")
        .annotate(overdue=models.ExpressionWrapper(overdue, output_field=models.BooleanField()))
        .pending_first()
    )


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


class KeyMayNotDecide(ServiceError):
    status = 403
    code = "PERMISSION_DENIED"


def check_key_may_decide(item: ReviewItem, api_key: APIKey) -> None:
    """Raise KeyMayNotDecide unless ``api_key`` may decide ``item`` (see ``decide``)."""
    if not api_key.project.review_by_key:
        raise KeyMayNotDecide(
            "This project's API keys may not decide review items; a reviewer decides in "
            "the dashboard (an admin can allow keys in the project's policy)."
        )
    if item.api_key_id == api_key.pk:
        raise KeyMayNotDecide("An API key may not decide an item its own calls created.")


def decide(
    *,
    item: ReviewItem,
    decision: str,
    reason: str,
    content: str = "",
    user: Any = None,
    api_key: APIKey | None = None,
) -> ReviewItem:
    """Approve, reject or rewrite a pending item, keeping who, when and why.

    A person decides in the dashboard. An API key decides only where its project allows it
    (``Project.review_by_key``, off by default), and never an item its own calls created:
    the key that submitted critical content must not be the one that approves it.
    """
    if api_key is not None:
        check_key_may_decide(item, api_key)
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
    changed = ReviewItem.objects.filter(id=item.id, state=ReviewItem.State.PENDING).update(
        assigned_to=assignee
    )
    if not changed:  # decided meanwhile, perhaps in another tab
        raise AlreadyDecided()
    item.refresh_from_db()
    return item
