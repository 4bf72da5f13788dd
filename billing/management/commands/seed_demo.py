"""Create the demo data ``make run`` serves; running it again changes nothing."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from billing import ledger
from billing.accounts import add_member, create_account, create_project
from billing.keys import issue_key
from billing.models import Account, Membership
from billing.plans import get_plan

from ._common import domain_errors

ADMIN = "admin"
DEMO_CREDITS = 1000


class Command(BaseCommand):
    help = "Create an admin login, a Demo account (Pro) with a project, an API key and credits."

    def handle(self, *args: Any, **options: Any) -> None:
        with domain_errors(), transaction.atomic():
            user, password = _admin_user()
            found = Account.objects.filter(slug="demo").first()
            new_account = found is None
            if found is None:
                account = create_account(name="Demo", slug="demo", plan=get_plan("pro"))
                ledger.grant(account=account, amount=DEMO_CREDITS, memo="Demo credits")
            else:
                account = found
            add_member(account=account, user=user, role=Membership.Role.ADMIN)
            project = account.projects.filter(slug="demo").first()
            raw = None
            if project is None:
                project = create_project(account=account, name="demo")
                _, raw = issue_key(project=project, name="demo", created_by=user)
        self._report(password, account, raw, new_account)

    def _report(
        self, password: str | None, account: Account, raw: str | None, new_account: bool
    ) -> None:
        if password:
            self.stdout.write(f"Admin login: {ADMIN}  password: {password}  (shown once)")
        else:
            self.stdout.write(
                f"Admin login: {ADMIN}  (password unchanged; reset: .venv/bin/python manage.py changepassword {ADMIN})"
            )
        credits = ledger.available_of(account)
        state = "created" if new_account else "already there"
        self.stdout.write(
            f"Demo account {account.slug!r} ({account.plan.name}) {state}: project 'demo', {credits} credits available."
        )
        if raw:
            self.stdout.write(f"API key (shown once): {raw}")
        else:
            self.stdout.write(
                "Make a new API key with: .venv/bin/python manage.py createapikey --project demo"
            )


def _admin_user() -> tuple[Any, str | None]:
    """Return the admin superuser, and its new password if this call created it."""
    User = get_user_model()
    user = User.objects.filter(username=ADMIN).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    user = User.objects.create_superuser(username=ADMIN, email="admin@localhost", password=password)
    return user, password
