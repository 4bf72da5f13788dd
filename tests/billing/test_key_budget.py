"""A key's monthly credit budget: the ledger stops a hold that would pass it (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import keys, ledger
from billing.errors import KeyBudgetExceeded
from billing.models import APIKey, CreditAccount, Hold, LedgerEntry, month_start, next_month_start
from railsite.errors import RequestValidationError
from tests.billing.test_ledger import assert_reconciles
from tests.factories import APIKeyFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget_key(account_a):
    return APIKeyFactory(project=ProjectFactory(account=account_a), monthly_credit_budget=D("10"))


def hold(key, amount, reference="req"):
    return ledger.hold(
        account=key.project.account, amount=D(amount), reference=reference, api_key=key
    )


def test_a_hold_within_the_budget_passes_and_is_attributed_to_the_key(budget_key):
    held = hold(budget_key, "10")
    assert held.api_key_id == budget_key.pk


def test_a_hold_that_would_pass_the_budget_raises_and_writes_nothing(budget_key, account_a):
    hold(budget_key, "7")
    entries = LedgerEntry.objects.count()
    with pytest.raises(KeyBudgetExceeded) as caught:
        hold(budget_key, "4", "req_2")
    assert caught.value.status == 402
    assert caught.value.code == "KEY_BUDGET_EXCEEDED"
    assert Hold.objects.filter(reference="req_2").exists() is False
    assert LedgerEntry.objects.count() == entries
    assert CreditAccount.objects.get(account=account_a).held == D("7")
    assert_reconciles(account_a)


def test_the_error_carries_the_budget_what_was_spent_and_the_month(budget_key):
    hold(budget_key, "7")
    with pytest.raises(KeyBudgetExceeded) as caught:
        hold(budget_key, "4")
    body = caught.value.body()
    now = datetime.now(UTC)
    assert body["code"] == "KEY_BUDGET_EXCEEDED"
    assert body["details"]["budget"] == 10.0
    assert body["details"]["spent"] == 7.0
    assert body["details"]["required"] == 4.0
    assert body["details"]["remaining"] == 3.0
    assert body["details"]["month"] == f"{now:%Y-%m}"
    assert body["details"]["resets_at"] == next_month_start(now).isoformat().replace("+00:00", "Z")
    assert "7.00 of 10.00" in body["error"]


def test_open_holds_count_in_full_settled_ones_what_they_charged_released_ones_nothing(
    budget_key,
):
    ledger.settle(hold=hold(budget_key, "6", "settled"), used=D("2"))  # counts 2
    ledger.release(hold=hold(budget_key, "8", "released"))  # counts 0
    hold(budget_key, "5", "open")  # counts 5: 7 spent
    hold(budget_key, "3", "fits")  # 10: exactly the budget
    with pytest.raises(KeyBudgetExceeded):
        hold(budget_key, "0.01", "over")


def test_last_months_spending_does_not_count(budget_key):
    old = hold(budget_key, "10", "old")
    Hold.objects.filter(pk=old.pk).update(created_at=month_start() - timedelta(seconds=1))
    hold(budget_key, "10", "new")


def test_other_keys_and_the_dashboards_spending_do_not_count(budget_key, account_a):
    other = APIKeyFactory(project=budget_key.project)
    hold(other, "50", "other key")
    ledger.hold(account=account_a, amount=D("30"), reference="playground")
    hold(budget_key, "10", "mine")


def test_the_budget_is_read_afresh_at_every_hold(budget_key):
    stale = APIKey.objects.get(pk=budget_key.pk)
    keys.set_budget(key=budget_key, monthly_credit_budget=D("3"))
    with pytest.raises(KeyBudgetExceeded):
        hold(stale, "4")
    keys.set_budget(key=budget_key, monthly_credit_budget=None)
    hold(stale, "4")  # a key loaded with a budget, removed since: no limit


def test_the_credit_balance_still_rules_under_a_large_budget(account_a):
    from billing.errors import InsufficientCredits

    key = APIKeyFactory(project=ProjectFactory(account=account_a), monthly_credit_budget=D("1000"))
    with pytest.raises(InsufficientCredits):
        hold(key, "101")


def test_a_key_without_a_budget_costs_the_hold_no_extra_query(account_a, key_a):
    with CaptureQueriesContext(connection) as plain:
        ledger.hold(account=account_a, amount=D("1"), reference="a")
    with CaptureQueriesContext(connection) as keyed:
        hold(key_a, "1", "b")
    assert len(keyed) == len(plain)


@pytest.mark.parametrize("bad", ["0", "-5", "1.234", "abc", "2000000000"])
def test_a_budget_must_be_a_positive_amount_of_at_most_two_decimals(key_a, bad):
    with pytest.raises(RequestValidationError) as caught:
        keys.set_budget(key=key_a, monthly_credit_budget=bad)
    assert "monthly_credit_budget" in caught.value.extra["details"]
    assert APIKey.objects.get(pk=key_a.pk).monthly_credit_budget is None


def test_the_keys_month_spend_is_aggregated_in_one_query(budget_key, account_a):
    ledger.settle(hold=hold(budget_key, "6", "a"), used=D("2"))
    hold(budget_key, "3", "b")
    with CaptureQueriesContext(connection) as queries:
        spent = {k.pk: k.month_spent for k in APIKey.objects.with_month_spend()}
    assert len(queries) == 1
    assert spent[budget_key.pk] == D("5")


@pytest.mark.parametrize(
    ("now", "start", "after"),
    [
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC),
         datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC),
         datetime(2026, 4, 1, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_a_month_is_the_calendar_month_in_utc(now, start, after):
    assert month_start(now) == start
    assert next_month_start(now) == after
