"""A stateful property test of the ledger (T03): any sequence of grants, holds,
settlements, releases, refunds and crashes keeps the books right after every step."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from billing import ledger
from billing.errors import HoldClosed, InsufficientCredits, InvalidAmount
from billing.models import Hold, LedgerEntry
from tests.billing.test_ledger import assert_reconciles
from tests.factories import AccountFactory

amounts = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)
fractions = st.sampled_from([D("0"), D("0.25"), D("0.5"), D("1")])


class LedgerMachine(RuleBasedStateMachine):
    """Drive the ledger and a model of it side by side."""

    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.account = AccountFactory()
        self.balance = D("0")
        self.open: dict[int, D] = {}
        self.closed: set[int] = set()
        self.charged: dict[str, D] = {}
        self.seen: dict[int, tuple] = {}
        self.counter = itertools.count()

    @rule(amount=amounts)
    def top_up(self, amount):
        ledger.grant(account=self.account, amount=amount, memo="top-up")
        self.balance += amount

    @rule(target=holds, amount=amounts)
    def hold(self, amount):
        available = self.balance - sum(self.open.values())
        try:
            held = ledger.hold(
                account=self.account, amount=amount, reference=f"req_{next(self.counter)}"
            )
        except InsufficientCredits:
            assert amount > available
            return None
        assert amount <= available
        self.open[held.pk] = amount
        return held

    @rule(held=consumes(holds), fraction=fractions)
    def capture(self, held, fraction):
        if held is None or held.pk not in self.open:
            return
        used = (held.amount * fraction).quantize(D("0.01"))
        ledger.settle(hold=held, used=used)
        self.balance -= used
        self.charged[held.reference] = used
        del self.open[held.pk]
        self.closed.add(held.pk)

    @rule(held=consumes(holds))
    def release(self, held):
        if held is None or held.pk not in self.open:
            return
        ledger.release(hold=held)
        del self.open[held.pk]
        self.closed.add(held.pk)

    @rule(held=holds)
    def close_again(self, held):
        if held is None or held.pk not in self.closed:
            return
        with pytest.raises(HoldClosed):
            ledger.release(hold=held)

    @rule(data=st.data())
    def refund(self, data):
        refundable = {ref: used for ref, used in self.charged.items() if used > 0}
        if not refundable:
            return
        reference = data.draw(st.sampled_from(sorted(refundable)))
        amount = data.draw(
            st.decimals(min_value=D("0.01"), max_value=refundable[reference] + 1, places=2)
        )
        try:
            ledger.refund(account=self.account, amount=amount, reference=reference)
        except InvalidAmount:
            assert amount > refundable[reference]
            return
        self.charged[reference] -= amount
        self.balance += amount

    @rule()
    def crash_then_sweep(self):
        """A worker dies between hold and capture; the orphan sweep returns its credits."""
        Hold.objects.filter(account=self.account, state=Hold.State.OPEN).update(
            created_at=timezone.now() - timedelta(hours=2)
        )
        ledger.release_orphaned_holds(timedelta(hours=1))
        self.closed.update(self.open)
        self.open.clear()

    @invariant()
    def books_balance(self):
        assert ledger.balance_of(self.account) == self.balance
        assert ledger.available_of(self.account) == self.balance - sum(self.open.values()) >= 0
        assert_reconciles(self.account)

    @invariant()
    def entries_are_never_changed(self):
        rows = LedgerEntry.objects.filter(account=self.account).values_list(
            "id", "kind", "amount", "held_change", "balance_after", "held_after"
        )
        now = {row[0]: row for row in rows}
        assert all(now.get(pk) == row for pk, row in self.seen.items())
        self.seen = now


@pytest.mark.django_db
def test_the_ledger_keeps_its_invariants_under_any_sequence_of_operations():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=200,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
