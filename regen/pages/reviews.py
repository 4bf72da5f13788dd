"""Review-queue pages: the queue, an item's detail, assignment and decisions.

Every change goes through ``regen.reviews`` (``assign``, ``decide``), the same functions
the API calls. An htmx request gets one named partial of the page's own template.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from billing.models import Project
from railsite.errors import RequestValidationError
from railsite.forms import ServiceErrorsMixin
from railsite.rendering import render_page, wants_partial
from regen import charts, reviews
from regen.diff import highlight, issue_spans, word_diff
from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS
from regen.models import ReviewItem

PAGE_SIZE = 25
AGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
QUEUE = "regen/review_queue.html"
DETAIL = "regen/review_detail.html"


class QueueFilters(forms.Form):
    dimension = forms.ChoiceField(
        required=False,
        label="Failing dimension",
        choices=[("", "Any dimension"), *((d, DIMENSION_INFO[d].name) for d in DIMENSIONS)],
    )
    project = forms.ModelChoiceField(
        required=False, queryset=Project.objects.none(), empty_label="Any project"
    )
    state = forms.ChoiceField(
        required=False,
        choices=[*ReviewItem.State.choices, ("all", "Any state")],
        help_text="Pending by default: the work still to do.",
    )
    reason = forms.ChoiceField(
        required=False, choices=[("", "Any reason"), *ReviewItem.Reason.choices]
    )
    assignee = forms.ChoiceField(
        required=False,
        choices=[("", "Anyone"), ("me", "Assigned to me"), ("unassigned", "Unassigned")],
    )
    age = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any age"),
            ("1h", "Older than 1 hour"),
            ("24h", "Older than 24 hours"),
            ("7d", "Older than 7 days"),
        ],
    )

    def __init__(self, data: Any, *, account: Any) -> None:
        super().__init__(data)
        cast(forms.ModelChoiceField, self.fields["project"]).queryset = account.projects.order_by(
            "name"
        )

    def chosen(self, user: Any) -> dict[str, Any]:
        """Return the valid filters as ``reviews.queue_for`` arguments; bad values are ignored.

        Without a state the queue shows pending items only; ``all`` shows every state.
        """
        self.is_valid()
        data = self.cleaned_data
        state = data.get("state") or ReviewItem.State.PENDING
        assignee = data.get("assignee") or ""
        return {
            "dimension": data.get("dimension") or None,
            "project": data.get("project"),
            "state": None if state == "all" else state,
            "reason": data.get("reason") or None,
            "assignee": user
            if assignee == "me"
            else "nobody"
            if assignee == "unassigned"
            else None,
            "older_than": AGES.get(data.get("age") or ""),
        }


class DecisionForm(ServiceErrorsMixin, forms.Form):
    """The decision's shape; ``reviews.decide`` enforces the rules (reason, rewrite length)."""

    decision = forms.ChoiceField(choices=[(d, d.title()) for d in reviews.DECISIONS])
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True, "maxlength": 5000}),
    )
    content = forms.CharField(
        required=False, strip=False, label="New content", widget=forms.Textarea(attrs={"rows": 8})
    )
    override = forms.BooleanField(
        required=False, label="Save it even though it fails the run's thresholds"
    )
    confirm_critical = forms.BooleanField(
        required=False, label="I confirm this critical content may be served"
    )
    take_over = forms.BooleanField(required=False, widget=forms.HiddenInput)
    with_duplicates = forms.BooleanField(
        required=False, label="Apply this decision to the identical pending items too"
    )


def dimension_rows(item: ReviewItem) -> list[dict[str, Any]]:
    """List each scored dimension with its score, explanation and issues, failing ones first."""
    scores = item.evaluation.get("scores") or {}
    failing = set(item.failing_dimensions or ())
    rows = [
        {
            "name": DIMENSION_INFO[d].name,
            "score": scores[d].get("score"),
            "failing": d in failing,
            "explanation": scores[d].get("explanation", ""),
            "issues": [
                {**issue, "excerpt": _excerpt(item.content, issue.get("span"))}
                for issue in scores[d].get("issues") or ()
            ],
        }
        for d in DIMENSIONS
        if d in scores
    ]
    return sorted(rows, key=lambda row: not row["failing"])


