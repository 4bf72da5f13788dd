"""README: every POST takes an `Idempotency-Key`; the same key and body replay the stored
answer (`Idempotent-Replayed: true`) and charge nothing again; another body is a 409.

Every POST endpoint but `/railscore/v1/eval` (its idempotency lives beside its cache tests)
is exercised here with one table of cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from billing import ledger
from billing.models import LedgerEntry
from regen.models import Iteration, ReviewItem, Run
from tests.api.texts import FACTUAL, HIRING, VIOLENT
from tests.helpers import let_another_key_have_made

SAFE_REGENERATE = "/railscore/v1/safe-regenerate"
STILL_FAILING = HIRING + " Also hire fast."


def _nothing(client) -> dict[str, Any]:
    return {}


def _open_session(client) -> dict[str, Any]:
    body = {"content": HIRING, "regeneration_model": "external"}
    result = client.post(SAFE_REGENERATE, body, format="json").json()["result"]
    return {"session_id": result["session_id"]}


def _critical_item(client) -> dict[str, Any]:
    body = client.post(SAFE_REGENERATE, {"content": VIOLENT}, format="json").json()
    let_another_key_have_made(body["review_id"])  # a key never decides its own content
    return {"review_id": body["review_id"]}


@dataclass(frozen=True)
class Case:
    """One POST endpoint: how to set it up, a body, and another body for the same key."""

    name: str
    url: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    other: Callable[[dict[str, Any]], dict[str, Any]]
    prepare: Callable[[Any], dict[str, Any]] = _nothing

    def __str__(self) -> str:
        return self.name


CASES = [
    Case(
        "safe-regenerate",
        lambda ctx: SAFE_REGENERATE,
        lambda ctx: {"content": HIRING},
        lambda ctx: {"content": HIRING, "max_regenerations": 2},
    ),
    Case(
        "safe-regenerate-async",
        lambda ctx: SAFE_REGENERATE,
        lambda ctx: {"content": HIRING, "async": True},
        lambda ctx: {"content": HIRING, "async": True, "max_regenerations": 2},
    ),
    Case(
        "safe-regenerate-dry-run",
        lambda ctx: SAFE_REGENERATE,
        lambda ctx: {"content": HIRING, "dry_run": True},
        lambda ctx: {"content": HIRING, "dry_run": True, "mode": "deep"},
    ),
    Case(
        "safe-regenerate-external",
        lambda ctx: SAFE_REGENERATE,
        lambda ctx: {"content": HIRING, "regeneration_model": "external"},
        lambda ctx: {"content": HIRING, "regeneration_model": "external", "max_regenerations": 2},
    ),
    Case(
        "continue",
        lambda ctx: SAFE_REGENERATE + "/continue",
        lambda ctx: {"session_id": ctx["session_id"], "regenerated_content": STILL_FAILING},
        lambda ctx: {"session_id": ctx["session_id"], "regenerated_content": STILL_FAILING + "!"},
        _open_session,
    ),
    Case(
        "review-decision",
        lambda ctx: f"/railscore/v1/review-items/{ctx['review_id']}/decision",
        lambda ctx: {"decision": "reject", "reason": "Incites violence."},
        lambda ctx: {"decision": "approve", "reason": "Quoted in a news report."},
        _critical_item,
    ),
    Case(
        "evalguard",
        lambda ctx: "/api/v1/evals/safe-regenerate",
        lambda ctx: {"content": FACTUAL, "prompt": "Explain it briefly."},
        lambda ctx: {"content": FACTUAL, "prompt": "Explain it briefly.", "threshold": 0.5},
    ),
]


def _post(client, case: Case, ctx: dict[str, Any], body: dict[str, Any], key: str = "key-1"):
    return client.post(case.url(ctx), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _money(account) -> tuple[Any, ...]:
    """What a charge would change: the balance, what is held, and the ledger's rows."""
    entries = tuple(LedgerEntry.objects.filter(account=account).values_list("pk", flat=True))
    return ledger.balance_of(account), ledger.available_of(account), entries


def _work() -> tuple[Any, ...]:
    """What doing the work again would change: runs, scored versions, decisions."""
    items = ReviewItem.objects.order_by("pk")
    decisions = tuple(items.values_list("state", "decided_at", "decision_reason"))
    runs = Run.objects.order_by("pk")
    runs = tuple(runs.values_list("pk", "status", "iterations_done", "version"))
    return runs, Iteration.objects.count(), decisions


@pytest.fixture(params=CASES, ids=str)
def case(request) -> Case:
    return request.param


def test_the_same_key_and_body_replay_the_first_answer_byte_for_byte(api_a, case):
    ctx = case.prepare(api_a)
    first = _post(api_a, case, ctx, case.body(ctx))
    again = _post(api_a, case, ctx, case.body(ctx))
    assert again.status_code == first.status_code
    assert again.content == first.content


def test_a_replay_says_idempotent_replayed_and_the_first_answer_does_not(api_a, case):
    ctx = case.prepare(api_a)
    first = _post(api_a, case, ctx, case.body(ctx))
    again = _post(api_a, case, ctx, case.body(ctx))
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_a_replay_charges_nothing_again(api_a, account_a, case):
    ctx = case.prepare(api_a)
    _post(api_a, case, ctx, case.body(ctx))
    money = _money(account_a)
    _post(api_a, case, ctx, case.body(ctx))
    assert _money(account_a) == money


def test_a_replay_runs_scores_or_decides_nothing_again(api_a, case):
    ctx = case.prepare(api_a)
    _post(api_a, case, ctx, case.body(ctx))
    work = _work()
    _post(api_a, case, ctx, case.body(ctx))
    assert _work() == work


def test_the_same_key_with_another_body_is_a_409_idempotency_conflict(api_a, case):
    ctx = case.prepare(api_a)
    _post(api_a, case, ctx, case.body(ctx))
    response = _post(api_a, case, ctx, case.other(ctx))
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert response.json()["error"]


def test_the_same_key_with_another_body_charges_and_does_nothing(api_a, account_a, case):
    ctx = case.prepare(api_a)
    _post(api_a, case, ctx, case.body(ctx))
    money, work = _money(account_a), _work()
    _post(api_a, case, ctx, case.other(ctx))
    assert _money(account_a) == money
    assert _work() == work


def test_the_key_is_scoped_to_the_account(api_a, api_b, case):
    ctx_a, ctx_b = case.prepare(api_a), case.prepare(api_b)
    first = _post(api_a, case, ctx_a, case.body(ctx_a), key="shared")
    theirs = _post(api_b, case, ctx_b, case.body(ctx_b), key="shared")
    assert theirs.status_code == first.status_code  # not a 409: the key is free in B
    assert "Idempotent-Replayed" not in theirs  # and not A's stored answer


def test_verify_replays_with_the_same_key(api_a):
    api_a.post("/verify", {}, format="json", HTTP_IDEMPOTENCY_KEY="v-1")
    again = api_a.post("/verify", {}, format="json", HTTP_IDEMPOTENCY_KEY="v-1")
    assert again.get("Idempotent-Replayed") == "true"
