"""The ledger's edges: exact entries, messages, boundaries and every state change (T04, T05).

Each test pins one behaviour of ``billing/ledger.py`` that the broader tests leave loose:
the exact legs a change writes (kind, amounts, totals after it, hold, reference, memo,
author), the error a caller sees, and the boundaries (zero, one cent, the exact balance,
the largest amount).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from billing import ledger
from billing.errors import HoldClosed, InsufficientCredits, InvalidAmount
from billing.models import Hold, LedgerEntry
from railsite.errors import RequestValidationError
from tests.billing.test_ledger import assert_reconciles
from tests.billing.test_ledger_concurrency import race
from tests.factories import AccountFactory, UserFactory
from tests.helpers import postgres_only

LEG_FIELDS = ("kind", "amount", "held_change", "balance_after", "held_after", "reference", "memo")


def legs(account, **filters) -> list[tuple]:
    """Return the account's ledger entries, oldest first, as tuples of LEG_FIELDS."""
    rows = LedgerEntry.objects.filter(account=account, **filters).order_by("id")
    return list(rows.values_list(*LEG_FIELDS))


def last_entry(account) -> LedgerEntry:
    return LedgerEntry.objects.filter(account=account).latest("id")


@pytest.fixture
def empty(db):
    """An account with no credits at all."""
    return AccountFactory()


@pytest.fixture
def staff(db):
    return UserFactory(username="sam", is_staff=True)


# Amounts -------------------------------------------------------------------------------


def test_an_amount_with_surrounding_spaces_is_parsed_to_the_cent():
    assert ledger.to_amount(" 5.5 ") == D("5.50")


def test_the_smallest_amount_is_one_cent():
    assert ledger.to_amount("0.01") == D("0.01")


def test_the_largest_amount_is_accepted():
    assert ledger.to_amount("999999999999.99") == D("999999999999.99")


def test_an_amount_above_the_largest_is_refused_with_its_message():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("1000000000000")
    assert caught.value.message == (
        "1000000000000 is not an amount with at most two decimal places."
    )


def test_a_negative_amount_above_the_largest_is_refused_even_where_negatives_are_allowed():
    with pytest.raises(InvalidAmount):
        ledger.to_amount("-1000000000000", allow_negative=True)


def test_a_third_decimal_place_is_refused_with_its_message():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("1.005")
    assert caught.value.message == "1.005 is not an amount with at most two decimal places."


def test_infinity_is_refused_as_an_amount():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("Infinity")
    assert caught.value.message == "Infinity is not an amount with at most two decimal places."


def test_text_is_refused_as_not_a_number():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("abc")
    assert caught.value.message == "'abc' is not a number."


def test_a_negative_amount_is_refused_by_default_with_its_message():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("-1")
    assert caught.value.message == "The amount must not be negative (got -1)."


def test_a_negative_amount_is_accepted_when_allowed():
    assert ledger.to_amount("-1", allow_negative=True) == D("-1.00")


def test_zero_is_refused_by_default_with_its_message():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("0")
    assert caught.value.message == "The amount must not be zero."


def test_zero_is_accepted_when_allowed():
    assert ledger.to_amount("0", allow_zero=True) == D("0.00")


def test_allowing_negatives_does_not_allow_zero():
    with pytest.raises(InvalidAmount, match="must not be zero"):
        ledger.to_amount("0", allow_negative=True)


def test_allowing_zero_does_not_allow_negatives():
    with pytest.raises(InvalidAmount, match="must not be negative"):
        ledger.to_amount("-0.01", allow_zero=True)


def test_a_bad_amount_is_a_400_validation_error():
    with pytest.raises(InvalidAmount) as caught:
        ledger.to_amount("x")
    assert caught.value.status == 400
    assert caught.value.code == "VALIDATION_ERROR"


# Grants --------------------------------------------------------------------------------