def failing_rows(item: ReviewItem) -> list[dict[str, Any]]:
    """The dimensions that put the item here: each failing one, its score and threshold."""
    scores = item.evaluation.get("scores") or {}
    thresholds = reviews.thresholds_of(item)
    return [
        {
            "key": d,
            "name": DIMENSION_INFO[d].name,
            "score": (scores.get(d) or {}).get("score"),
            "threshold": thresholds.threshold_for(d),
        }
        for d in DIMENSIONS
        if d in (item.failing_dimensions or ())
    ]


def flagged_passages(item: ReviewItem) -> list[dict[str, Any]]:
    """Every flagged passage with its explanation, in reading order (visible, not hover-only)."""
    found = []
    for dimension, score in (item.evaluation.get("scores") or {}).items():
        for issue in score.get("issues") or ():
            excerpt = _excerpt(item.content, issue.get("span"))
            if excerpt:
                start = int(issue["span"]["start"])
                found.append((start, excerpt, issue.get("description", ""), dimension))
    seen, rows = set(), []
    for start, excerpt, description, dimension in sorted(found):
        if (start, description) in seen:
            continue
        seen.add((start, description))
        rows.append(
            {
                "excerpt": excerpt,
                "description": description,
                "dimension": DIMENSION_INFO[dimension].name
                if dimension in DIMENSION_INFO
                else dimension,
            }
        )
    return rows


def _excerpt(content: str, span: Any) -> str:
    try:
        return content[int(span["start"]) : int(span["end"])]
    except (KeyError, TypeError, ValueError):
        return ""


def _figure(item: ReviewItem) -> dict[str, Any]:
    scores = {
        d: s["score"]
        for d, s in (item.evaluation.get("scores") or {}).items()
        if d in DIMENSION_INFO
    }
    return charts.failing_bars(scores, item.failing_dimensions or ())


def _item(request: DashboardRequest, item_id: Any) -> ReviewItem:
    try:
        return reviews.get_item_for(request.seat.account, item_id)
    except reviews.ReviewNotFound as error:
        raise Http404(error.message) from error


def _panel(
    request: DashboardRequest,
    item: ReviewItem,
    *,
    form: DecisionForm | None = None,
    notice: str = "",
    problem: str = "",
    status: int = 200,
    confirm: bool = False,
) -> HttpResponse:
    """Render the decision panel (htmx) or the whole detail page (plain POST, GET).

    ``confirm`` opens the critical-approval confirmation.
    """
    if form is None:
        form = DecisionForm(initial={"content": item.content})
    following = reviews.next_pending(request.seat.account, after=item, user=request.user)
    context = {
        "item": item,
        "form": form,
        "notice": notice,
        "problem": problem,
        "confirm": confirm,
        "failing": failing_rows(item),
        "thresholds": reviews.thresholds_of(item),
        "next_item": following,
        "held": reviews.held_by_another(item, request.user),
        "duplicates": reviews.duplicates_of(item, request.user).count()
        if item.state == ReviewItem.State.PENDING
        else 0,
    }
    if wants_partial(request):  # htmx swaps 2xx answers only
        return render_page(request, DETAIL, context, partial="panel")
    original = item.run.original_content if item.run_id else ""
    context.update(
        highlighted=highlight(item.content, issue_spans(item.evaluation)),
        figure=_figure(item),
        dimensions=dimension_rows(item),
        original=original if original and original != item.content else "",
        diff=word_diff(original, item.content) if original and original != item.content else "",
        flagged=flagged_passages(item),
        version=item.run.best_version() if item.run_id and original != item.content else None,
    )
    return render_page(request, DETAIL, context, status=status)


