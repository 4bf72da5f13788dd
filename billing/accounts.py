"""Accounts, members and projects: the only code that creates or changes them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from billing.models import Account, Membership, Plan, Project
from railsite.errors import RequestValidationError


def create_account(*, name: str, plan: Plan, slug: str = "") -> Account:
    """Create an account (with its empty credit account) on the plan."""
    name, slug = _name_and_slug(name, slug, what="account")
    if Account.objects.filter(slug=slug).exists():
        raise _invalid("slug", f"An account with the slug {slug!r} already exists.")
    with transaction.atomic():
        return Account.objects.create(name=name, slug=slug, plan=plan)


def add_member(*, account: Account, user: Any, role: str = Membership.Role.VIEWER) -> Membership:
    """Make the user a member of the account with the role (or change their role)."""
    if role not in Membership.Role.values:
        raise _invalid(
            "role", f"Unknown role {role!r}; choose one of: {', '.join(Membership.Role.values)}."
        )
    membership, _ = Membership.objects.update_or_create(
        user=user, account=account, defaults={"role": role}
    )
    return membership


def create_project(
    *, account: Account, name: str, slug: str = "", environment: str = "production"
) -> Project:
    """Create a project of the account, with the default policy."""
    name, slug = _name_and_slug(name, slug, what="project")
    environment = (environment or "").strip()
    if not environment:
        raise _invalid("environment", "A project needs an environment name, e.g. production.")
    if account.projects.filter(slug=slug).exists():
        raise _invalid("slug", f"The account already has a project with the slug {slug!r}.")
    return Project.objects.create(
        account=account, name=name, slug=slug, environment=environment[:40]
    )


def _name_and_slug(name: str, slug: str, *, what: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", f"A {what} needs a name.")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise _invalid(
            "name", f"The {what} name {name!r} gives no usable slug; add letters or digits."
        )
    return name[:120], slug


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})