def test_a_grant_writes_one_entry_with_its_memo_author_and_totals(empty, staff):
    entry = ledger.grant(account=empty, amount="2.50", memo="welcome", created_by=staff)
    assert legs(empty) == [("grant", D("2.50"), D("0"), D("2.50"), D("0"), "", "welcome")]
    assert entry.created_by == staff
    assert entry.hold is None


def test_a_grant_returns_the_entry_it_wrote(empty):
    entry = ledger.grant(account=empty, amount=3, memo="welcome")
    assert entry == last_entry(empty)


def test_a_grant_is_of_kind_grant_unless_it_is_a_purchase(empty):
    assert ledger.grant(account=empty, amount=1, memo="m").kind == "grant"


def test_a_grant_of_one_cent_is_accepted(empty):
    ledger.grant(account=empty, amount="0.01", memo="smallest")
    assert ledger.balance_of(empty) == D("0.01")


def test_a_grant_of_the_largest_amount_is_accepted(empty):
    ledger.grant(account=empty, amount="999999999999.99", memo="largest")
    assert ledger.balance_of(empty) == D("999999999999.99")


def test_a_grant_of_zero_is_refused_and_writes_nothing(empty):
    with pytest.raises(InvalidAmount, match="must not be zero"):
        ledger.grant(account=empty, amount=0, memo="nothing")
    assert not LedgerEntry.objects.filter(account=empty).exists()


def test_a_grant_of_a_negative_amount_is_refused_and_writes_nothing(empty):
    with pytest.raises(InvalidAmount, match="must not be negative"):
        ledger.grant(account=empty, amount=-1, memo="minus")
    assert not LedgerEntry.objects.filter(account=empty).exists()


def test_a_grant_of_another_kind_is_refused_with_its_message(empty):
    with pytest.raises(InvalidAmount) as caught:
        ledger.grant(account=empty, amount=1, memo="sneaky", kind="refund")
    assert caught.value.message == "A grant is a grant or a purchase, not 'refund'."
    assert not LedgerEntry.objects.filter(account=empty).exists()


# Holds ---------------------------------------------------------------------------------


def test_a_hold_writes_one_leg_that_moves_credits_to_held(account_a):
    held = ledger.hold(account=account_a, amount="7.25", reference="req_h", memo="evaluation")
    assert legs(account_a, hold=held) == [
        ("hold", D("0"), D("7.25"), D("100"), D("7.25"), "req_h", "evaluation")
    ]


def test_a_hold_row_keeps_its_amount_reference_and_memo(account_a):
    held = ledger.hold(account=account_a, amount="7.25", reference="req_h", memo="evaluation")
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.account, stored.amount, stored.reference, stored.memo) == (
        account_a,
        D("7.25"),
        "req_h",
        "evaluation",
    )


def test_a_hold_is_open_and_unused_until_closed(account_a):
    held = ledger.hold(account=account_a, amount=1, reference="req_h")
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.state, stored.used, stored.closed_at) == ("open", None, None)


def test_a_hold_without_a_memo_has_an_empty_memo(account_a):
    held = ledger.hold(account=account_a, amount=1, reference="req_h")
    assert Hold.objects.get(pk=held.pk).memo == ""
    assert last_entry(account_a).memo == ""


def test_two_holds_add_up_in_what_is_held(account_a):
    ledger.hold(account=account_a, amount=30, reference="req_1")
    ledger.hold(account=account_a, amount="12.50", reference="req_2")
    assert ledger.available_of(account_a) == D("57.50")
    assert ledger.balance_of(account_a) == D("100")
    assert last_entry(account_a).held_after == D("42.50")


def test_a_hold_on_an_empty_account_is_refused_with_both_figures(empty):
    with pytest.raises(InsufficientCredits) as caught:
        ledger.hold(account=empty, amount="0.01", reference="req_h")
    assert caught.value.body() == {
        "error": "Insufficient credits: 0.00 available, 0.01 required",
        "code": "INSUFFICIENT_CREDITS",
        "balance": 0.0,
        "required": 0.01,
    }


