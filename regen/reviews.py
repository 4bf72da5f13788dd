"""The human-review queue: the only code that assigns or decides a review item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from billing import provider_keys
from billing.models import Account, APIKey
from railsite.errors import NotFound, RequestValidationError, ServiceError
from regen import webhooks
from regen.engine.dimensions import DIMENSIONS
from regen.engine.requests import CONTENT_MAX, CONTENT_MIN, RegenerateRequest
from regen.engine.scoring import aggregate
from regen.engine.thresholds import Thresholds
from regen.engine.thresholds import decide as decide_thresholds
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
    reason: str | None = None,
    assignee: Any = None,
) -> ReviewItemQuerySet:
    """List the account's items, filtered, each marked ``overdue`` or not: pending first,
    critical before on-failure, oldest first (``ReviewItemQuerySet.pending_first``).

    ``assignee`` is a user, ``"nobody"`` for unassigned items, or None for any.
    """
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
    if reason:
        items = items.filter(reason=reason)
    if assignee == "nobody":
        items = items.filter(assigned_to__isnull=True)
    elif assignee is not None:
        items = items.filter(assigned_to=assignee)
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


def next_pending(account: Account, *, after: ReviewItem, user: Any = None) -> ReviewItem | None:
    """The next item to work after ``after``: the first pending one in queue order that
    nobody else holds (``user``'s own and unassigned ones)."""
    items = queue_for(account, state=ReviewItem.State.PENDING).exclude(id=after.id)
    free = models.Q(assigned_to__isnull=True) | models.Q(assigned_until__lt=timezone.now())
    if getattr(user, "pk", None):
        free |= models.Q(assigned_to=user)
    return items.filter(free).first()


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})


class HeldByAnother(ServiceError):
    status = 409
    code = "REVIEW_ASSIGNED_TO_ANOTHER"


class RewriteBelowThresholds(RequestValidationError):
    """A rewrite that fails the run's thresholds, saved only with an explicit override."""


def thresholds_of(item: ReviewItem) -> Thresholds:
    """The thresholds the item's run was held to (the defaults for a run without them)."""
    if item.run_id and item.run.request:
        return RegenerateRequest.from_dict(item.run.request).thresholds
    return Thresholds()


def _score_rewrite(item: ReviewItem, content: str) -> tuple[dict[str, Any], list[str], bool]:
    """Score a rewrite as the run scored its versions; return its evaluation, the
    dimensions it fails and whether it passes the run's thresholds."""
    request = RegenerateRequest.from_dict(item.run.request) if item.run.request else None
    ctx = EvalContext(
        mode=request.mode if request else "basic",
        dimensions=request.dimensions if request else (),
        domain=request.domain if request else "general",
    )
    evaluation = aggregate(
        get_evaluator(account=item.account, project=item.project).evaluate(content, ctx),
        request.weights if request else None,
    )
    provider_keys.flush_usage()
    met = decide_thresholds(
        scores=evaluation.pairs(),
        overall_score=evaluation.score,
        overall_confidence=evaluation.confidence,
        thresholds=thresholds_of(item),
    )
    return evaluation.to_state(), met.failing_dimensions, met.all_passed


LOCK: Final = timedelta(minutes=15)
"""How long "Start reviewing" holds an item for its reviewer."""


def held_by_another(item: ReviewItem, user: Any) -> bool:
    """Tell whether someone other than ``user`` holds the item: assigned to them, and, for
    a work-mode lock, the lock has not run out."""
    if item.assigned_to_id is None or item.assigned_to_id == getattr(user, "pk", None):
        return False
    return item.assigned_until is None or item.assigned_until > timezone.now()


def start_reviewing(account: Account, user: Any) -> ReviewItem | None:
    """Work mode: take the next pending item nobody holds, in queue order, and lock it to
    ``user`` for ``LOCK``; None when the queue is empty. Two reviewers starting at once
    never get the same item (the lock is one conditional UPDATE)."""
    now = timezone.now()
    free = models.Q(assigned_to__isnull=True) | models.Q(assigned_until__lt=now)
    mine = models.Q(assigned_to=user, assigned_until__gt=now)
    for candidate in queue_for(account, state=ReviewItem.State.PENDING).filter(free | mine)[:20]:
        taken = (
            ReviewItem.objects.filter(id=candidate.id, state=ReviewItem.State.PENDING)
            .filter(free | mine)
            .update(assigned_to=user, assigned_until=now + LOCK)
        )
        if taken:
            return get_item_for(account, candidate.id)
    return None


