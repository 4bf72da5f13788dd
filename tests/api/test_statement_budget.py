"""How many SQL statements one safe-regenerate call costs (issue 9: printed, goal 8).

Counted on a call that passes at iteration 0, the most common one, after a first call
has warmed the key cache. Savepoints are left out: the test's own transaction turns the
service's transactions into savepoints, which in production are BEGIN and COMMIT.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from .texts import FACTUAL

URL = "/railscore/v1/safe-regenerate"
BUDGET = 2
"""Today's count on PostgreSQL: the key (a prepared statement), then, after the offline
loop, one statement (``ledger.hold_settled``) that holds and settles (the credit row once,
the hold, its hold, charge and release entries) and inserts the finished run and its
iteration. It was 10 before issue 9, whose goal is 8, then 5; lower this as statements go,
never raise it. Other databases take the steps one statement at a time."""


def _statements(api, content: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(URL, {"content": content}, format="json")
    assert response.json()["result"]["status"] == "passed"
    # a prepared statement (the key lookup on PostgreSQL) is recorded without its text
    sqls = [q["sql"] or "(prepared statement)" for q in ctx.captured_queries]
    return [sql for sql in sqls if not sql.startswith(("SAVEPOINT", "RELEASE"))]


def test_a_passing_safe_regenerate_stays_within_its_statement_budget(api_a):
    _statements(api_a, FACTUAL)  # warm: the first call of a key also records its use
    statements = _statements(api_a, FACTUAL + " It is the basis of most food chains.")
    budget = BUDGET if connection.vendor == "postgresql" else 8
    print(f"\nstatements per passing safe-regenerate: {len(statements)} (budget {budget})")

    assert len(statements) <= budget, "\n".join(s[:120] for s in statements)
