"""The runs list and the run detail, and what every page shows about one run.

``progress_context`` feeds the polling partial that the playground and the run detail
share (``regen/run_detail.html#progress``); ``detail_context`` the full run detail.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.functions import Left
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from billing.models import Account
from railsite.rendering import render_page, wants_partial
from regen import charts, runs
from regen.diff import highlight, issue_spans, word_diff
from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS
from regen.engine.thresholds import Thresholds
from regen.models import Iteration, ReviewItem, Run
from regen.pages.forms import RunFilterForm

PAGE_SIZE = 50
LIST_FIELDS = (
    "id", "kind", "status", "mode", "domain", "created_at", "best_score", "iterations_done",
    "max_regenerations", "credits_consumed", "cost_usd", "total_latency_ms",
    "project__name", "api_key__prefix",
)  # fmt: skip


def get_run_for(account: Account, run_id: Any) -> Run:
    """Return the account's run with this id, or 404 (another account's run is not found)."""
    runs = Run.objects.of_account(account).select_related(
        "project", "api_key", "created_by", "review_item"
    )
    return get_object_or_404(runs, id=run_id)


def thresholds_of(run: Run) -> Thresholds:
    return Thresholds.from_dict(run.request.get("thresholds") or {})


def overall_threshold(run: Run) -> float:
    return thresholds_of(run).overall_score


def _dimension_scores(it: Iteration) -> dict[str, float]:
    return {d: s["score"] for d, s in it.evaluation.get("scores", {}).items()}


def figures_for(run: Run, iterations: list[Iteration]) -> dict[str, Any]:
    """Draw the run's charts from its stored iterations (at least one)."""
    best = next(
        (i for i, it in enumerate(iterations) if it.index == run.best_iteration),
        len(iterations) - 1,
    )
    rows = [_dimension_scores(it) for it in iterations]
    limits = thresholds_of(run)
    return charts.run_charts(
        [it.score for it in iterations],
        rows,
        limits.overall_score,
        None if run.status == Run.Status.CRITICAL else best,
        {d: limits.threshold_for(d) for d in DIMENSIONS},
    )


def review_item_of(run: Run) -> ReviewItem | None:
    return getattr(run, "review_item", None)  # the reverse one-to-one raises when absent


def queued_too_long(run: Run) -> int | None:
    """Say how many seconds a run has waited in the queue, once that is longer than expected."""
    if run.status != Run.Status.QUEUED:
        return None
    waited = (timezone.now() - run.created_at).total_seconds()
    return int(waited) if waited >= settings.RAIL_QUEUE_WARNING_SECONDS else None


def progress_context(run: Run) -> dict[str, Any]:
    """What the polling partial shows: the iterations so far, then the result and charts."""
    iterations = list(run.iterations.order_by("index"))
    total = run.max_regenerations + 1
    context: dict[str, Any] = {
        "run": run,
        "iterations": iterations,
        "progress_max": total,
        "progress_done": total if run.is_final else min(len(iterations), total),
        "waited": queued_too_long(run),
        "critical": run.status == Run.Status.CRITICAL,
    }
    if run.is_final and iterations:
        figures = figures_for(run, iterations)
        context["progress_figures"] = {
            "score": figures["score"],
            "dims": figures.get("radar") or figures["bars"],
        }
    if run.is_final:
        context["review_item"] = review_item_of(run)
    return context


def iteration_view(it: Iteration) -> dict[str, Any]:
    """One iteration as the detail shows it: issues listed, their spans highlighted."""
    issues = [
        {**issue, "dimension_name": DIMENSION_INFO[dim].name if dim in DIMENSION_INFO else dim}
        for dim, score in it.evaluation.get("scores", {}).items()
        for issue in score.get("issues", [])
    ]
    return {
        "it": it,
        "content": highlight(it.content, issue_spans(it.evaluation)),
        "issues": issues,
        "failing": [DIMENSION_INFO[d].name for d in it.failing_dimensions if d in DIMENSION_INFO],
        "prompt": it.rail_prompt or None,
    }


def detail_context(run: Run) -> dict[str, Any]:
    """Everything the run detail shows about a finished run: each text once (the diff holds
    the original and the best; the iterations' texts are folded), identical versions
    collapsed onto the first, and a critical run as critical (no best version, no diff)."""
    iterations = list(run.iterations.order_by("index"))
    views: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for it in iterations:
        view = iteration_view(it)
        view["same_as"] = seen.get(it.content.strip())
        seen.setdefault(it.content.strip(), it.index)
        views.append(view)
    critical = run.status == Run.Status.CRITICAL
    improved = not critical and run.best_iteration not in (None, 0) and run.best_content
    context: dict[str, Any] = {
        "run": run,
        "critical": critical,
        "improved": improved,
        "diff": word_diff(run.original_content, run.best_content) if improved else "",
        "iterations": views,
        "threshold": overall_threshold(run),
        "review_item": review_item_of(run),
        "best": next((it for it in iterations if it.index == run.best_iteration), None),
        "min_fidelity": Thresholds.from_dict(run.request.get("thresholds") or {}).min_fidelity,
    }
    if iterations:
        context["figures"] = figures_for(run, iterations)
    return context


@member_required()
def run_detail(request: DashboardRequest, run_id: Any) -> HttpResponse:
    """Show one run; while it runs, its progress partial (polled by htmx) instead."""
    run = get_run_for(request.seat.account, run_id)
    if wants_partial(request):
        here = urlsplit(request.htmx.current_url_abs_path or "").path
        if run.is_final and here == request.path:  # the detail page itself: reload it whole
            return HttpResponseClientRefresh()
        return render_page(
            request, "regen/run_detail.html", progress_context(run), partial="progress"
        )
    context = detail_context(run) if run.is_final else progress_context(run)
    return render_page(request, "regen/run_detail.html", context)


@require_POST
@member_required(ADMIN, REVIEWER)
def run_cancel(request: DashboardRequest, run_id: Any) -> HttpResponse:
    """Cancel a queued run (its hold released); a run a worker took already goes on."""
    run = get_run_for(request.seat.account, run_id)
    runs.cancel_queued_run(run.id, by=request.user.get_username())
    run = get_run_for(request.seat.account, run_id)
    if wants_partial(request):
        return render_page(
            request, "regen/run_detail.html", progress_context(run), partial="progress"
        )
    return redirect("run-detail", run_id=run.id)


def list_rows(runs: QuerySet[Run], order: str | OrderBy = "-created_at") -> QuerySet[Run]:
    """The columns the list shows, keys and projects joined, content cut short in the DB."""
    return (
        runs.select_related("project", "api_key")
        .only(*LIST_FIELDS)
        .annotate(snippet=Left("original_content", 90))
        .order_by(order, "-created_at")
    )


@member_required()
def run_list(request: DashboardRequest) -> HttpResponse:
    """List the account's runs, filtered and paginated, with charts per day."""
    account = request.seat.account
    filters = RunFilterForm(request.GET or None, account=account)
    runs = filters.filter(Run.objects.of_account(account))
    rows = list_rows(runs, filters.ordering())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    stats = runs.per_day()
    figures = {
        "pass_rate": charts.per_day(
            stats, "pass_rate", title="Pass rate per day (%)", kind="line", y_range=(0, 105)
        ),
        "iterations": charts.per_day(stats, "iterations", title="Mean iterations per day"),
        "credits": charts.per_day(stats, "credits", title="Credits per day"),
    }
    context = {"filters": filters, "page": page, "figures": figures, "sort": filters.sort_links()}
    return render_page(request, "regen/runs.html", context)
