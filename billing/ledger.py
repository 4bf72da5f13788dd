"""The credit ledger: the only code that changes balances, holds and ledger entries.

Every change is one conditional ``UPDATE`` of the account's ``CreditAccount`` row (it
takes the row lock on PostgreSQL and the write lock on SQLite, and checks the available
balance in the same statement, so two requests can never spend the same credit), then
append-only ``LedgerEntry`` rows carrying the balance after them, in one transaction.

Holds: ``hold`` reserves a worst case (and stops a key at its monthly budget); ``settle``
charges what was used and releases the rest; ``release`` returns everything. A hold leaves the ``open`` state exactly once,
through a conditional update, so it can never be settled or released twice.

On PostgreSQL ``hold`` and ``settle``, the two writes of every request, are one statement
each (data-modifying CTEs: the conditional update, the hold and its entries together), so
a request spends two round trips on credits, not six plus savepoints, and holds the
account's row lock for as short a time as it can. ``hold_settled`` does both at once for
work that already ran (an offline loop) and inserts the caller's rows (the run and its
iterations) in the same statement, all or nothing. Other databases run the same steps one
statement at a time, in a transaction.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet, Sum
from django.utils import timezone

from billing.errors import HoldClosed, InsufficientCredits, InvalidAmount, KeyBudgetExceeded
from billing.models import Account, APIKey, CreditAccount, Hold, LedgerEntry, month_start
from railsite.errors import RequestValidationError
from railsite.statements import mark_stored, prepared_cursor, row_of

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_AMOUNT = Decimal("999999999999.99")
Kind = LedgerEntry.Kind


class Totals(NamedTuple):
    balance: Decimal
    held: Decimal


def to_amount(value: Any, *, allow_zero: bool = False, allow_negative: bool = False) -> Decimal:
    """Parse a credit amount: a finite number with at most two decimal places."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"{value!r} is not a number.") from exc
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_AMOUNT:
        raise InvalidAmount(f"{value} is not an amount with at most two decimal places.")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"The amount must not be negative (got {value}).")
    if amount == 0 and not allow_zero:
        raise InvalidAmount("The amount must not be zero.")
    return amount.quantize(CENT)


def balance_of(account: Account) -> Decimal:
    """Return the account's balance: the sum of its ledger, open holds included."""
    return _totals(account.pk).balance


def available_of(account: Account) -> Decimal:
    """Return what the account can spend now: its balance minus open holds."""
    totals = _totals(account.pk)
    return totals.balance - totals.held


def grant(
    *, account: Account, amount: Any, memo: str, kind: str = Kind.GRANT, created_by: Any = None
) -> LedgerEntry:
    """Add credits to the account (a grant or a purchase)."""
    if kind not in (Kind.GRANT, Kind.PURCHASE):
        raise InvalidAmount(f"A grant is a grant or a purchase, not {kind!r}.")
    amount = to_amount(amount)
    with transaction.atomic():
        after = _apply(account.pk, balance_change=amount)
        assert after is not None
        return _write(account.pk, kind, after, amount=amount, memo=memo, created_by=created_by)


def adjust(*, account: Account, amount: Any, reason: str, created_by: Any) -> LedgerEntry:
    """Correct the balance by a signed amount, with a reason (staff only)."""
    if not (reason or "").strip():
        raise RequestValidationError(
            "A reason is required for an adjustment.",
            details={"reason": ["This field is required."]},
        )
    amount = to_amount(amount, allow_negative=True)
    with transaction.atomic():
        after = _apply(account.pk, balance_change=amount, needs=max(-amount, ZERO))
        if after is None:
            raise InsufficientCredits(balance=available_of(account), required=-amount)
        entry = _write(
            account.pk,
            Kind.ADJUSTMENT,
            after,
            amount=amount,
            memo=reason.strip(),
            created_by=created_by,
        )
    logger.info("credits adjusted: account=%s amount=%s by=%s", account.pk, amount, created_by)
    return entry


