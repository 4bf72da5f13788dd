"""The API keys page: list the account's keys, issue one (its secret shown this once), revoke.

Views parse, authorize, call ``billing.keys`` and render; an htmx request gets the page's
``keys-panel`` partial.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from billing import keys
from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import APIKey, month_start
from billing.pages.forms import BudgetForm, KeyForm
from railsite.errors import ServiceError
from railsite.rendering import render_page

PAGE_SIZE = 25


@never_cache  # the create response carries the only copy of a secret
@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def keys_page(request: DashboardRequest) -> HttpResponse:
    """List the account's keys; create one and show its secret this once."""
    account = request.seat.account
    form = KeyForm(request.POST if request.method == "POST" else None, account=account)
    created: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        try:
            new_key, secret = keys.issue_key(
                project=form.cleaned_data["project"],
                name=form.cleaned_data["name"],
                created_by=request.user,
                monthly_credit_budget=form.cleaned_data["monthly_credit_budget"],
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            created, form = {"new_key": new_key, "secret": secret}, KeyForm(account=account)
    return _render_keys(request, form, **created)


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def key_revoke(request: DashboardRequest, pk: int) -> HttpResponse:
    """Confirm (GET, the no-JavaScript path) or revoke (POST) one of the account's keys."""
    account = request.seat.account
    key = get_object_or_404(
        APIKey.objects.select_related("project"), pk=pk, project__account=account
    )
    if request.method == "GET":
        return render(request, "billing/key_revoke.html", {"key": key})
    keys.revoke_key(key=key)
    notice = f"The key “{key.name}” is revoked: requests with it now get a 401."
    if request.htmx:
        return _render_keys(request, KeyForm(account=account), notice=notice)
    messages.success(request, notice)
    return redirect("keys")


@require_http_methods(["POST"])
@member_required(ADMIN)
def key_budget(request: DashboardRequest, pk: int) -> HttpResponse:
    """Set or clear one of the account's keys' monthly credit budget."""
    account = request.seat.account
    key = get_object_or_404(APIKey, pk=pk, project__account=account)
    form = BudgetForm(request.POST)
    if form.is_valid():
        try:
            keys.set_budget(
                key=key, monthly_credit_budget=form.cleaned_data["monthly_credit_budget"]
            )
        except ServiceError as exc:
            form.add_service_error(exc, default="monthly_credit_budget")
    if form.errors:
        context = {"budget_form": form, "budget_key": key.pk}
        return _render_keys(request, KeyForm(account=account), status=400, **context)
    budget = key.monthly_credit_budget
    limit = f"{budget:,.2f} credits a month" if budget is not None else "no limit but the balance"
    notice = f"The key “{key.name}” now has a budget of {limit}."
    if request.htmx:
        return _render_keys(request, KeyForm(account=account), notice=notice)
    messages.success(request, notice)
    return redirect("keys")


def _render_keys(
    request: DashboardRequest, form: KeyForm, *, status: int = 200, **context: Any
) -> HttpResponse:
    account = request.seat.account
    api_keys = (
        APIKey.objects.filter(project__account=account)
        .with_month_spend()
        .select_related("project")
        .order_by("-created_at", "-id")
    )
    page = Paginator(api_keys, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {
        "form": form,
        "page": page,
        "has_projects": account.projects.exists(),
        "month": month_start(),
    }
    return render_page(request, "billing/keys.html", context, partial="keys-panel", status=status)
