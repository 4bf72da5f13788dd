"""The ledger: grants, holds, settlement, release, adjustments, refunds, orphans (T04, T05)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from billing import ledger
from billing.errors import HoldClosed, InsufficientCredits, InvalidAmount
from billing.models import CreditAccount, Hold, LedgerEntry
from railsite.errors import RequestValidationError
from tests.factories import AccountFactory, UserFactory


def assert_reconciles(account):
    """Check the ledger sums to the balance and open holds to the held part."""
    credits = CreditAccount.objects.get(account=account)
    entries = LedgerEntry.objects.filter(account=account)
    open_holds = Hold.objects.filter(account=account, state=Hold.State.OPEN)
    assert credits.balance == total(entries, "amount")
    assert credits.held == total(entries, "held_change") == total(open_holds, "amount")
    assert 0 <= credits.held <= credits.balance
    last = entries.order_by("-id").first()
    if last:
        assert (last.balance_after, last.held_after) == (credits.balance, credits.held)


def total(rows, field: str) -> D:
    """Sum a decimal column, to the cent (SQLite sums in floating point)."""
    return D(str(rows.aggregate(s=Sum(field))["s"] or 0)).quantize(D("0.01"))


@pytest.fixture
def account(db):
    return AccountFactory(credits=20)


def test_a_new_account_starts_with_an_empty_balance(db):
    account = AccountFactory()
    assert ledger.balance_of(account) == 0
    assert ledger.available_of(account) == 0


def test_a_grant_adds_credits_with_the_balance_after_it(account):
    entry = ledger.grant(account=account, amount="5.50", memo="top-up", kind="purchase")
    assert (entry.kind, entry.amount, entry.balance_after) == ("purchase", D("5.50"), D("25.50"))
    assert_reconciles(account)


@pytest.mark.parametrize("amount", ["-1", "0", "abc", "1.005", "NaN", "Infinity", ""])
def test_a_grant_of_a_bad_amount_changes_nothing(account, amount):
    with pytest.raises(InvalidAmount):
        ledger.grant(account=account, amount=amount, memo="bad")
    assert ledger.balance_of(account) == 20
    assert LedgerEntry.objects.filter(account=account).count() == 1


def test_a_hold_reserves_credits_without_charging_them(account):
    hold = ledger.hold(account=account, amount=7, reference="req_1")
    assert hold.state == Hold.State.OPEN
    assert ledger.balance_of(account) == 20
    assert ledger.available_of(account) == 13
    assert_reconciles(account)


def test_a_hold_above_the_available_balance_is_refused_with_both_figures(account):
    ledger.hold(account=account, amount=15, reference="req_1")
    with pytest.raises(InsufficientCredits) as caught:
        ledger.hold(account=account, amount=D("5.01"), reference="req_2")
    assert caught.value.status == 402
    assert caught.value.body() == {
        "error": "Insufficient credits: 5.00 available, 5.01 required",
        "code": "INSUFFICIENT_CREDITS",
        "balance": 5.0,
        "required": 5.01,
    }
    assert Hold.objects.filter(reference="req_2").count() == 0
    assert_reconciles(account)


def test_a_hold_of_exactly_the_available_balance_succeeds(account):
    ledger.hold(account=account, amount=20, reference="req_1")
    assert ledger.available_of(account) == 0


def test_settling_charges_only_what_was_used_and_releases_the_rest(account):
    hold = ledger.hold(account=account, amount=10, reference="req_1")
    ledger.settle(hold=hold, used=1)
    assert ledger.balance_of(account) == 19
    assert ledger.available_of(account) == 19
    legs = LedgerEntry.objects.filter(reference="req_1").order_by("id")
    assert [(e.kind, e.amount, e.held_change) for e in legs] == [
        ("hold", 0, 10),
        ("charge", -1, -1),
        ("release", 0, -9),
    ]
    assert sum(e.held_change for e in legs) == 0
    assert -sum(e.amount for e in legs) == 1  # the net debit is what was used
    assert Hold.objects.get(pk=hold.pk).used == 1
    assert_reconciles(account)


def test_settling_the_full_hold_writes_no_release(account):
    hold = ledger.hold(account=account, amount=7, reference="req_1")
    ledger.settle(hold=hold, used=7)
    assert list(
        LedgerEntry.objects.filter(reference="req_1").values_list("kind", flat=True).order_by("id")
    ) == ["hold", "charge"]
    assert ledger.balance_of(account) == 13


def test_settling_more_than_was_held_is_refused(account):
    hold = ledger.hold(account=account, amount=7, reference="req_1")
    with pytest.raises(InvalidAmount):
        ledger.settle(hold=hold, used="7.01")
    assert Hold.objects.get(pk=hold.pk).state == Hold.State.OPEN


def test_releasing_a_hold_after_a_failure_leaves_the_balance_as_before(account):
    hold = ledger.hold(account=account, amount=7, reference="req_1")
    ledger.release(hold=hold, memo="regenerator failed")
    assert ledger.balance_of(account) == 20
    assert ledger.available_of(account) == 20
    assert Hold.objects.get(pk=hold.pk).state == Hold.State.RELEASED
    assert_reconciles(account)


@pytest.mark.parametrize(
    ("first", "second"),
    [("settle", "settle"), ("settle", "release"), ("release", "release"), ("release", "settle")],
)
def test_a_hold_can_be_closed_only_once(account, first, second):
    hold = ledger.hold(account=account, amount=7, reference="req_1")
    close = {
        "settle": lambda h: ledger.settle(hold=h, used=3),
        "release": lambda h: ledger.release(hold=h),
    }
    close[first](hold)
    balance, entries = ledger.balance_of(account), LedgerEntry.objects.count()
    stale_copy = Hold.objects.get(pk=hold.pk)
    stale_copy.state = Hold.State.OPEN  # even a copy that believes it is still open
    with pytest.raises(HoldClosed):
        close[second](stale_copy)
    assert (ledger.balance_of(account), LedgerEntry.objects.count()) == (balance, entries)
    assert_reconciles(account)


def test_an_adjustment_needs_a_reason_and_changes_nothing_without_one(account):
    staff = UserFactory(is_staff=True)
    with pytest.raises(RequestValidationError):
        ledger.adjust(account=account, amount=5, reason="  ", created_by=staff)
    assert ledger.balance_of(account) == 20


def test_an_adjustment_may_remove_credits_but_not_below_what_is_held(account):
    staff = UserFactory(is_staff=True)
    ledger.hold(account=account, amount=15, reference="req_1")
    entry = ledger.adjust(account=account, amount=-5, reason="duplicate grant", created_by=staff)
    assert (entry.amount, entry.balance_after, entry.created_by) == (-5, 15, staff)
    with pytest.raises(InsufficientCredits):
        ledger.adjust(account=account, amount="-0.01", reason="too far", created_by=staff)
    assert_reconciles(account)


def test_a_refund_gives_back_at_most_what_was_charged_for_the_reference(account):
    hold = ledger.hold(account=account, amount=10, reference="req_1")
    ledger.settle(hold=hold, used=4)
    ledger.refund(account=account, amount=3, reference="req_1", memo="bad result")
    with pytest.raises(InvalidAmount, match="1.00 refundable"):
        ledger.refund(account=account, amount=2, reference="req_1")
    with pytest.raises(InvalidAmount):
        ledger.refund(account=account, amount=1, reference="req_unknown")
    assert ledger.balance_of(account) == 19
    assert_reconciles(account)


def test_orphaned_holds_are_released_and_fresh_ones_are_left_alone(account):
    old = ledger.hold(account=account, amount=5, reference="req_crashed")
    Hold.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(hours=2))
    fresh = ledger.hold(account=account, amount=5, reference="req_running")
    assert list(ledger.orphaned_holds(timedelta(hours=1))) == [old]
    assert ledger.release_orphaned_holds(timedelta(hours=1)) == 1
    assert Hold.objects.get(pk=old.pk).state == Hold.State.RELEASED
    assert Hold.objects.get(pk=fresh.pk).state == Hold.State.OPEN
    assert ledger.release_orphaned_holds(timedelta(hours=1)) == 0
    assert_reconciles(account)


def test_ledger_entries_cannot_be_changed_or_deleted_through_the_orm(account):
    entry = LedgerEntry.objects.filter(account=account).get()
    entry.amount = 1000
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's"
)
def test_the_database_itself_refuses_to_rewrite_a_ledger_entry(account):
    entry = LedgerEntry.objects.filter(account=account).get()
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_ledgerentry SET amount = 1000 WHERE id = %s", [entry.pk])
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_ledgerentry WHERE id = %s", [entry.pk])


def test_the_database_refuses_a_negative_balance_or_an_overdrawn_hold(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(account=account).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(account=account).update(held=21)


def test_the_periodic_task_releases_orphaned_holds(account):
    from billing.tasks import release_orphaned_holds

    old = ledger.hold(account=account, amount=5, reference="req_crashed")
    Hold.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(hours=2))
    assert release_orphaned_holds.delay(60).get() == 1
    assert ledger.available_of(account) == 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's commit modes")
@pytest.mark.parametrize(("flush", "mode"), [(True, "on"), (False, "off")])
def test_a_hold_commits_flushed_unless_its_request_settles_it_later(transactional_db, flush, mode):
    account = AccountFactory(credits=20)
    with transaction.atomic():
        held = ledger.hold(account=account, amount=D("5"), reference="r", flush=flush)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == mode
    # the setting was the hold's transaction's only: the next one flushes again
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    ledger.settle(hold=held, used=D("2"))
    assert ledger.balance_of(account) == D("18")
    assert ledger.available_of(account) == D("18")
