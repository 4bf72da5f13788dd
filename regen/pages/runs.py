"""The runs list and the run detail, and what every page shows about one run.

``progress_context`` feeds the polling partial that the playground and the run detail
share (``regen/run_detail.html#progress``); ``detail_context`` the full run detail.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from django.core.paginator import Paginator
from django.db.models import Avg, Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast, Left, NullIf, TruncDate
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django_htmx.http import HttpResponseClientRefresh

from billing.dashboard import DashboardRequest, member_required
from billing.models import Account
from railsite.rendering import render_page, wants_partial
from regen import charts
from regen.diff import highlight, issue_spans, word_diff
from regen.engine.dimensions import DIMENSION_INFO
from regen.engine.thresholds import Thresholds
from regen.models import Iteration, Run
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


def overall_threshold(run: Run) -> float:
    return Thresholds.from_dict(run.request.get("thresholds") or {}).overall_score


def _dimension_scores(it: Iteration) -> dict[str, float]:
    return {d: s["score"] for d, s in it.evaluation.get("scores", {}).items()}


def figures_for(run: Run, iterations: list[Iteration]) -> dict[str, charts.Figure]:
    """Draw the run's charts from its stored iterations (at least one)."""
    best = next(
        (i for i, it in enumerate(iterations) if it.index == run.best_iteration),
        len(iterations) - 1,
    )
    return charts.run_charts(
        [it.score for it in iterations],
        [_dimension_scores(it) for it in iterations],
        overall_threshold(run),
        best,
    )


def progress_context(run: Run) -> dict[str, Any]:
    """What the polling partial shows: the iterations so far, then the result and charts."""
    iterations = list(run.iterations.order_by("index"))
    total = run.max_regenerations + 1
    context: dict[str, Any] = {
        "run": run,
        "iterations": iterations,
        "progress_max": total,
        "progress_done": total if run.is_final else min(len(iterations), total),
    }
    if run.is_final and iterations:
        figures = figures_for(run, iterations)
        context["progress_figures"] = {"score": figures["score"], "radar": figures["radar"]}
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
    """Everything the run detail shows about a finished run."""
    iterations = list(run.iterations.order_by("index"))
    context: dict[str, Any] = {
        "run": run,
        "diff": word_diff(run.original_content, run.best_content or run.original_content),
        "iterations": [iteration_view(it) for it in iterations],
        "threshold": overall_threshold(run),
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


def list_rows(runs: QuerySet[Run]) -> QuerySet[Run]:
    """The columns the list shows, keys and projects joined, content cut short in the DB."""
    return (
        runs.select_related("project", "api_key")
        .only(*LIST_FIELDS)
        .annotate(snippet=Left("original_content", 90))
        .order_by("-created_at")
    )


def daily_stats(runs: QuerySet[Run]) -> list[dict[str, Any]]:
    """Aggregate runs per day in the database: count, pass rate, mean iterations, credits."""
    finished = Count("id", filter=Q(status__in=Run.FINAL_STATUSES))
    passed = Count("id", filter=Q(status=Run.Status.PASSED))
    # values() rows; "iterations" also names Run's relation, which the stubs' plugin rejects
    rows = (
        cast(Any, runs)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            runs=Count("id"),
            pass_rate=100.0
            * Cast(passed, FloatField())
            / NullIf(Cast(finished, FloatField()), 0.0),
            iterations=Avg("iterations_done"),
            credits=Cast(Sum("credits_consumed"), FloatField()),
        )
        .order_by("day")
    )
    return list(rows)


@member_required()
def run_list(request: DashboardRequest) -> HttpResponse:
    """List the account's runs, filtered and paginated, with charts per day."""
    account = request.seat.account
    filters = RunFilterForm(request.GET or None, account=account)
    runs = filters.filter(Run.objects.of_account(account))
    page = Paginator(list_rows(runs), PAGE_SIZE).get_page(request.GET.get("page"))
    stats = daily_stats(runs)
    figures = {
        "pass_rate": charts.per_day(
            stats, "pass_rate", title="Pass rate per day (%)", kind="line", y_range=(0, 105)
        ),
        "iterations": charts.per_day(stats, "iterations", title="Mean iterations per day"),
        "credits": charts.per_day(stats, "credits", title="Credits per day"),
    }
    return render_page(
        request, "regen/runs.html", {"filters": filters, "page": page, "figures": figures}
    )
