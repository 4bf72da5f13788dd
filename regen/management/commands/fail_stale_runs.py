from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from regen import runs


class Command(BaseCommand):
    help = "Fail queued or running runs whose task was lost, releasing their credit holds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-minutes", type=int, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than_minutes"]
        if minutes < 1:
            raise CommandError("--older-than-minutes must be at least 1.")
        failed = runs.fail_stale_runs(older_than=timedelta(minutes=minutes))
        self.stdout.write(f"Failed {failed} stale run(s).")