def hold(
    *,
    account: Account,
    amount: Any,
    reference: str,
    memo: str = "",
    request_bound: bool = False,
    api_key: APIKey | None = None,
    flush: bool = True,
) -> Hold:
    """Reserve credits for work about to run, or raise InsufficientCredits.

    ``request_bound``: the request that makes the hold closes it (see
    ``release_orphaned_holds``). ``api_key``: the key whose call it is; a key with a
    monthly budget gets KeyBudgetExceeded, and nothing held, when the hold would pass it.
    ``flush=False`` (PostgreSQL): the transaction that makes the hold commits without
    waiting for its WAL to reach the disk. Only for a hold that this same request settles
    or releases in a later, flushed commit: PostgreSQL writes its WAL in order, so that
    commit makes the hold durable too, and a crash before it loses the hold together with
    the work it paid for, which nobody got an answer for.
    """
    amount = to_amount(amount)
    if connection.vendor == "postgresql":
        budgeted = api_key is not None and api_key.monthly_credit_budget is not None
        # the budget is counted after the statement took the account's row lock, in its
        # transaction (see _check_key_budget); a key without one needs no transaction
        with transaction.atomic() if budgeted else contextlib.nullcontext():
            held = _hold_in_one_statement(
                account, amount, reference, memo, request_bound, flush, api_key
            )
            if held is None:
                raise InsufficientCredits(balance=available_of(account), required=amount)
            if budgeted and api_key is not None:
                _check_key_budget(api_key.pk, amount)
        return held
    with transaction.atomic():
        held = Hold.objects.create(
            account=account, amount=amount, reference=reference, memo=memo,
            request_bound=request_bound, api_key=api_key,
        )  # fmt: skip
        after = _apply(account.pk, held_change=amount, needs=amount)
        if after is None:
            raise InsufficientCredits(balance=available_of(account), required=amount)
        if api_key is not None and api_key.monthly_credit_budget is not None:
            _check_key_budget(api_key.pk, amount)
        _write(
            account.pk,
            Kind.HOLD,
            after,
            held_change=amount,
            hold=held,
            reference=reference,
            memo=memo,
        )
    return held


def hold_settled(
    *,
    account: Account,
    amount: Any,
    used: Any,
    reference: str,
    memo: str = "",
    api_key: APIKey | None = None,
    rows: Sequence[Model] = (),
    hold_on: Model | None = None,
) -> Hold:
    """Hold ``amount`` and settle it with ``used`` at once, for work that already ran
    without holding (an offline loop: see ``regen.runs``), or raise InsufficientCredits or
    KeyBudgetExceeded and change nothing.

    The same rows as ``hold`` then ``settle`` (a settled hold; its hold, charge and release
    entries in that order), and the same refusal: the whole of ``amount`` must be
    available. ``rows``, the caller's new rows (unsaved instances, inserted in order), are
    written with the charge or not at all; ``hold_on`` (one of them) gets this hold as its
    ``hold``. On PostgreSQL, for a key without a monthly budget, all of it is one statement
    that updates the account's row once; otherwise the steps run in a transaction.
    """
    amount, used = to_amount(amount), to_amount(used, allow_zero=True)
    if used > amount:
        raise InvalidAmount(f"Cannot charge {used}: only {amount} was held.")
    budgeted = api_key is not None and api_key.monthly_credit_budget is not None
    if connection.vendor != "postgresql" or budgeted:
        with transaction.atomic():
            held = hold(
                account=account, amount=amount, reference=reference, memo=memo, api_key=api_key
            )
            settle(hold=held, used=used)
            if hold_on is not None:
                hold_on.hold = held  # type: ignore[attr-defined]
            for _, same in itertools.groupby(rows, key=type):
                group = list(same)
                type(group[0])._default_manager.bulk_create(group)
        return held
    now = timezone.now()
    params: dict[str, Any] = {
        "account": account.pk,
        "amount": amount,
        "used": used,
        "rest": amount - used,
        "now": now,
        "reference": reference,
        "memo": memo,
        "api_key": api_key.pk if api_key is not None else None,
    }
    sql = _HOLD_SETTLED_SQL
    if rows:
        inserts = [
            _insert_from_settled(n, obj, obj is hold_on, params) for n, obj in enumerate(rows)
        ]
        sql = sql.removesuffix(_LAST_SELECT) + "".join(inserts) + _LAST_SELECT
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise InsufficientCredits(balance=available_of(account), required=amount)
    for obj in rows:
        mark_stored(obj, connection)
    settled = Hold(
        id=row[0],
        account=account,
        amount=amount,
        used=used,
        reference=reference,
        memo=memo,
        api_key=api_key,
        state=Hold.State.SETTLED,
        created_at=now,
        closed_at=now,
    )
    settled._state.adding, settled._state.db = False, connection.alias
    if hold_on is not None:
        hold_on.hold = settled  # type: ignore[attr-defined]
    return settled


