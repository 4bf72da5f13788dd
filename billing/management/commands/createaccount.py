from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from billing.accounts import add_member, create_account
from billing.models import Membership
from billing.plans import get_plan

from ._common import domain_errors


class Command(BaseCommand):
    help = "Create an account (an organization) on a plan, optionally with an admin member."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--plan", default="free", help="free, pro, business or enterprise")
        parser.add_argument("--slug", default="", help="defaults to the slugified name")
        parser.add_argument(
            "--admin-email", default="", help="make this user (created if new) an admin"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["admin_email"].strip()
        if email:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise CommandError(f"{email!r} is not a valid e-mail address.") from exc
        with domain_errors(), transaction.atomic():
            account = create_account(
                name=options["name"], plan=get_plan(options["plan"]), slug=options["slug"]
            )
            if email:
                add_member(account=account, user=_user_for(email), role=Membership.Role.ADMIN)
        self.stdout.write(
            f"Created account {account.slug!r} ({account.name}) on the {account.plan.name} plan."
        )
        if email:
            self.stdout.write(f"{email} is its admin.")


def _user_for(email: str) -> Any:
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        user = User.objects.create_user(username=email, email=email)  # no usable password yet
    return user