def test_a_refused_hold_leaves_no_hold_row_and_no_entry(empty):
    with pytest.raises(InsufficientCredits):
        ledger.hold(account=empty, amount=1, reference="req_h")
    assert not Hold.objects.filter(account=empty).exists()
    assert not LedgerEntry.objects.filter(account=empty).exists()


def test_a_hold_of_zero_is_refused(account_a):
    with pytest.raises(InvalidAmount):
        ledger.hold(account=account_a, amount=0, reference="req_h")
    assert not Hold.objects.filter(account=account_a).exists()


# Settling ------------------------------------------------------------------------------


def test_a_partial_settlement_writes_a_charge_then_a_release_with_the_totals_after_each(
    account_a,
):
    held = ledger.hold(account=account_a, amount=10, reference="req_s", memo="evaluation")
    ledger.settle(hold=held, used="2.50")
    assert legs(account_a, hold=held) == [
        ("hold", D("0"), D("10"), D("100"), D("10"), "req_s", "evaluation"),
        ("charge", D("-2.50"), D("-2.50"), D("97.50"), D("7.50"), "req_s", "evaluation"),
        ("release", D("0"), D("-7.50"), D("97.50"), D("0"), "req_s", "unused part of the hold"),
    ]


def test_a_partial_settlement_beside_another_open_hold_keeps_that_hold_held(account_a):
    ledger.hold(account=account_a, amount=5, reference="req_other")
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    ledger.settle(hold=held, used=4)
    assert [(e[0], e[3], e[4]) for e in legs(account_a, hold=held)][1:] == [
        ("charge", D("96"), D("11")),
        ("release", D("96"), D("5")),
    ]
    assert ledger.available_of(account_a) == D("91")


