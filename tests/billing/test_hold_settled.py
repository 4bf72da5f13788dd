"""``ledger.hold_settled``: a hold and its settlement at once, with the caller's rows.

It must leave exactly what ``hold`` then ``settle`` leave (the hold, its entries and their
running totals), refuse what ``hold`` refuses while writing nothing, and on PostgreSQL do
it in one statement however the statement is bound.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import ledger
from billing.errors import InsufficientCredits, InvalidAmount, KeyBudgetExceeded
from billing.models import Hold, LedgerEntry
from regen.models import Iteration, Run
from tests.billing.test_ledger import assert_reconciles
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory

ENTRY = ("kind", "amount", "held_change", "balance_after", "held_after", "memo")


def _entries(reference):
    return list(LedgerEntry.objects.filter(reference=reference).order_by("id").values_list(*ENTRY))


def _hold_row(reference):
    return Hold.objects.filter(reference=reference).values("amount", "used", "state", "memo").get()


@pytest.fixture(params=["prepared", "client-bound"])
def binding(request, monkeypatch):
    """Both ways the statement can be sent: prepared on the server (the default) and
    bound on the client (DATABASE_PREPARE=false)."""
    if request.param == "client-bound":
        options = dict(connection.settings_dict["OPTIONS"])
        options.pop("prepare_threshold", None)
        monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    return request.param


@pytest.mark.parametrize("used", ["0", "4.50", "10"])
def test_it_leaves_what_a_hold_then_a_settlement_leave(db, binding, used):
    at_once, in_steps = AccountFactory(credits=25), AccountFactory(credits=25)
    ledger.hold(account=at_once, amount=3, reference="other")  # an open hold: held is not 0
    ledger.hold(account=in_steps, amount=3, reference="other")
    settled = ledger.hold_settled(
        account=at_once, amount=10, used=used, reference="req_a", memo="safe_regenerate"
    )
    held = ledger.hold(account=in_steps, amount=10, reference="req_b", memo="safe_regenerate")
    ledger.settle(hold=held, used=used)

    assert _entries("req_a") == _entries("req_b")
    assert _hold_row("req_a") == _hold_row("req_b") == {
        "amount": D(10), "used": D(used), "state": "settled", "memo": "safe_regenerate"
    }  # fmt: skip
    assert (settled.state, settled.used, settled.amount) == ("settled", D(used), D(10))
    assert ledger.balance_of(at_once) == ledger.balance_of(in_steps) == 25 - D(used)
    assert ledger.available_of(at_once) == 22 - D(used)
    assert_reconciles(at_once)


def test_it_writes_the_callers_rows_with_the_hold_in_one_statement(db, binding):
    project = ProjectFactory(account=AccountFactory(credits=20))
    key = APIKeyFactory(project=project)
    run = Run(account=project.account, project=project, api_key=key, request={}, status="passed")
    versions = [
        Iteration(
            run=run,
            index=i,
            content=f"v{i}",
            score=7.5,
            confidence=0.8,
            evaluation={"s": [i]},
            thresholds_met={},
            passed=i == 1,
        )  # fmt: skip
        for i in range(2)
    ]
    with CaptureQueriesContext(connection) as statements:
        settled = ledger.hold_settled(
            account=project.account,
            amount=8,
            used=2,
            reference=run.req_id,
            api_key=key,
            rows=[run, *versions],
            hold_on=run,
        )
    stored = Run.objects.get()
    assert stored.id == run.id
    assert stored.hold_id == settled.id == run.hold.id
    assert (stored.api_key_id, stored.response, stored.created_at) == (key.id, None, run.created_at)
    assert list(
        Iteration.objects.filter(run=run).values_list("index", "content", "evaluation")
    ) == [
        (0, "v0", {"s": [0]}),
        (1, "v1", {"s": [1]}),
    ]
    assert not run._state.adding
    assert all(not v._state.adding for v in versions)
    assert ledger.balance_of(project.account) == 18
    if connection.vendor == "postgresql":
        assert len(statements) == 1, [q["sql"][:80] for q in statements.captured_queries]
    assert_reconciles(project.account)


def test_short_credits_write_nothing_not_even_the_callers_rows(db, binding):
    account = AccountFactory(credits=5)
    ledger.hold(account=account, amount=2, reference="other")  # 3 available
    run = Run(account=account, request={}, status="passed")
    with pytest.raises(InsufficientCredits) as info:
        ledger.hold_settled(
            account=account, amount="3.01", used=1, reference=run.req_id, rows=[run], hold_on=run
        )
    assert (info.value.balance, info.value.required) == (D(3), D("3.01"))
    assert not Run.objects.exists()
    assert not Hold.objects.filter(reference=run.req_id).exists()
    assert not LedgerEntry.objects.filter(reference=run.req_id).exists()
    assert ledger.balance_of(account) == 5
    assert ledger.available_of(account) == 3


def test_more_used_than_held_is_refused_before_anything(db):
    account = AccountFactory(credits=20)
    with pytest.raises(InvalidAmount):
        ledger.hold_settled(account=account, amount=2, used="2.01", reference="req_1")
    assert not Hold.objects.exists()
    assert ledger.balance_of(account) == 20


def test_a_key_budget_stops_it_and_keeps_the_callers_rows_out(db):
    project = ProjectFactory(account=AccountFactory(credits=100))
    key = APIKeyFactory(project=project, monthly_credit_budget=10)
    ledger.hold_settled(account=project.account, amount=6, used=6, reference="r1", api_key=key)
    run = Run(account=project.account, project=project, api_key=key, request={})
    with pytest.raises(KeyBudgetExceeded):
        ledger.hold_settled(
            account=project.account,
            amount=6,
            used=1,
            reference=run.req_id,
            api_key=key,
            rows=[run],
            hold_on=run,
        )
    assert not Run.objects.exists()
    assert ledger.balance_of(project.account) == 94
    assert_reconciles(project.account)
