"""Pages that belong to no app: the home redirect and the staff overview of accounts."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from billing.dashboard import member_required, navigation, seat_for
from billing.models import Account


@member_required()
def home(request: HttpRequest) -> HttpResponse:
    """Send members to the first page their role may use."""
    links = navigation(request).get("nav_links", [])
    if links:
        return redirect(links[0][1])
    return render(request, "home.html")


@staff_member_required
def staff_accounts(request: HttpRequest) -> HttpResponse:
    """List every account with its plan, balance and size (platform staff only)."""
    request.seat = seat_for(request)  # type: ignore[attr-defined]  # the navigation bar
    accounts = (
        Account.objects.select_related("plan", "credits")
        .annotate(
            members=Count("memberships", distinct=True),
            projects_count=Count("projects", distinct=True),
        )
        .order_by("name")
    )
    return render(request, "staff_accounts.html", {"accounts": accounts})