def _insert_from_settled(n: int, obj: Model, owns_hold: bool, params: dict[str, Any]) -> str:
    """One more CTE of the hold_settled statement: ``obj`` as a new row, inserted only if
    the hold was (``FROM settled``); its ``hold_id`` is the new hold's when it owns it."""
    table, columns, values = row_of(obj, connection)
    selected = []
    for i, (column, value) in enumerate(zip(columns, values, strict=True)):
        if owns_hold and column == connection.ops.quote_name("hold_id"):
            selected.append("settled.id")
        else:
            params[f"row{n}_{i}"] = value
            selected.append(f"%(row{n}_{i})s")
    return (
        f", row{n} AS (INSERT INTO {table} ({', '.join(columns)})"
        f" SELECT {', '.join(selected)} FROM settled)\n"
    )


def _check_key_budget(key_id: int, amount: Decimal) -> None:
    """Raise KeyBudgetExceeded if the key's holds this month, this one included, pass its
    budget (read afresh: it may have changed since the key was loaded).

    Called after ``_apply`` in the hold's transaction: the account's row lock is held until
    commit, and every hold of the key takes it, so a concurrent hold of the same key waits
    and then counts this one (PostgreSQL's read committed sees it once committed). Two
    calls can never both pass the budget.
    """
    now = timezone.now()
    row: Any = APIKey.objects.filter(pk=key_id).with_month_spend(now)  # annotated: untyped
    budget, spent = row.values_list("monthly_credit_budget", "month_spent").get()
    if budget is not None and spent > budget:
        raise KeyBudgetExceeded(
            budget=budget, spent=spent - amount, required=amount, month=month_start(now)
        )


def settle(*, hold: Hold, used: Any) -> Hold:
    """Charge what the work used (at most the hold) and release the rest, at once."""
    used = to_amount(used, allow_zero=True)
    if used > hold.amount:
        raise InvalidAmount(f"Cannot charge {used}: only {hold.amount} was held.")
    rest = hold.amount - used
    if connection.vendor == "postgresql":
        now = timezone.now()
        if not _settle_in_one_statement(hold, used, rest, now):
            raise HoldClosed()
        hold.state, hold.used, hold.closed_at = Hold.State.SETTLED, used, now
        return hold
    with transaction.atomic():
        _close(hold, Hold.State.SETTLED, used)
        after = _apply(hold.account_id, balance_change=-used, held_change=-hold.amount)
        assert after is not None
        common = {"hold": hold, "reference": hold.reference}
        entries = []
        if used:
            at_charge = Totals(after.balance, after.held + rest)
            entries.append(
                _entry(
                    hold.account_id,
                    Kind.CHARGE,
                    at_charge,
                    amount=-used,
                    held_change=-used,
                    memo=hold.memo,
                    **common,
                )
            )
        if rest:
            entries.append(
                _entry(
                    hold.account_id,
                    Kind.RELEASE,
                    after,
                    held_change=-rest,
                    memo="unused part of the hold",
                    **common,
                )
            )
        LedgerEntry.objects.bulk_create(entries)
    return hold


