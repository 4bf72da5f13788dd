from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.keys import issue_key

from ._common import domain_errors, get_project


class Command(BaseCommand):
    help = "Create an API key for a project and print it: it is shown only this once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="the project's slug")
        parser.add_argument(
            "--account", default=None, help="the account's slug, if several have the project"
        )
        parser.add_argument("--name", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        project = get_project(options["project"], options["account"])
        with domain_errors():
            key, raw = issue_key(project=project, name=options["name"])
        self.stdout.write(f"API key {key.name!r} for {project}:")
        self.stdout.write(raw)
        self.stdout.write("Store it now: it is shown only once (only its hash is kept).")
