"""API keys: issue, verify, revoke, budget. The only code that creates or changes an APIKey.

A key reads ``rail_<prefix>_<secret><checksum>``: a 12-character public prefix that
identifies it in lists, 40 random base62 characters (238 bits from ``secrets``) and a
6-character CRC32 checksum, as GitHub's tokens have, so typos and scanned-up strings are
rejected without a database query. Only the sha256 of the whole key is stored.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import string
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing import ledger
from billing.errors import AuthenticationFailed, InvalidAmount
from billing.models import Account, APIKey, Plan, Project
from railsite.errors import RequestValidationError
from railsite.statements import prepared_cursor

BASE62 = string.digits + string.ascii_letters
PREFIX_ALPHABET = string.digits + string.ascii_lowercase
PREFIX_LENGTH = 12
SECRET_LENGTH = 40
CHECKSUM_LENGTH = 6
KEY_PATTERN = re.compile(r"rail_([a-z0-9]{12})_([A-Za-z0-9]{40})([A-Za-z0-9]{6})")
TOUCH_INTERVAL = timedelta(minutes=1)


def issue_key(
    *,
    project: Project,
    name: str,
    created_by: Any = None,
    monthly_credit_budget: Decimal | None = None,
) -> tuple[APIKey, str]:
    """Create a key for the project; return it with its plaintext, shown only this once."""
    name = (name or "").strip()
    if not name:
        raise RequestValidationError(
            "A key needs a name.", details={"name": ["This field is required."]}
        )
    budget = _budget(monthly_credit_budget)
    prefix = _new_prefix()
    secret = "".join(secrets.choice(BASE62) for _ in range(SECRET_LENGTH))
    raw = f"rail_{prefix}_{secret}{_checksum(prefix, secret)}"
    key = APIKey.objects.create(
        project=project,
        name=name[:120],
        prefix=prefix,
        hashed_secret=hash_key(raw),
        created_by=created_by,
        monthly_credit_budget=budget,
    )
    return key, raw


def set_budget(*, key: APIKey, monthly_credit_budget: Decimal | None) -> APIKey:
    """Set (or, with None, remove) the most credits the key may spend in a calendar month.

    The ledger reads it afresh at every hold, so it applies from the key's next call.
    """
    key.monthly_credit_budget = _budget(monthly_credit_budget)
    APIKey.objects.filter(pk=key.pk).update(monthly_credit_budget=key.monthly_credit_budget)
    return key


MAX_BUDGET = Decimal("1000000000")


def _budget(value: Decimal | None) -> Decimal | None:
    """Check a monthly budget: empty, or a positive amount of at most two decimals."""
    if value is None:
        return None
    try:
        amount = ledger.to_amount(value)
    except InvalidAmount as exc:
        raise _budget_error(exc.message) from exc
    if amount > MAX_BUDGET:
        raise _budget_error(f"A budget is at most {MAX_BUDGET:,.0f} credits a month.")
    return amount


def _budget_error(message: str) -> RequestValidationError:
    return RequestValidationError(message, details={"monthly_credit_budget": [message]})


def verify_key(raw: str) -> APIKey:
    """Return the active key for a plaintext key, or raise AuthenticationFailed."""
    match = KEY_PATTERN.fullmatch(raw or "")
    if match is None or not hmac.compare_digest(match[3], _checksum(match[1], match[2])):
        raise AuthenticationFailed()
    key = _fetch(match[1])
    if key is None or not hmac.compare_digest(key.hashed_secret, hash_key(raw)):
        raise AuthenticationFailed()
    if key.revoked_at is not None:
        raise AuthenticationFailed("This API key has been revoked.")
    return key


def revoke_key(*, key: APIKey) -> APIKey:
    """Revoke the key: every request made with it from now on gets a 401."""
    now = timezone.now()
    APIKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
    key.refresh_from_db(fields=["revoked_at"])
    return key


def touch_last_used(key: APIKey, now: datetime | None = None) -> bool:
    """Record the key's use, writing at most once a minute; return whether it wrote."""
    now = now or timezone.now()
    cutoff = now - TOUCH_INTERVAL
    if key.last_used_at is not None and key.last_used_at > cutoff:
        return False
    # Conditional: of many concurrent requests, one writes and the rest change nothing.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff)
    wrote = APIKey.objects.filter(stale, pk=key.pk).update(last_used_at=now) == 1
    key.last_used_at = now
    return wrote


def hash_key(raw: str) -> str:
    """Return the stored form of a plaintext key: its sha256, in hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _checksum(prefix: str, secret: str) -> str:
    value = zlib.crc32(f"{prefix}_{secret}".encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


# The key, its project, account and plan in one indexed query. Written out once, in SQL,
# because compiling the ORM's select_related costs twice the query itself on every request.
_CHAIN: tuple[Any, ...] = (APIKey, Project, Account, Plan)


@functools.cache
def _lookup(vendor: str) -> tuple[str, list[list[tuple[Any, Any]]]]:
    """Return the lookup's SQL and, per model, each column's (converter, column) pairs."""
    quote = connection.ops.quote_name
    columns, converters = [], []
    for n, model in enumerate(_CHAIN):
        fields = model._meta.concrete_fields
        columns += [f"t{n}.{quote(f.column)}" for f in fields]
        converters.append([(_convert(f, f"t{n}"), f.get_col(f"t{n}")) for f in fields])
    tables = [quote(m._meta.db_table) for m in _CHAIN]
    sql = (
        f"SELECT {', '.join(columns)} FROM {tables[0]} t0"
        f" JOIN {tables[1]} t1 ON t1.id = t0.project_id"
        f" JOIN {tables[2]} t2 ON t2.id = t1.account_id"
        f" JOIN {tables[3]} t3 ON t3.id = t2.plan_id WHERE t0.prefix = %s"
    )
    return sql, converters


def _convert(field: Any, alias: str) -> Any:
    functions = connection.ops.get_db_converters(field.get_col(alias)) + field.get_db_converters(
        connection
    )

    def convert(value: Any, column: Any) -> Any:
        for function in functions:
            value = function(value, column, connection)
        return value

    return convert


def _fetch(prefix: str) -> APIKey | None:
    """Return the key with this prefix, its project, account and plan loaded, or None."""
    sql, converters = _lookup(connection.vendor)
    with prepared_cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    objects: list[Any] = []
    start = 0
    for model, fields in zip(_CHAIN, converters, strict=True):
        values = [
            convert(value, column)
            for (convert, column), value in zip(fields, row[start:], strict=False)
        ]
        objects.append(model.from_db(connection.alias, None, values))
        start += len(fields)
    key, project, account, plan = objects
    key.project, project.account, account.plan = project, account, plan
    return key


def _new_prefix() -> str:
    while True:
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if not APIKey.objects.filter(prefix=prefix).exists():
            return prefix