def _check_holder(item: ReviewItem, user: Any, api_key: APIKey | None, take_over: bool) -> None:
    """Refuse a decision on an item someone else holds, unless taken over explicitly."""
    holder = item.assigned_to
    if holder is None or take_over:
        return
    if api_key is None and not held_by_another(item, user):
        return
    if api_key is None and getattr(user, "pk", None) == holder.pk:
        return
    raise HeldByAnother(
        f"This item is assigned to {holder.get_username()}; take it over to decide it."
    )


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
    override: bool = False,
    take_over: bool = False,
) -> ReviewItem:
    """Approve, reject or rewrite a pending item, keeping who, when and why.

    A person decides in the dashboard. An API key decides only where its project allows it
    (``Project.review_by_key``, off by default), and never an item its own calls created:
    the key that submitted critical content must not be the one that approves it.

    An item assigned to someone is decided by them, or by whoever takes it over explicitly
    (``take_over``, recorded as the new assignee). A rewrite is scored as the run scored its
    versions and must pass the run's thresholds, or be saved with ``override`` (the item
    records it beside the reason).
    """
    if api_key is not None:
        check_key_may_decide(item, api_key)
    _check_holder(item, user, api_key, take_over)
    if decision not in DECISIONS:
        raise _invalid("decision", f"Must be one of: {', '.join(DECISIONS)}.")
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "Give a reason for the decision.")
    rewritten: dict[str, Any] | None = None
    if decision == "rewrite":
        if not len((content or "").strip()) >= CONTENT_MIN or len(content) > CONTENT_MAX:
            raise _invalid(
                "content", f"A rewrite must be between {CONTENT_MIN} and {CONTENT_MAX} characters."
            )
        rewritten, failing, passed = _score_rewrite(item, content)
        if not passed and not override:
            names = ", ".join(failing) or "the overall score or confidence"
            message = (
                f"The rewrite scores {rewritten['score']:.1f} and fails the run's thresholds "
                f"({names}). Improve it, or save it with an explicit override."
            )
            raise RewriteBelowThresholds(message, details={"content": [message]})
    with transaction.atomic():
        changed = ReviewItem.objects.filter(id=item.id, state=ReviewItem.State.PENDING).update(
            state=DECISIONS[decision],
            decided_by=user if getattr(user, "pk", None) else None,
            decided_by_key=api_key,
            decided_at=timezone.now(),
            decision_reason=reason[:5000],
            rewritten_content=content if rewritten is not None else "",
            rewritten_evaluation=rewritten,
            rewrite_override=rewritten is not None and override,
            **({"assigned_to": user} if take_over and getattr(user, "pk", None) else {}),
        )
        if not changed:
            raise AlreadyDecided()
        item.refresh_from_db()
        webhooks.announce_decision(item)  # recorded with the decision, sent once it commits
    return item


def agreement(account: Account) -> dict[str, dict[str, int]]:
    """Per dimension, how often reviewers overturned the scorer on decided items.

    An approval (the text may be served as it is) overturns every dimension the scorer
    failed; a rejection overturns every dimension the scorer passed. A rewrite agrees with
    the scorer that the text needed changing and is not counted. Returns, per dimension,
    ``decided`` (approvals and rejections where it was scored) and ``overturned``.
    """
    out = {d: {"decided": 0, "overturned": 0} for d in DIMENSIONS}
    decided = ReviewItem.objects.filter(
        account=account, state__in=[ReviewItem.State.APPROVED, ReviewItem.State.REJECTED]
    ).values_list("state", "failing_dimensions", "evaluation")
    for state, failing, evaluation in decided.iterator():
        scored = set((evaluation or {}).get("scores") or {})
        for dimension in DIMENSIONS:
            if dimension not in scored:
                continue
            flagged = dimension in (failing or ())
            out[dimension]["decided"] += 1
            approved = state == ReviewItem.State.APPROVED
            if (approved and flagged) or (not approved and not flagged):
                out[dimension]["overturned"] += 1
    return out


def duplicates_of(item: ReviewItem, user: Any = None) -> ReviewItemQuerySet:
    """The other pending items of the account with the same text (up to case, spacing and
    punctuation) that nobody else holds: one decision may cover them all."""
    now = timezone.now()
    free = models.Q(assigned_to__isnull=True) | models.Q(assigned_until__lt=now)
    if getattr(user, "pk", None):
        free |= models.Q(assigned_to=user)
    return (
        ReviewItem.objects.filter(
            account_id=item.account_id,
            content_key=item.content_key,
            state=ReviewItem.State.PENDING,
        )
        .exclude(id=item.id)
        .filter(free)
    )


def decide_group(*, item: ReviewItem, **decision: Any) -> tuple[ReviewItem, int]:
    """Decide ``item`` and then each of its near-duplicates the same way (``decide``'s rules
    apply to each; one decided meanwhile is skipped). Return the item and how many others
    were decided."""
    twins = list(
        duplicates_of(item, decision.get("user")).select_related("run", "project", "assigned_to")
    )
    decided = decide(item=item, **decision)
    others = 0
    for twin in twins:
        try:
            decide(item=twin, **decision)
        except (AlreadyDecided, HeldByAnother):
            continue
        others += 1
    return decided, others


def assign(*, item: ReviewItem, assignee: Any) -> ReviewItem:
    """Assign a pending item to a reviewer (or unassign it with ``None``), with no time
    limit: an explicit assignment, and the explicit way to take an item over."""
    changed = ReviewItem.objects.filter(id=item.id, state=ReviewItem.State.PENDING).update(
        assigned_to=assignee, assigned_until=None
    )
    if not changed:  # decided meanwhile, perhaps in another tab
        raise AlreadyDecided()
    item.refresh_from_db()
    return item
