"""The threshold what-if page: a project's past runs replayed under another policy, live.

Admins and reviewers replay; only admins apply the policy to the project, through
``billing.accounts.update_policy`` as the policy editor does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.accounts import stored_thresholds, update_policy
from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from billing.models import Account, Project
from railsite.errors import ServiceError
from railsite.rendering import render_page
from regen import charts, whatif
from regen.pages.forms import WhatIfForm


def _project(account: Account, wanted: Any) -> Project | None:
    """The account's project asked for, else its first by name (another's is never found)."""
    projects = account.projects.order_by("name")
    chosen = projects.filter(pk=wanted).first() if str(wanted or "").isdigit() else None
    return chosen or projects.first()


def _form(project: Project, data: Any) -> WhatIfForm:
    initial = {**WhatIfForm.initial_for(project), "days": whatif.DAYS_DEFAULT}
    return WhatIfForm(data, initial=initial)


def _policy(form: WhatIfForm, project: Project) -> whatif.Policy | None:
    """The policy the form asks for (the project's own when unbound); None, with the
    errors on the form, when it is not valid."""
    if not form.is_bound:
        weights = project.weights if isinstance(project.weights, dict) else {}
        return whatif.Policy(stored_thresholds(project), weights)
    if not form.is_valid():
        return None
    try:
        return whatif.parse_policy(form.request_body())
    except ServiceError as exc:
        form.add_service_error(exc)
        return None


def _context(request: DashboardRequest, project: Project | None, form: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "project": project,
        "projects": request.seat.account.projects.order_by("name"),
        "form": form,
        "can_apply": request.seat.is_admin,
    }
    policy = _policy(form, project) if project is not None else None
    if project is not None and policy is not None:
        result = whatif.replay_policy(project=project, policy=policy)
        context["result"] = result
        context["figures"] = {
            "outcomes": charts.what_if_outcomes(result["per_day"]),
            "credits": charts.what_if_credits(result["per_day"]),
        }
    return context


@require_GET
@member_required(ADMIN, REVIEWER)
def what_if_page(request: DashboardRequest) -> HttpResponse:
    """Replay a project's runs under the policy in the form (htmx: the results only)."""
    project = _project(request.seat.account, request.GET.get("project"))
    bound = request.GET if "tradeoff_mode" in request.GET else None
    form = _form(project, bound) if project is not None else None
    context = _context(request, project, form)
    return render_page(request, "regen/what_if.html", context, partial="results")


@require_POST
@member_required(ADMIN)
def what_if_apply(request: DashboardRequest) -> HttpResponse:
    """Make the what-if's thresholds and weights the project's policy."""
    project = _project(request.seat.account, request.POST.get("project"))
    if project is None:
        return redirect("what-if")
    form = _form(project, request.POST)
    applied = False
    if _policy(form, project) is not None:
        try:
            update_policy(project=project, **form.thresholds_and_weights())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            applied = True
    if applied and not request.htmx:
        messages.success(request, f"The policy of {project.name} now uses these thresholds.")
        query = {
            "project": project.pk,
            **{k: v for k, v in request.POST.items() if k in form.fields},
        }
        return redirect(f"{reverse('what-if')}?{urlencode(query)}")
    context = {**_context(request, project, form), "applied": applied}
    return render_page(request, "regen/what_if.html", context, partial="results")
