"""The dashboard's view of who is asking: the current account and the member's role.

A member may belong to several accounts; the one they work in is kept in the session
(switched with ``?account=<slug>``). Every page view is wrapped in ``member_required``
with the roles it allows, so a reviewer cannot open an admin page (403) and a user
who is not a member of the account sees nothing of it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django_htmx.middleware import HtmxDetails

from billing.models import Account, Membership

ADMIN, REVIEWER, VIEWER = Membership.Role.ADMIN, Membership.Role.REVIEWER, Membership.Role.VIEWER
ANY_ROLE = (ADMIN, REVIEWER, VIEWER)
SESSION_KEY = "railsite_account"
View = Callable[..., HttpResponse]


@dataclass(frozen=True, slots=True)
class Seat:
    """The account a member works in, and their role there (staff act as admins)."""

    account: Account
    role: str

    @property
    def can_decide(self) -> bool:
        return self.role in (ADMIN, REVIEWER)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


class DashboardRequest(HttpRequest):
    """A dashboard request as the views see it (for the type checker; never built).

    ``htmx`` is set by django-htmx's middleware on every request; ``seat`` by
    ``member_required`` before the view runs.
    """

    htmx: HtmxDetails
    seat: Seat


NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Playground", "playground", (ADMIN, REVIEWER)),
    ("Runs", "runs", ANY_ROLE),
    ("Review queue", "review-queue", ANY_ROLE),
    ("What-if", "what-if", (ADMIN, REVIEWER)),
    ("A/B", "comparisons", (ADMIN, REVIEWER)),
    ("API keys", "keys", (ADMIN,)),
    ("Credits", "credits", (ADMIN,)),
    ("Projects", "projects", (ADMIN,)),
    ("Members", "members", (ADMIN,)),
)


def seat_for(request: HttpRequest) -> Seat | None:
    """Return the member's seat in the current account, switching it on ``?account=``."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("account__plan")
    wanted = request.GET.get("account") or request.session.get(SESSION_KEY)
    chosen = next((m for m in memberships if m.account.slug == wanted), None)
    if chosen is None and user.is_staff and wanted:
        account = Account.objects.select_related("plan").filter(slug=wanted).first()
        if account is not None:
            _remember(request, account.slug)
            return Seat(account, ADMIN)
    chosen = chosen or next(iter(memberships), None)
    if chosen is None:
        if user.is_staff:
            account = Account.objects.select_related("plan").order_by("name").first()
            return Seat(account, ADMIN) if account else None
        return None
    _remember(request, chosen.account.slug)
    return Seat(chosen.account, ADMIN if user.is_staff else chosen.role)


def _remember(request: HttpRequest, slug: str) -> None:
    """Keep the account in the session, writing the session only when it changes."""
    if request.session.get(SESSION_KEY) != slug:
        request.session[SESSION_KEY] = slug


def member_required(*roles: str) -> Callable[[View], View]:
    """Let in members of the current account whose role is one of ``roles``; 403 others."""
    allowed = roles or ANY_ROLE

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: DashboardRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:
                    # an expired session must not render the log-in page inside a panel:
                    # htmx sends the whole window to the log-in, back to the page after
                    here = request.htmx.current_url_abs_path or request.get_full_path()
                    login = redirect_to_login(here)["Location"]
                    return HttpResponse(status=204, headers={"HX-Redirect": login})
                return redirect_to_login(request.get_full_path())
            seat = seat_for(request)
            if seat is None or seat.role not in allowed:
                raise PermissionDenied("Your role in this account does not allow this page.")
            request.seat = seat
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the current seat, the member's accounts and the links they may use."""
    seat = getattr(request, "seat", None)
    if seat is None or not request.user.is_authenticated:
        return {}
    if getattr(request, "htmx", False):
        return {"seat": seat}  # a partial has no navigation bar
    accounts = Account.objects.visible_to(request.user).order_by("name")
    links = []
    for label, name, roles in NAV:
        if seat.role in roles:
            try:
                links.append((label, reverse(name), name))
            except NoReverseMatch:  # a page this deployment does not serve
                continue
    return {"seat": seat, "nav_links": links, "nav_accounts": list(accounts[:50])}
