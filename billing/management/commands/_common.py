"""Lookups shared by the billing commands: clear CommandErrors instead of tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError

from billing.models import Account, Project
from railsite.errors import ServiceError


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn a domain error raised inside the block into a CommandError."""
    try:
        yield
    except ServiceError as exc:
        raise CommandError(exc.message) from exc


def get_account(slug: str) -> Account:
    """Return the account with this slug, or raise a CommandError listing some."""
    account = Account.objects.select_related("plan").filter(slug=slug).first()
    if account is None:
        known = ", ".join(Account.objects.values_list("slug", flat=True)[:10]) or "none yet"
        raise CommandError(f"Unknown account {slug!r} (accounts: {known}).")
    return account


def get_project(slug: str, account_slug: str | None = None) -> Project:
    """Return the project with this slug (in the account, if given), or raise a CommandError."""
    projects = Project.objects.select_related("account").filter(slug=slug)
    if account_slug:
        projects = projects.filter(account=get_account(account_slug))
    found = list(projects[:2])
    if not found:
        raise CommandError(f"Unknown project {slug!r}.")
    if len(found) > 1:
        raise CommandError(f"Several accounts have a project {slug!r}: add --account SLUG.")
    return found[0]
