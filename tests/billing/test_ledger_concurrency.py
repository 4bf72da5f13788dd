"""Concurrent spending on real PostgreSQL (T01, T02): no credit is ever spent twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from billing import ledger
from billing.errors import InsufficientCredits
from billing.models import CreditAccount, LedgerEntry
from tests.billing.test_ledger import assert_reconciles
from tests.factories import AccountFactory
from tests.helpers import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

CALLERS = 50
PRICE = D("7")
FUNDS = D("140")


def race(action: Callable[[int], object], n: int = CALLERS) -> list[object]:
    """Run ``action(i)`` in n threads released together; return results or exceptions."""
    start = threading.Barrier(n)

    def run(i: int) -> object:
        start.wait()
        try:
            return action(i)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def watch_balance(account, stop: threading.Event, lows: list[D]) -> None:
    """Record the lowest available balance seen while the race runs."""
    try:
        while not stop.is_set():
            lows.append(ledger.available_of(account))
    finally:
        connection.close()


def test_fifty_concurrent_holds_of_seven_against_140_let_exactly_twenty_through():
    account = AccountFactory(credits=FUNDS)
    stop, lows = threading.Event(), []
    watcher = threading.Thread(target=watch_balance, args=(account, stop, lows))
    watcher.start()
    results = race(lambda i: ledger.hold(account=account, amount=PRICE, reference=f"req_{i}"))
    stop.set()
    watcher.join()
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(refused) == 30, [r for r in results if isinstance(r, Exception) and r not in refused]
    assert sum(1 for r in results if not isinstance(r, Exception)) == 20
    assert min(lows) >= 0
    assert ledger.available_of(account) == 0
    assert_reconciles(account)


def test_concurrent_holds_and_settlements_keep_the_ledger_reconciled():
    account = AccountFactory(credits=FUNDS)

    def call(i: int) -> D:
        held = ledger.hold(account=account, amount=PRICE, reference=f"req_{i}")
        if i % 3:
            ledger.settle(hold=held, used=D(i % 7))
            return D(i % 7)
        ledger.release(hold=held)
        return D(0)

    results = race(call, n=30)
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientCredits)
    ]
    assert not unexpected
    charged = sum(r for r in results if isinstance(r, D))
    assert ledger.balance_of(account) == FUNDS - charged
    assert ledger.available_of(account) == FUNDS - charged
    assert_reconciles(account)


def test_concurrent_settlements_of_one_hold_charge_it_once():
    account = AccountFactory(credits=FUNDS)
    held = ledger.hold(account=account, amount=PRICE, reference="req_once")
    results = race(
        lambda i: ledger.settle(hold=held, used=5) if i % 2 else ledger.release(hold=held), n=10
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert LedgerEntry.objects.filter(reference="req_once", kind__in=["charge"]).count() <= 1
    assert_reconciles(account)


def naive_debit(account, amount: D) -> None:
    """Read, check, write: the read-modify-write the ledger must never do (test only)."""
    with transaction.atomic():
        credits = CreditAccount.objects.get(account=account)
        if credits.balance - credits.held < amount:
            raise InsufficientCredits(balance=credits.balance, required=amount)
        CreditAccount.objects.filter(pk=credits.pk).update(balance=credits.balance - amount)


def test_the_harness_catches_a_naive_read_modify_write_debit():
    """Negative control: the same race finds lost updates in a naive debit within 20 rounds."""
    for _ in range(20):
        account = AccountFactory(credits=FUNDS)
        results = race(lambda i, account=account: naive_debit(account, PRICE))
        succeeded = sum(1 for r in results if r is None)
        spent = FUNDS - CreditAccount.objects.get(account=account).balance
        if succeeded > 20 or spent != succeeded * PRICE:
            return
    pytest.fail("20 rounds of 50 racing naive debits showed no lost update: the harness is blind")
