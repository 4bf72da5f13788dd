"""The credits page: balance, usage per day and the ledger; staff grant or adjust credits."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import Account, CreditAccount, LedgerEntry
from billing.pages.forms import CreditChangeForm, LedgerFilterForm
from railsite.rendering import render_page
from regen import charts

PAGE_SIZE = 25
USAGE_DAYS = 30


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def credits_page(request: DashboardRequest) -> HttpResponse:
    """Balance, usage chart and ledger; staff may grant or adjust credits with a reason."""
    account = request.seat.account
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
    return render_page(request, "billing/credits.html", context, partial="ledger")


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
