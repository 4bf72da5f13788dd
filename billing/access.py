"""Permission-checked fetches for the pages and the API: no account sees another's data.

A user who is not a member of an account gets ``NotFound`` for it, exactly as for an
account that does not exist, so existence does not leak. A member whose role does not
allow an action gets ``PermissionDenied``. Platform staff may do everything.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from billing.errors import PermissionDenied
from billing.models import Account, Membership, Project
from railsite.errors import NotFound

Role = Membership.Role
STAFF = "staff"


def role_of(user: Any, account: Account) -> str | None:
    """Return the user's role in the account, ``"staff"`` for staff, or None."""
    if getattr(user, "is_staff", False):
        return STAFF
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user=user, account=account).values_list("role", flat=True).first()
    )


def member_of(user: Any, account: Account) -> bool:
    """Return whether the user may see the account (a member, or staff)."""
    return role_of(user, account) is not None


def require_role(user: Any, account: Account, *roles: str) -> str:
    """Return the user's role if it is one of ``roles`` (any role if none given), else raise."""
    role = role_of(user, account)
    if role is None:
        raise NotFound()
    if roles and role != STAFF and role not in roles:
        raise PermissionDenied(f"This needs the {' or '.join(roles)} role in {account.name}.")
    return role


def accounts_for(user: Any) -> QuerySet[Account]:
    """Return the accounts the user may see."""
    return Account.objects.visible_to(user).select_related("plan")


def get_account_for(user: Any, slug: str) -> Account:
    """Return the account with this slug if the user may see it, else raise NotFound."""
    account = accounts_for(user).filter(slug=slug).first()
    if account is None:
        raise NotFound()
    return account


def projects_for(user: Any) -> QuerySet[Project]:
    """Return the projects of every account the user may see."""
    return Project.objects.filter(account__in=accounts_for(user)).select_related("account")


def get_project_for(user: Any, pk: int) -> Project:
    """Return the project if the user may see its account, else raise NotFound."""
    project = projects_for(user).filter(pk=pk).first()
    if project is None:
        raise NotFound()
    return project
