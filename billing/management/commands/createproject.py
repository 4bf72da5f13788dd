from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.accounts import create_project

from ._common import domain_errors, get_account


class Command(BaseCommand):
    help = "Create a project (the SDK's application) in an account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--account", required=True, help="the account's slug")
        parser.add_argument("--slug", default="", help="defaults to the slugified name")
        parser.add_argument("--environment", default="production")

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account(options["account"])
        with domain_errors():
            project = create_project(
                account=account,
                name=options["name"],
                slug=options["slug"],
                environment=options["environment"],
            )
        self.stdout.write(
            f"Created project {project.slug!r} ({project.environment}) in {account.slug!r}."
        )