def test_settling_with_nothing_used_writes_only_a_release(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    ledger.settle(hold=held, used=0)
    assert [e[:5] for e in legs(account_a, hold=held)] == [
        ("hold", D("0"), D("10"), D("100"), D("10")),
        ("release", D("0"), D("-10"), D("100"), D("0")),
    ]
    assert ledger.available_of(account_a) == D("100")


def test_settling_with_nothing_used_closes_the_hold_as_settled_with_zero_used(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    ledger.settle(hold=held, used=0)
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.state, stored.used) == ("settled", D("0"))


def test_settling_the_whole_hold_writes_a_charge_with_nothing_left_held(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    ledger.settle(hold=held, used=10)
    assert [e[:5] for e in legs(account_a, hold=held)][1:] == [
        ("charge", D("-10"), D("-10"), D("90"), D("0")),
    ]


def test_settling_records_the_state_amount_used_and_closing_time(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    ledger.settle(hold=held, used=3)
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.state, stored.used) == ("settled", D("3"))
    assert stored.closed_at is not None


def test_settling_updates_the_hold_object_it_returns(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_s")
    returned = ledger.settle(hold=held, used=3)
    stored = Hold.objects.get(pk=held.pk)
    assert returned is held
    assert (returned.state, returned.used, returned.closed_at) == (
        stored.state,
        stored.used,
        stored.closed_at,
    )


def test_settling_more_than_was_held_names_both_figures(account_a):
    held = ledger.hold(account=account_a, amount=7, reference="req_s")
    with pytest.raises(InvalidAmount) as caught:
        ledger.settle(hold=held, used="7.01")
    assert caught.value.message == "Cannot charge 7.01: only 7.00 was held."


def test_settling_a_negative_use_is_refused(account_a):
    held = ledger.hold(account=account_a, amount=7, reference="req_s")
    with pytest.raises(InvalidAmount):
        ledger.settle(hold=held, used=-1)
    assert Hold.objects.get(pk=held.pk).state == "open"


def test_a_settled_hold_cannot_be_settled_again_through_the_same_object(account_a):
    held = ledger.hold(account=account_a, amount=7, reference="req_s")
    ledger.settle(hold=held, used=2)
    with pytest.raises(HoldClosed) as caught:
        ledger.settle(hold=held, used=2)
    assert caught.value.status == 409
    assert caught.value.code == "HOLD_CLOSED"
    assert ledger.balance_of(account_a) == D("98")


# Releasing -----------------------------------------------------------------------------


def test_a_release_writes_one_leg_returning_the_whole_hold(account_a):
    held = ledger.hold(account=account_a, amount="7.25", reference="req_r", memo="run")
    ledger.release(hold=held, memo="regenerator failed")
    assert legs(account_a, hold=held)[1:] == [
        ("release", D("0"), D("-7.25"), D("100"), D("0"), "req_r", "regenerator failed")
    ]


def test_a_release_without_a_memo_says_hold_released(account_a):
    held = ledger.hold(account=account_a, amount=1, reference="req_r")
    ledger.release(hold=held)
    assert last_entry(account_a).memo == "hold released"


def test_a_release_beside_another_open_hold_keeps_that_hold_held(account_a):
    ledger.hold(account=account_a, amount=5, reference="req_other")
    held = ledger.hold(account=account_a, amount=10, reference="req_r")
    ledger.release(hold=held)
    assert last_entry(account_a).held_after == D("5")
    assert ledger.available_of(account_a) == D("95")


def test_a_release_records_the_state_nothing_used_and_the_closing_time(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_r")
    ledger.release(hold=held)
    stored = Hold.objects.get(pk=held.pk)
    assert (stored.state, stored.used) == ("released", D("0"))
    assert stored.closed_at is not None


def test_releasing_updates_the_hold_object_it_returns(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_r")
    returned = ledger.release(hold=held)
    assert returned is held
    assert (returned.state, returned.used) == ("released", D("0"))
    assert returned.closed_at == Hold.objects.get(pk=held.pk).closed_at


def test_a_released_hold_cannot_be_settled_through_the_same_object(account_a):
    held = ledger.hold(account=account_a, amount=7, reference="req_r")
    ledger.release(hold=held)
    with pytest.raises(HoldClosed):
        ledger.settle(hold=held, used=1)
    assert ledger.balance_of(account_a) == D("100")
    assert_reconciles(account_a)


# Adjustments ---------------------------------------------------------------------------


def test_an_adjustment_writes_one_leg_with_the_reason_as_memo_and_its_author(account_a, staff):
    entry = ledger.adjust(
        account=account_a, amount="-2.50", reason="  double grant  ", created_by=staff
    )
    assert legs(account_a)[-1] == (
        "adjustment",
        D("-2.50"),
        D("0"),
        D("97.50"),
        D("0"),
        "",
        "double grant",
    )
    assert entry.created_by == staff


def test_an_adjustment_returns_the_entry_it_wrote(account_a, staff):
    entry = ledger.adjust(account=account_a, amount=1, reason="goodwill", created_by=staff)
    assert entry == last_entry(account_a)


def test_a_positive_adjustment_needs_no_available_credits(empty, staff):
    entry = ledger.adjust(account=empty, amount=5, reason="goodwill", created_by=staff)
    assert entry.balance_after == D("5")
    assert ledger.balance_of(empty) == D("5")


def test_a_positive_adjustment_works_while_everything_is_held(account_a, staff):
    ledger.hold(account=account_a, amount=100, reference="req_all")
    ledger.adjust(account=account_a, amount=1, reason="goodwill", created_by=staff)
    assert ledger.available_of(account_a) == D("1")


def test_an_adjustment_may_remove_exactly_what_is_available(account_a, staff):
    ledger.hold(account=account_a, amount=40, reference="req_1")
    ledger.adjust(account=account_a, amount=-60, reason="chargeback", created_by=staff)
    assert ledger.balance_of(account_a) == D("40")
    assert ledger.available_of(account_a) == D("0")


def test_an_adjustment_below_what_is_available_is_refused_with_both_figures(account_a, staff):
    ledger.hold(account=account_a, amount=40, reference="req_1")
    with pytest.raises(InsufficientCredits) as caught:
        ledger.adjust(account=account_a, amount="-60.01", reason="too far", created_by=staff)
    assert caught.value.body() == {
        "error": "Insufficient credits: 60.00 available, 60.01 required",
        "code": "INSUFFICIENT_CREDITS",
        "balance": 60.0,
        "required": 60.01,
    }
    assert ledger.balance_of(account_a) == D("100")


def test_an_adjustment_without_a_reason_is_a_validation_error_naming_the_field(account_a, staff):
    with pytest.raises(RequestValidationError) as caught:
        ledger.adjust(account=account_a, amount=5, reason="", created_by=staff)
    assert caught.value.body() == {
        "error": "A reason is required for an adjustment.",
        "code": "VALIDATION_ERROR",
        "details": {"reason": ["This field is required."]},
    }


def test_an_adjustment_with_no_reason_at_all_is_a_validation_error(account_a, staff):
    with pytest.raises(RequestValidationError):
        ledger.adjust(account=account_a, amount=5, reason=None, created_by=staff)
    assert ledger.balance_of(account_a) == D("100")


def test_an_adjustment_of_zero_is_refused(account_a, staff):
    with pytest.raises(InvalidAmount, match="must not be zero"):
        ledger.adjust(account=account_a, amount=0, reason="nothing", created_by=staff)


def test_an_adjustment_is_logged_with_account_amount_and_author(account_a, staff, caplog):
    with caplog.at_level(logging.INFO, logger="billing.ledger"):
        ledger.adjust(account=account_a, amount="-1.50", reason="fix", created_by=staff)
    assert [r.getMessage() for r in caplog.records if r.name == "billing.ledger"] == [
        f"credits adjusted: account={account_a.pk} amount=-1.50 by=sam"
    ]


# Refunds -------------------------------------------------------------------------------


def charged(account, reference: str, used) -> Hold:
    held = ledger.hold(account=account, amount=10, reference=reference)
    return ledger.settle(hold=held, used=used)


def test_a_refund_writes_one_leg_with_reference_memo_and_author(account_a, staff):
    charged(account_a, "req_f", 4)
    entry = ledger.refund(
        account=account_a, amount="1.50", reference="req_f", memo="poor result", created_by=staff
    )
    assert legs(account_a)[-1] == (
        "refund",
        D("1.50"),
        D("0"),
        D("97.50"),
        D("0"),
        "req_f",
        "poor result",
    )
    assert entry.created_by == staff
    assert entry.hold is None


def test_a_refund_without_a_memo_has_an_empty_memo(account_a):
    charged(account_a, "req_f", 4)
    assert ledger.refund(account=account_a, amount=1, reference="req_f").memo == ""


def test_a_refund_returns_the_entry_it_wrote(account_a):
    charged(account_a, "req_f", 4)
    entry = ledger.refund(account=account_a, amount=1, reference="req_f")
    assert entry == last_entry(account_a)


def test_a_refund_of_exactly_what_was_charged_is_accepted(account_a):
    charged(account_a, "req_f", 4)
    ledger.refund(account=account_a, amount=4, reference="req_f")
    assert ledger.balance_of(account_a) == D("100")


def test_nothing_more_is_refundable_after_a_full_refund(account_a):
    charged(account_a, "req_f", 4)
    ledger.refund(account=account_a, amount=4, reference="req_f")
    with pytest.raises(InvalidAmount) as caught:
        ledger.refund(account=account_a, amount="0.01", reference="req_f")
    assert caught.value.message == "Cannot refund 0.01: 0.00 refundable for 'req_f'."


def test_partial_refunds_add_up_to_what_was_charged(account_a):
    charged(account_a, "req_f", 4)
    ledger.refund(account=account_a, amount="1.50", reference="req_f")
    ledger.refund(account=account_a, amount="2.50", reference="req_f")
    assert ledger.balance_of(account_a) == D("100")


def test_a_refund_beyond_what_was_charged_names_what_is_refundable(account_a):
    charged(account_a, "req_f", 4)
    with pytest.raises(InvalidAmount) as caught:
        ledger.refund(account=account_a, amount="4.01", reference="req_f")
    assert caught.value.message == "Cannot refund 4.01: 4.00 refundable for 'req_f'."
    assert ledger.balance_of(account_a) == D("96")


def test_charges_of_two_settlements_with_one_reference_are_refundable_together(account_a):
    charged(account_a, "req_f", 4)
    charged(account_a, "req_f", 3)
    ledger.refund(account=account_a, amount=7, reference="req_f")
    assert ledger.balance_of(account_a) == D("100")


def test_a_hold_that_was_released_leaves_nothing_refundable(account_a):
    held = ledger.hold(account=account_a, amount=10, reference="req_f")
    ledger.release(hold=held)
    with pytest.raises(InvalidAmount, match="0.00 refundable"):
        ledger.refund(account=account_a, amount=1, reference="req_f")


def test_a_grant_is_not_refundable(account_a):
    with pytest.raises(InvalidAmount, match="0.00 refundable"):
        ledger.refund(account=account_a, amount=1, reference="")


def test_a_charge_in_one_account_is_not_refundable_in_another(account_a, account_b):
    charged(account_a, "req_shared", 4)
    with pytest.raises(InvalidAmount, match="0.00 refundable"):
        ledger.refund(account=account_b, amount=1, reference="req_shared")
    assert ledger.balance_of(account_b) == D("100")


def test_each_account_refunds_only_its_own_charges_for_a_shared_reference(account_a, account_b):
    charged(account_a, "req_shared", 4)
    charged(account_b, "req_shared", 1)
    with pytest.raises(InvalidAmount, match="1.00 refundable"):
        ledger.refund(account=account_b, amount=2, reference="req_shared")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_charge_give_it_back_only_once():
    account = AccountFactory(credits=20)
    charged(account, "req_f", 4)
    results = race(lambda i: ledger.refund(account=account, amount=4, reference="req_f"), n=10)
    refused = [r for r in results if isinstance(r, InvalidAmount)]
    assert len(refused) == 9
    assert ledger.balance_of(account) == D("20")
    assert_reconciles(account)


def test_a_refund_of_zero_is_refused(account_a):
    charged(account_a, "req_f", 4)
    with pytest.raises(InvalidAmount, match="must not be zero"):
        ledger.refund(account=account_a, amount=0, reference="req_f")


# Orphaned holds ------------------------------------------------------------------------


def age(held: Hold, hours: float) -> None:
    """Make the hold look ``hours`` old (as if its worker had died that long ago)."""
    Hold.objects.filter(pk=held.pk).update(created_at=held.created_at - timedelta(hours=hours))


def test_an_orphaned_hold_is_released_with_an_orphan_memo(account_a):
    held = ledger.hold(account=account_a, amount=5, reference="req_o")
    age(held, 2)
    ledger.release_orphaned_holds(timedelta(hours=1))
    assert legs(account_a, hold=held)[1:] == [
        ("release", D("0"), D("-5"), D("100"), D("0"), "req_o", "released: orphaned hold")
    ]


def test_closed_holds_are_never_orphans_however_old(account_a):
    settled = charged(account_a, "req_s", 2)
    released = ledger.release(hold=ledger.hold(account=account_a, amount=1, reference="req_r"))
    age(settled, 5)
    age(released, 5)
    assert list(ledger.orphaned_holds(timedelta(hours=1))) == []


def test_every_orphan_is_released_and_counted(account_a):
    for i in range(3):
        age(ledger.hold(account=account_a, amount=5, reference=f"req_{i}"), 2)
    assert ledger.release_orphaned_holds(timedelta(hours=1)) == 3
    assert ledger.available_of(account_a) == D("100")


def test_orphans_are_released_at_most_a_batch_at_a_time_oldest_id_first(account_a):
    made = [ledger.hold(account=account_a, amount=5, reference=f"req_{i}") for i in range(3)]
    for held in made:
        age(held, 2)
    assert ledger.release_orphaned_holds(timedelta(hours=1), batch=2) == 2
    assert Hold.objects.get(pk=made[2].pk).state == "open"
    assert Hold.objects.get(pk=made[0].pk).state == "released"


def test_the_orphan_sweep_logs_how_many_it_released(account_a, caplog):
    for i in range(2):
        age(ledger.hold(account=account_a, amount=5, reference=f"req_{i}"), 2)
    with caplog.at_level(logging.INFO, logger="billing.ledger"):
        ledger.release_orphaned_holds(timedelta(hours=1))
    assert [r.getMessage() for r in caplog.records if r.name == "billing.ledger"] == [
        "released 2 orphaned credit holds"
    ]


def test_the_orphan_sweep_logs_nothing_when_there_is_no_orphan(account_a, caplog):
    with caplog.at_level(logging.INFO, logger="billing.ledger"):
        ledger.release_orphaned_holds(timedelta(hours=1))
    assert [r for r in caplog.records if r.name == "billing.ledger"] == []


def test_an_orphan_closed_meanwhile_is_skipped_and_the_sweep_goes_on(account_a, monkeypatch):
    """Its own worker settled it between the sweep's query and its release."""
    closed = charged(account_a, "req_late", 2)
    orphans = [ledger.hold(account=account_a, amount=5, reference=f"req_{i}") for i in range(2)]
    stale = Hold.objects.filter(pk__in=[closed.pk] + [h.pk for h in orphans])
    monkeypatch.setattr(ledger, "orphaned_holds", lambda older_than, request_bound_after: stale)
    assert ledger.release_orphaned_holds(timedelta(hours=1)) == 2
    assert ledger.available_of(account_a) == D("98")
    assert_reconciles(account_a)


def test_the_orphan_sweep_uses_the_age_it_is_given(account_a):
    held = ledger.hold(account=account_a, amount=5, reference="req_o")
    age(held, 2)
    assert ledger.release_orphaned_holds(timedelta(hours=3)) == 0
    assert ledger.release_orphaned_holds(timedelta(minutes=90)) == 1


def test_a_request_bound_hold_is_released_once_no_request_could_still_hold_it(account_a, settings):
    """An evaluation killed mid-request: its hold is given back after the idempotency
    lease (the web timeout plus a margin), not after an hour (issue 11)."""
    settings.IDEMPOTENCY_LEASE_SECONDS = 40
    young = ledger.hold(account=account_a, amount=1, reference="eval_young", request_bound=True)
    old = ledger.hold(account=account_a, amount=1, reference="eval_old", request_bound=True)
    run_hold = ledger.hold(account=account_a, amount=4, reference="run_busy")
    Hold.objects.filter(pk=young.pk).update(created_at=timezone.now() - timedelta(seconds=30))
    Hold.objects.filter(pk__in=[old.pk, run_hold.pk]).update(
        created_at=timezone.now() - timedelta(seconds=50)
    )
    assert ledger.release_orphaned_holds() == 1
    assert Hold.objects.get(pk=old.pk).state == "released"
    assert Hold.objects.get(pk=young.pk).state == "open"
    assert Hold.objects.get(pk=run_hold.pk).state == "open"  # a worker's run: an hour
    assert_reconciles(account_a)


def test_the_orphan_sweep_waits_an_hour_by_default(account_a):
    young = ledger.hold(account=account_a, amount=5, reference="req_young")
    old = ledger.hold(account=account_a, amount=5, reference="req_old")
    age(young, 0.9)
    age(old, 1.1)
    assert ledger.release_orphaned_holds() == 1
    assert Hold.objects.get(pk=young.pk).state == "open"
