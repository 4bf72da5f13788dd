"""The regenerator A/B pages: choose the arms and N, price it, start it, watch its report.

Both go through ``regen.comparisons`` (check, do, report), as the API does.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from billing import ledger
from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from billing.models import Account, Project
from railsite.errors import ServiceError
from railsite.rendering import render_page
from regen import comparisons, prompt_templates
from regen.models import Comparison
from regen.pages.forms import ComparisonForm
from regen.runs import Caller


def _project(account: Account, wanted: Any) -> Project | None:
    """The account's project asked for, else its first by name (another's is never found)."""
    projects = account.projects.order_by("name")
    chosen = projects.filter(pk=wanted).first() if str(wanted or "").isdigit() else None
    return chosen or projects.first()


def _start_or_price(
    request: DashboardRequest, project: Project, form: ComparisonForm
) -> tuple[comparisons.Checked | None, Comparison | None]:
    """Price the A/B (``action=price``) or start it; errors go on the form."""
    caller = Caller(account=request.seat.account, project=project, user=request.user)
    dry_run = request.POST.get("action") == "price"
    try:
        checked = comparisons.check_comparison(caller, form.request_body(dry_run=dry_run))
        return checked, comparisons.do_comparison(caller, checked)
    except ServiceError as exc:
        form.add_service_error(exc)
        return None, None


@require_http_methods(["GET", "POST"])
@member_required(ADMIN, REVIEWER)
def comparisons_page(request: DashboardRequest) -> HttpResponse:
    """Choose a champion, a challenger and N for a project; price or start the A/B."""
    account = request.seat.account
    source = request.POST if request.method == "POST" else request.GET
    project = _project(account, source.get("project"))
    context: dict[str, Any] = {
        "project": project,
        "projects": account.projects.order_by("name"),
        "recent": Comparison.objects.filter(account=account).select_related("project")[:10],
        "max_inputs": comparisons.MAX_INPUTS,
    }
    if project is not None:
        versions = prompt_templates.versions(project)
        form = ComparisonForm(request.POST or None, versions=versions)
        if form.is_bound and form.is_valid():
            checked, started = _start_or_price(request, project, form)
            if started is not None:
                return redirect("comparison", started.id)
            context["priced"] = checked
        context["form"] = form
        context["available"] = len(comparisons.failing_runs(project, comparisons.MAX_INPUTS))
        context["balance"] = ledger.available_of(account)
    return render_page(request, "regen/comparisons.html", context)


@require_GET
@member_required(ADMIN, REVIEWER)
def comparison_page(request: DashboardRequest, comparison_id: Any) -> HttpResponse:
    """A comparison's progress and report, side by side (htmx: the report only, polled)."""
    try:
        comparison = comparisons.get_comparison_for(
            account=request.seat.account, comparison_id=comparison_id
        )
    except comparisons.ComparisonNotFound as error:
        raise Http404("No such comparison in this account.") from error
    context = {
        "comparison": comparison,
        "report": comparisons.report_of(comparison),
        "pairs": comparisons.pairs_of(comparison),
    }
    return render_page(request, "regen/comparison.html", context, partial="report")
