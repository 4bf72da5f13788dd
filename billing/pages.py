"""Dashboard pages of the billing app: API keys, credits and projects (account admins).

Views parse, authorize, call ``billing.keys`` / ``billing.ledger`` / ``billing.accounts``
and render; an htmx request gets the named partial of the page's own template.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from billing import accounts, keys
from billing.accounts import update_policy
from billing.dashboard import ADMIN, member_required
from billing.forms import (
    CreditChangeForm,
    KeyForm,
    LedgerFilterForm,
    PolicyForm,
    ProjectForm,
)
from billing.models import Account, APIKey, CreditAccount, LedgerEntry, Project
from railsite.errors import ServiceError
from regen import charts
from regen.introspection import config

PAGE_SIZE = 25
USAGE_DAYS = 30


def _template(request: HttpRequest, page: str, partial: str) -> str:
    """Name the page's template, or its partial for an htmx swap (not a history restore)."""
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request:
        return f"billing/{page}.html#{partial}"
    return f"billing/{page}.html"


# --- API keys ---


@never_cache  # the create response carries the only copy of a secret
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def keys_page(request: HttpRequest) -> HttpResponse:
    """List the account's keys; create one and show its secret this once."""
    account = request.seat.account  # type: ignore[attr-defined]
    form = KeyForm(request.POST if request.method == "POST" else None, account=account)
    created: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        try:
            new_key, secret = keys.issue_key(
                project=form.cleaned_data["project"],
                name=form.cleaned_data["name"],
                created_by=request.user,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            created, form = {"new_key": new_key, "secret": secret}, KeyForm(account=account)
    return _render_keys(request, form, **created)


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (GET, the no-JavaScript path) or revoke (POST) one of the account's keys."""
    account = request.seat.account  # type: ignore[attr-defined]
    key = get_object_or_404(
        APIKey.objects.select_related("project"), pk=pk, project__account=account
    )
    if request.method == "GET":
        return render(request, "billing/key_revoke.html", {"key": key})
    keys.revoke_key(key=key)
    notice = f"The key “{key.name}” is revoked: requests with it now get a 401."
    if request.htmx:  # type: ignore[attr-defined]
        return _render_keys(request, KeyForm(account=account), notice=notice)
    messages.success(request, notice)
    return redirect("keys")


def _render_keys(request: HttpRequest, form: KeyForm, **context: Any) -> HttpResponse:
    account = request.seat.account  # type: ignore[attr-defined]
    api_keys = (
        APIKey.objects.filter(project__account=account)
        .select_related("project")
        .order_by("-created_at", "-id")
    )
    page = Paginator(api_keys, PAGE_SIZE).get_page(request.GET.get("page"))
    context |= {"form": form, "page": page, "has_projects": account.projects.exists()}
    return render(request, _template(request, "keys", "keys-panel"), context)


# --- Credits ---


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def credits_page(request: HttpRequest) -> HttpResponse:
    """Balance, usage chart and ledger; staff may grant or adjust credits with a reason."""
    account = request.seat.account  # type: ignore[attr-defined]
    form = None
    if request.user.is_staff:
        form = CreditChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only platform staff change credits.")
        if form.is_valid() and (entry := form.apply(account=account, user=request.user)):
            messages.success(
                request, f"Done: {entry.kind} {entry.amount}; balance now {entry.balance_after}."
            )
            return redirect("credits")
    filters = LedgerFilterForm(request.GET)
    entries = filters.filter(LedgerEntry.objects.filter(account=account))
    page = Paginator(entries.select_related("created_by").order_by("-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "form": form,
        "credits": CreditAccount.objects.get(account=account),
        "usage_figure": _usage_figure(account),
        "usage_days": USAGE_DAYS,
    }
    return render(request, _template(request, "credits", "ledger"), context)


def _usage_figure(account: Account) -> dict[str, Any]:
    """Chart the credits the account was charged per day over the last USAGE_DAYS days."""
    today = timezone.localdate()
    start = today - timedelta(days=USAGE_DAYS - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    rows = (
        LedgerEntry.objects.filter(
            account=account, kind=LedgerEntry.Kind.CHARGE, created_at__gte=since
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(spent=-Sum("amount"))
        .values_list("day", "spent")
        .order_by("day")
    )
    data = [{"day": day, "credits": float(spent)} for day, spent in rows]
    return charts.credits_per_day(
        data, "credits", title="Credits charged per day", start=start, end=today
    )


# --- Projects ---


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def projects_page(request: HttpRequest) -> HttpResponse:
    """List the account's projects with their policy at a glance; create a project."""
    account = request.seat.account  # type: ignore[attr-defined]
    form = ProjectForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            project = accounts.create_project(account=account, **form.cleaned_data)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Project “{project.name}” created with the default policy.")
            return redirect("project-edit", pk=project.pk)
    projects = account.projects.annotate(
        active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
    ).order_by("name")
    return render(request, "billing/projects.html", {"form": form, "projects": projects})


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a project's policy; errors appear beside their fields."""
    account = request.seat.account  # type: ignore[attr-defined]
    project = get_object_or_404(
        Project.objects.select_related("account__plan"), pk=pk, account=account
    )
    form = PolicyForm.for_project(project, request.POST if request.method == "POST" else None)
    saved = False
    if form.is_bound and form.is_valid():
        try:
            update_policy(project=project, **form.policy())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, "Policy saved.")
                return redirect("project-edit", pk=project.pk)
            form, saved = PolicyForm.for_project(project), True
    context = {
        "project": project,
        "form": form,
        "saved": saved,
        "api_view": json.dumps(config(project)["policy"], indent=2),
        "deliveries": project.webhook_deliveries.all()[:10],
    }
    return render(request, _template(request, "project_edit", "policy-form"), context)
