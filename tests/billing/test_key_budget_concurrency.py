"""Concurrent calls of one key on real PostgreSQL never pass its monthly budget together."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing import ledger
from billing.errors import KeyBudgetExceeded
from billing.models import APIKey, Hold
from tests.billing.test_ledger import assert_reconciles
from tests.billing.test_ledger_concurrency import race
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory
from tests.helpers import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

CALLERS = 30
PRICE = D("7")
BUDGET = D("50")


def test_thirty_concurrent_holds_of_seven_under_a_budget_of_50_let_exactly_seven_through():
    account = AccountFactory(credits=D("1000"))  # plenty: only the budget can stop them
    key = APIKeyFactory(project=ProjectFactory(account=account), monthly_credit_budget=BUDGET)
    results = race(
        lambda i: ledger.hold(account=account, amount=PRICE, reference=f"req_{i}", api_key=key),
        CALLERS,
    )
    passed = [r for r in results if isinstance(r, Hold)]
    stopped = [r for r in results if isinstance(r, KeyBudgetExceeded)]
    assert len(passed) == 7  # 7 x 7 = 49 <= 50 < 56
    assert len(stopped) == CALLERS - 7
    spent = APIKey.objects.filter(pk=key.pk).with_month_spend().get().month_spent
    assert spent == D("49")
    assert spent <= BUDGET
    assert_reconciles(account)


def test_concurrent_settles_and_holds_spend_at_most_the_budget():
    account = AccountFactory(credits=D("1000"))
    key = APIKeyFactory(project=ProjectFactory(account=account), monthly_credit_budget=BUDGET)

    def call(i: int) -> object:
        held = ledger.hold(account=account, amount=PRICE, reference=f"req_{i}", api_key=key)
        return ledger.settle(hold=held, used=D("3"))  # each call returns 4 of its 7

    results = race(call, CALLERS)
    settled = [r for r in results if isinstance(r, Hold)]
    assert all(isinstance(r, Hold | KeyBudgetExceeded) for r in results)
    spent = APIKey.objects.filter(pk=key.pk).with_month_spend().get().month_spent
    assert spent == D("3") * len(settled)
    assert spent <= BUDGET
    assert len(settled) >= 7  # at least as many as fit at their worst case
    assert_reconciles(account)
