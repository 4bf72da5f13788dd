"""``manage.py run_cleanups [--every SECONDS]``: the periodic clean-ups (regen.cleanups)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from regen.cleanups import sweep


class Command(BaseCommand):
    help = (
        "Fail lost runs, release orphaned holds, expire sessions and forget old idempotency "
        "keys: once, or every --every seconds until stopped (make run starts it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every < 0:
            raise CommandError("--every must be positive.")
        while True:
            try:
                done = sweep()
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in done.items()))
            except Exception as error:  # a database hiccup must not end the loop
                if not every:
                    raise
                self.stderr.write(f"clean-up failed: {error}")
            finally:
                close_old_connections()
            if not every:
                return
            time.sleep(every)