def release(*, hold: Hold, memo: str = "") -> Hold:
    """Return all of a hold's credits: the work failed or never ran."""
    with transaction.atomic():
        _close(hold, Hold.State.RELEASED, ZERO)
        after = _apply(hold.account_id, held_change=-hold.amount)
        assert after is not None
        _write(
            hold.account_id,
            Kind.RELEASE,
            after,
            held_change=-hold.amount,
            hold=hold,
            reference=hold.reference,
            memo=memo or "hold released",
        )
    return hold


def refund(
    *, account: Account, amount: Any, reference: str, memo: str = "", created_by: Any = None
) -> LedgerEntry:
    """Give back credits charged for a reference, at most what was charged for it."""
    amount = to_amount(amount)
    with transaction.atomic():
        # The row lock serializes refunds of one account, so two cannot both pass the cap.
        CreditAccount.objects.select_for_update().filter(account_id=account.pk).exists()
        entries = LedgerEntry.objects.filter(account_id=account.pk, reference=reference)
        net = entries.filter(kind__in=[Kind.CHARGE, Kind.REFUND]).aggregate(s=Sum("amount"))["s"]
        refundable = (-(net or ZERO)).quantize(CENT)
        if amount > refundable:
            raise InvalidAmount(
                f"Cannot refund {amount}: {refundable} refundable for {reference!r}."
            )
        after = _apply(account.pk, balance_change=amount)
        assert after is not None
        return _write(
            account.pk,
            Kind.REFUND,
            after,
            amount=amount,
            reference=reference,
            memo=memo,
            created_by=created_by,
        )


def orphaned_holds(
    older_than: timedelta, request_bound_after: timedelta | None = None
) -> QuerySet[Hold]:
    """Return open holds created more than ``older_than`` ago (a crashed worker's), and
    request-bound ones more than ``request_bound_after`` ago (a killed request's)."""
    now = timezone.now()
    stale = Q(created_at__lt=now - older_than)
    if request_bound_after is not None:
        stale |= Q(request_bound=True, created_at__lt=now - request_bound_after)
    return Hold.objects.filter(stale, state=Hold.State.OPEN)


def release_orphaned_holds(
    older_than: timedelta = timedelta(hours=1),
    batch: int = 1000,
    request_bound_after: timedelta | None = None,
) -> int:
    """Release every orphaned hold; return how many this call released.

    ``request_bound_after`` defaults to the idempotency lease (the web timeout plus a
    margin): no request lives longer, so an evaluation's hold still open then was left by
    a killed worker, and is given back in minutes rather than an hour.
    """
    if request_bound_after is None:
        request_bound_after = timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    released = 0
    for orphan in list(orphaned_holds(older_than, request_bound_after).order_by("pk")[:batch]):
        try:
            release(hold=orphan, memo="released: orphaned hold")
        except HoldClosed:
            continue  # settled or released meanwhile by its own worker
        released += 1
    if released:
        logger.warning("released %d orphaned credit holds", released)
    return released


def _totals(account_id: int) -> Totals:
    balance, held = (
        CreditAccount.objects.filter(account_id=account_id).values_list("balance", "held").get()
    )
    return Totals(balance, held)


def _apply(
    account_id: int,
    *,
    balance_change: Decimal = ZERO,
    held_change: Decimal = ZERO,
    needs: Decimal = ZERO,
) -> Totals | None:
    """Change the totals in one statement if ``needs`` credits are available; else None."""
    # One UPDATE ... RETURNING: the check, the change and the row lock in a single round
    # trip, which keeps the lock (held until commit) as short as it can be. ROUND keeps
    # SQLite, which computes decimals in floating point, to exact cents.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, [balance_change, held_change, now, account_id, needs])
        row = cursor.fetchone()
    if row is None:
        return None
    return Totals(_decimal(row[0]), _decimal(row[1]))


