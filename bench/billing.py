"""Billing benchmarks: API-key authentication, the rate-limit check, hold+settle pairs.

Runs against a throw-away database (``railsite_bench`` on PostgreSQL) created from the
migrations, on whatever ``DATABASE_URL`` and ``CACHE_URL`` point at.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

ROUNDS = 2000
PAIRS = 300
CLIENTS = 8
PAIRS_PER_CLIENT = 100


def run() -> list[tuple[str, str, str]]:
    """Measure billing's hot paths; return (measure, figure, goal) rows."""
    import django
    from django.conf import settings

    if not settings.configured:
        django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = "railsite_bench"
    auth_log = logging.getLogger("billing.auth")
    level = auth_log.level
    auth_log.setLevel(logging.WARNING)  # one log line per request would swamp the table
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return _authentication() + _statements() + _pairs(connection.vendor)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        auth_log.setLevel(level)


def _authentication() -> list[tuple[str, str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from billing.authentication import APIKeyAuthentication
    from billing.ratelimit import check_rate_limit

    key, raw = _key()
    http_request = APIRequestFactory().post("/verify", HTTP_AUTHORIZATION=f"Bearer {raw}")

    def authenticate() -> None:
        APIKeyAuthentication().authenticate(Request(http_request))

    authenticate()
    with CaptureQueriesContext(connection) as queries:
        authenticate()
    auth = _timings(authenticate, ROUNDS)
    limit = _timings(lambda: _unlimited(check_rate_limit, key), ROUNDS)
    return [
        ("billing: API-key auth, median", _ms(statistics.median(auth)), "< 0.3 ms"),
        ("billing: API-key auth, p99", _ms(_pct(auth, 99)), "<= 1 ms (R8)"),
        ("billing: API-key auth, queries", str(len(queries)), "1 (indexed prefix)"),
        ("billing: rate-limit check, median", _ms(statistics.median(limit)), ""),
    ]


def _statements() -> list[tuple[str, str, str]]:
    """Count the SQL statements of one passing safe-regenerate, as the API runs it
    (tests/api/test_statement_budget.py asserts the same count)."""
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    _, raw = _key("bench-statements")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
    url = "/railscore/v1/safe-regenerate"
    text = "Photosynthesis lets green plants turn sunlight, water and carbon dioxide into glucose."

    def call(content: str) -> None:
        response = client.post(url, json.dumps({"content": content}), "application/json")
        assert response.status_code == 200, response.content

    call(text)  # warm: a key's first call also records its use
    with CaptureQueriesContext(connection) as queries:
        call(text + " It feeds most food chains.")
    sqls = [(q["sql"] or "(prepared)").strip() for q in queries.captured_queries]
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    count = sum(not sql.startswith(control) for sql in sqls)
    transactions = sum(sql.startswith("COMMIT") for sql in sqls)
    return [
        ("API: SQL statements per passing safe-regenerate", str(count), "<= 8"),
        ("API: ... and its transactions (BEGIN/COMMIT)", str(transactions), ""),
    ]


def _pairs(vendor: str) -> list[tuple[str, str, str]]:
    from billing import ledger

    account = _account("bench-ledger")
    alone = _timings(lambda: _pair(account.pk), PAIRS)
    rows = [(f"billing: hold+settle pair ({vendor}), median", _ms(statistics.median(alone)), "")]
    if vendor == "sqlite":
        rows.append((f"billing: hold+settle pair, {CLIENTS} clients", "n/a on SQLite", ""))
        return rows
    shared = _in_processes([account.pk] * CLIENTS)
    separate = _in_processes([_account(f"bench-{n}").pk for n in range(CLIENTS)])
    expected = Decimal(1_000_000) - PAIRS - CLIENTS * PAIRS_PER_CLIENT
    reconciled = ledger.balance_of(account) == expected == ledger.available_of(account)
    one, many = f"{CLIENTS} clients on one account", f"{CLIENTS} clients on {CLIENTS} accounts"
    rows += [
        (f"billing: hold+settle pair, {one}, median", _ms(statistics.median(shared)), ""),
        (f"billing: hold+settle pair, {one}, p95", _ms(_pct(shared, 95)), "<= 15 ms (R9)"),
        (f"billing: hold+settle pair, {many}, p95", _ms(_pct(separate, 95)), "<= 15 ms (R9)"),
        ("billing: ledger reconciles after the run", "yes" if reconciled else "NO", "yes"),
    ]
    return rows


def _pair(account_id: int) -> None:
    from billing import ledger
    from billing.models import Account

    account = Account(pk=account_id)
    # as a synchronous request pairs them: its hold's commit is not waited for, since the
    # settle's flushed commit follows in the same request (ledger.hold's ``flush``)
    held = ledger.hold(account=account, amount=Decimal("10"), reference="bench", flush=False)
    ledger.settle(hold=held, used=Decimal("1"))


def _client(account_id: int) -> list[float]:
    """One client process: its own connection, PAIRS_PER_CLIENT pairs on the shared account."""
    return _timings(lambda: _pair(account_id), PAIRS_PER_CLIENT)


def _in_processes(account_ids: list[int]) -> list[float]:
    """Run one client process per account id (processes: no shared GIL), all at once."""
    from django.db import connections

    connections.close_all()  # each forked client opens its own connection
    with multiprocessing.get_context("fork").Pool(len(account_ids)) as pool:
        per_client = pool.map(_client, account_ids)
    return [t for timings in per_client for t in timings]


def _account(slug: str):  # type: ignore[no-untyped-def]
    from billing import ledger
    from billing.accounts import create_account
    from billing.plans import get_plan

    account = create_account(name=f"Bench {slug}", slug=slug, plan=get_plan("pro"))
    ledger.grant(account=account, amount=1_000_000, memo="bench")
    return account


def _key(slug: str = "bench-auth"):  # type: ignore[no-untyped-def]
    from billing import keys
    from billing.accounts import create_project

    project = create_project(account=_account(slug), name="bench")
    return keys.issue_key(project=project, name="bench")


def _unlimited(check: Callable[..., object], key: object) -> None:
    from billing.errors import RateLimitExceeded

    with contextlib.suppress(RateLimitExceeded):  # Pro's 60/min runs out at once
        check(key)


def _timings(fn: Callable[[], None], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _pct(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")
    import django

    django.setup()
    for row in run():
        print("  ".join(row))
