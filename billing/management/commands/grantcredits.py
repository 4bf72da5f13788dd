from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing import ledger

from ._common import domain_errors, get_account


class Command(BaseCommand):
    help = "Grant credits to an account (a new ledger entry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("amount", help="a positive number with at most two decimals")
        parser.add_argument("--account", required=True, help="the account's slug")
        parser.add_argument("--memo", required=True, help="why, kept in the ledger")
        parser.add_argument("--kind", default="grant", choices=["grant", "purchase"])

    def handle(self, *args: Any, **options: Any) -> None:
        account = get_account(options["account"])
        if not options["memo"].strip():
            raise CommandError("A memo is required: say why the credits are granted.")
        with domain_errors():
            entry = ledger.grant(
                account=account,
                amount=options["amount"],
                memo=options["memo"].strip(),
                kind=options["kind"],
            )
        self.stdout.write(
            f"Granted {entry.amount} credits to {account.slug!r}; balance now {entry.balance_after}."
        )
