"""Re-encrypt every account provider key under the newest of ``RAIL_ENCRYPTION_KEYS``."""

from typing import Any

from django.core.management.base import BaseCommand

from billing import provider_keys


class Command(BaseCommand):
    help = "Re-encrypt the accounts' provider keys under the first RAIL_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = provider_keys.rotate_all()
        self.stdout.write(f"re-encrypted {count} provider key(s)")