_APPLY_SQL = (
    f"UPDATE {CreditAccount._meta.db_table}"
    " SET balance = ROUND(balance + %s, 2), held = ROUND(held + %s, 2), updated_at = %s"
    " WHERE account_id = %s AND ROUND(balance - held - %s, 2) >= 0 RETURNING balance, held"
)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _close(hold: Hold, state: str, used: Decimal) -> None:
    """Move the hold out of ``open``, or raise HoldClosed if something already did."""
    now = timezone.now()
    closed = Hold.objects.filter(pk=hold.pk, state=Hold.State.OPEN).update(
        state=state, used=used, closed_at=now
    )
    if closed != 1:
        raise HoldClosed()
    hold.state, hold.used, hold.closed_at = state, used, now


def _entry(account_id: int, kind: str, after: Totals, **fields: Any) -> LedgerEntry:
    return LedgerEntry(
        account_id=account_id,
        kind=kind,
        balance_after=after.balance,
        held_after=after.held,
        **fields,
    )


def _write(account_id: int, kind: str, after: Totals, **fields: Any) -> LedgerEntry:
    entry = _entry(account_id, kind, after, **fields)
    entry.save()
    return entry


# --- PostgreSQL: a hold and a settlement in one statement each ---

_HOLD_SQL = f"""
WITH credit AS (
    UPDATE {CreditAccount._meta.db_table}
    SET held = ROUND(held + %(amount)s, 2), updated_at = %(now)s
    WHERE account_id = %(account)s AND ROUND(balance - held - %(amount)s, 2) >= 0
    RETURNING balance, held
), new_hold AS (
    INSERT INTO {Hold._meta.db_table}
        (account_id, amount, reference, memo, request_bound, api_key_id, state, created_at)
    SELECT %(account)s, %(amount)s, %(reference)s, %(memo)s, %(request_bound)s, %(api_key)s,
        'open', %(now)s
    FROM credit
    RETURNING id
), entry AS (
    INSERT INTO {LedgerEntry._meta.db_table}
        (account_id, kind, amount, held_change, balance_after, held_after, hold_id,
         reference, memo, created_at)
    SELECT %(account)s, 'hold', 0, %(amount)s, credit.balance, credit.held, new_hold.id,
        %(reference)s, %(memo)s, %(now)s
    FROM credit, new_hold
), commit_mode AS (
    SELECT set_config('synchronous_commit', %(synchronous_commit)s, true)
)
SELECT new_hold.id FROM new_hold, commit_mode
"""

# The hold leaves "open" (or nothing happens), the totals change, and the charge and the
# release of the rest are appended in that order (ORDER BY: their ids follow it).
_SETTLE_SQL = f"""
WITH closed AS (
    UPDATE {Hold._meta.db_table} SET state = 'settled', used = %(used)s, closed_at = %(now)s
    WHERE id = %(hold)s AND state = 'open'
    RETURNING id
), credit AS (
    UPDATE {CreditAccount._meta.db_table}
    SET balance = ROUND(balance - %(used)s, 2), held = ROUND(held - %(amount)s, 2),
        updated_at = %(now)s
    WHERE account_id = %(account)s AND ROUND(balance - held, 2) >= 0
        AND EXISTS (SELECT 1 FROM closed)
    RETURNING balance, held
), entries AS (
    INSERT INTO {LedgerEntry._meta.db_table}
        (account_id, kind, amount, held_change, balance_after, held_after, hold_id,
         reference, memo, created_at)
    SELECT %(account)s, part.kind, part.amount, part.held_change, credit.balance,
        credit.held + part.held_after_offset, %(hold)s, %(reference)s, part.memo, %(now)s
    FROM credit, (VALUES
        (1, 'charge', -%(used)s::numeric, -%(used)s::numeric, %(rest)s::numeric, %(memo)s),
        (2, 'release', 0::numeric, -%(rest)s::numeric, 0::numeric, 'unused part of the hold')
    ) AS part (position, kind, amount, held_change, held_after_offset, memo)
    WHERE (part.kind = 'charge' AND %(used)s::numeric > 0)
        OR (part.kind = 'release' AND %(rest)s::numeric > 0)
    ORDER BY part.position
)
SELECT count(*) FROM closed
"""


