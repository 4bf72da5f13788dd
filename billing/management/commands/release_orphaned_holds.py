from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import ledger


class Command(BaseCommand):
    help = "Release credit holds left open by crashed workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-minutes", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than_minutes"]
        if minutes < 1:
            raise CommandError("--older-than-minutes must be at least 1.")
        released = ledger.release_orphaned_holds(older_than=timedelta(minutes=minutes))
        self.stdout.write(f"Released {released} orphaned hold(s).")