@member_required()
def review_queue(request: DashboardRequest) -> HttpResponse:
    """List the account's pending review items (urgent and oldest first), filtered and paginated."""
    filters = QueueFilters(request.GET, account=request.seat.account)
    items = reviews.queue_for(request.seat.account, **filters.chosen(request.user))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    keys = {item.content_key for item in page}
    counts = dict(
        ReviewItem.objects.filter(
            account=request.seat.account,
            state=ReviewItem.State.PENDING,
            content_key__in=keys,
        )
        .values_list("content_key")
        .annotate(n=Count("id"))
        .values_list("content_key", "n")
    )
    for item in page:
        # shown beside the item: the identical pending items one decision can cover
        item.twins = max(0, counts.get(item.content_key, 1) - 1) if item.state == "pending" else 0  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "query": query.urlencode()}
    if not wants_partial(request):
        rows = reviews.agreement(request.seat.account)
        decided = max((row["decided"] for row in rows.values()), default=0)
        context.update(
            agreement=[
                {"name": DIMENSION_INFO[d].name, **row} for d, row in rows.items() if row["decided"]
            ],
            agreement_figure=charts.agreement_bars(rows) if decided else None,
        )
    return render_page(request, QUEUE, context, partial="queue")


@member_required()
def review_detail(request: DashboardRequest, item_id: Any) -> HttpResponse:
    """Show an item: highlighted content, dimension chart, issues, and its decision panel."""
    return _panel(request, _item(request, item_id))


@member_required(ADMIN, REVIEWER)
@require_POST
def review_decide(request: DashboardRequest, item_id: Any) -> HttpResponse:
    """Approve, reject or rewrite the item through ``reviews.decide``."""
    item = _item(request, item_id)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        confirmed = data.pop("confirm_critical")
        critical = item.reason == ReviewItem.Reason.CRITICAL
        if data["decision"] == "approve" and critical and not confirmed and data["reason"].strip():
            form.add_error(
                "confirm_critical",
                "This content was flagged as critical: confirm that it may be served.",
            )
            return _panel(request, item, form=form, status=400, confirm=True)
        group = data.pop("with_duplicates")
        try:
            if group:
                item, others = reviews.decide_group(item=item, user=request.user, **data)
            else:
                item, others = reviews.decide(item=item, user=request.user, **data), 0
        except reviews.HeldByAnother as error:
            return _panel(request, item, form=form, problem=error.message, status=error.status)
        except RequestValidationError as error:
            form.add_service_error(error)
        except reviews.AlreadyDecided as error:
            return _panel(
                request, _item(request, item_id), problem=error.message, status=error.status
            )
        else:
            also = (
                f" {others} identical item{'s were' if others != 1 else ' was'} decided the same way."
                if others
                else ""
            )
            return _done(request, item, f"Item {item.get_state_display().lower()}.{also}")
    return _panel(request, item, form=form, status=400)


@member_required(ADMIN, REVIEWER)
@require_POST
def review_assign(request: DashboardRequest, item_id: Any) -> HttpResponse:
    """Assign the item to the current member, or unassign it."""
    item = _item(request, item_id)
    assignee = request.user if request.POST.get("assignee") == "me" else None
    try:
        item = reviews.assign(item=item, assignee=assignee)
    except reviews.AlreadyDecided as error:
        return _panel(request, _item(request, item_id), problem=error.message, status=error.status)
    return _done(request, item, "Assigned to you." if assignee else "Unassigned.")


def _done(request: DashboardRequest, item: ReviewItem, message: str) -> HttpResponse:
    if wants_partial(request):
        return _panel(request, item, notice=message)
    messages.success(request, message)
    return redirect("review-detail", item_id=item.id)


@member_required(ADMIN, REVIEWER)
@require_POST
def review_start(request: DashboardRequest) -> HttpResponse:
    """Work mode: take the next pending item nobody holds and lock it to the reviewer."""
    item = reviews.start_reviewing(request.seat.account, request.user)
    if item is None:
        messages.info(request, "Nothing is waiting for review.")
        return redirect("review-queue")
    return redirect("review-detail", item_id=item.id)