# A hold and its settlement at once (``hold_settled``): the account's row changes once (the
# balance by what was used; the held total ends where it began), the hold is written
# settled, and its hold, charge and release entries carry the totals each would have left.
_HOLD_SETTLED_SQL = f"""
WITH credit AS (
    UPDATE {CreditAccount._meta.db_table}
    SET balance = ROUND(balance - %(used)s, 2), updated_at = %(now)s
    WHERE account_id = %(account)s AND ROUND(balance - held - %(amount)s, 2) >= 0
    RETURNING balance, held
), settled AS (
    INSERT INTO {Hold._meta.db_table}
        (account_id, amount, used, reference, memo, request_bound, api_key_id, state,
         created_at, closed_at)
    SELECT %(account)s, %(amount)s, %(used)s, %(reference)s, %(memo)s, false, %(api_key)s,
        'settled', %(now)s, %(now)s
    FROM credit
    RETURNING id
), entries AS (
    INSERT INTO {LedgerEntry._meta.db_table}
        (account_id, kind, amount, held_change, balance_after, held_after, hold_id,
         reference, memo, created_at)
    SELECT %(account)s, part.kind, part.amount, part.held_change,
        credit.balance + part.balance_offset, credit.held + part.held_offset, settled.id,
        %(reference)s, part.memo, %(now)s
    FROM credit, settled, (VALUES
        (1, 'hold', 0::numeric, %(amount)s::numeric, %(used)s::numeric, %(amount)s::numeric,
            %(memo)s),
        (2, 'charge', -%(used)s::numeric, -%(used)s::numeric, 0::numeric, %(rest)s::numeric,
            %(memo)s),
        (3, 'release', 0::numeric, -%(rest)s::numeric, 0::numeric, 0::numeric,
            'unused part of the hold')
    ) AS part (position, kind, amount, held_change, balance_offset, held_offset, memo)
    WHERE part.kind = 'hold' OR (part.kind = 'charge' AND %(used)s::numeric > 0)
        OR (part.kind = 'release' AND %(rest)s::numeric > 0)
    ORDER BY part.position
)
SELECT settled.id FROM settled
"""
_LAST_SELECT = "SELECT settled.id FROM settled\n"


def _hold_in_one_statement(
    account: Account,
    amount: Decimal,
    reference: str,
    memo: str,
    request_bound: bool,
    flush: bool,
    api_key: APIKey | None,
) -> Hold | None:
    """Hold on PostgreSQL in one statement; None (nothing written) if credits are short."""
    now = timezone.now()
    params: dict[str, Any] = {
        "account": account.pk,
        "amount": amount,
        "now": now,
        "reference": reference,
        "memo": memo,
        "request_bound": request_bound,
        "api_key": api_key.pk if api_key is not None else None,
        # for this transaction only; "on" is the server's default
        "synchronous_commit": "on" if flush else "off",
    }
    with connection.cursor() as cursor:
        cursor.execute(_HOLD_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    held = Hold(
        id=row[0],
        account=account,
        amount=amount,
        reference=reference,
        memo=memo,
        request_bound=request_bound,
        api_key=api_key,
        state=Hold.State.OPEN,
        created_at=now,
    )
    held._state.adding, held._state.db = False, connection.alias
    return held


def _settle_in_one_statement(hold: Hold, used: Decimal, rest: Decimal, now: Any) -> bool:
    """Settle on PostgreSQL in one statement; False (nothing written) if it was not open."""
    params: dict[str, Any] = {
        "hold": hold.pk,
        "account": hold.account_id,
        "amount": hold.amount,
        "used": used,
        "rest": rest,
        "now": now,
        "reference": hold.reference,
        "memo": hold.memo,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_SQL, params)
        row = cursor.fetchone()
    return bool(row and row[0])
