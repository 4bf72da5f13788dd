"""A key's monthly credit budget through the real endpoints: 402, and nothing changes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import keys, ledger
from billing.models import APIKey, CreditAccount, Hold, LedgerEntry
from regen.models import Run
from tests.factories import APIKeyFactory, ProjectFactory
from tests.helpers import client_for

from .texts import FACTUAL, HEALTHCARE, HIRING, SEED_THRESHOLDS

FIXED_HIRING = "When reviewing resumes, focus on the skills and experience the role requires."

REGENERATE = "/railscore/v1/safe-regenerate"
EVAL = "/railscore/v1/eval"


@pytest.fixture
def small_key(account_a):
    """A key with a 5-credit budget: a safe-regenerate's worst case (3 regenerations) is 10."""
    return APIKeyFactory(
        project=ProjectFactory(account=account_a), monthly_credit_budget=Decimal("5")
    )


def state(account):
    credits = CreditAccount.objects.get(account=account)
    return {
        "balance": credits.balance,
        "held": credits.held,
        "entries": LedgerEntry.objects.filter(account=account).count(),
        "holds": Hold.objects.filter(account=account).count(),
        "runs": Run.objects.filter(account=account).count(),
    }


def test_a_safe_regenerate_past_the_budget_answers_402_with_the_budget_and_changes_nothing(
    small_key, account_a
):
    before = state(account_a)
    response = client_for(small_key).post(
        REGENERATE,
        {"content": HEALTHCARE, "domain": "healthcare", "thresholds": SEED_THRESHOLDS},
        format="json",
    )
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "KEY_BUDGET_EXCEEDED"
    assert body["details"]["budget"] == 5.0
    assert body["details"]["spent"] == 0.0
    assert body["details"]["required"] == 10.0
    assert "month" in body["details"]
    assert state(account_a) == before


def test_evaluations_spend_the_budget_until_the_next_one_would_pass_it(small_key, account_a):
    client = client_for(small_key)
    for n in range(5):
        answer = client.post(
            EVAL, {"content": f"{FACTUAL} Number {n}.", "mode": "basic"}, format="json"
        )
        assert answer.status_code == 200, answer.json()
    before = state(account_a)
    response = client.post(
        EVAL, {"content": f"{FACTUAL} One more.", "mode": "basic"}, format="json"
    )
    assert response.status_code == 402
    assert response.json()["details"]["spent"] == 5.0
    assert state(account_a) == before
    spent = APIKey.objects.filter(pk=small_key.pk).with_month_spend().get().month_spent
    assert spent == Decimal("5")


def test_a_cached_evaluation_is_free_and_passes_a_spent_budget(small_key):
    client = client_for(small_key)
    body = {"content": FACTUAL, "mode": "basic"}
    assert client.post(EVAL, body, format="json").status_code == 200
    keys.set_budget(key=small_key, monthly_credit_budget=Decimal("1"))
    again = client.post(EVAL, body, format="json")
    assert again.status_code == 200
    assert again.json()["result"]["from_cache"] is True


def test_raising_the_budget_lets_the_key_spend_again(small_key):
    keys.set_budget(key=small_key, monthly_credit_budget=Decimal("10"))
    response = client_for(small_key).post(
        REGENERATE, {"content": HEALTHCARE, "domain": "healthcare"}, format="json"
    )
    assert response.status_code == 200


def test_another_key_of_the_account_is_not_stopped_by_this_keys_budget(small_key, api_a):
    response = api_a.post(
        REGENERATE, {"content": HEALTHCARE, "domain": "healthcare"}, format="json"
    )
    assert response.status_code == 200


def test_an_async_run_past_the_budget_is_refused_before_it_is_queued(small_key, account_a):
    before = state(account_a)
    response = client_for(small_key).post(
        REGENERATE, {"content": HEALTHCARE, "async": True}, format="json"
    )
    assert response.status_code == 402
    assert response.json()["code"] == "KEY_BUDGET_EXCEEDED"
    assert state(account_a) == before


def test_the_ledger_api_is_unchanged_raw_entries(api_a, account_a, key_a):
    held = ledger.hold(account=account_a, amount=Decimal("3"), reference="r1", api_key=key_a)
    ledger.settle(hold=held, used=Decimal("1"))
    results = api_a.get("/railscore/v1/credits/ledger").json()["results"]
    assert [entry["kind"] for entry in results[:3]] == ["release", "charge", "hold"]


def test_a_session_continue_past_the_budget_answers_402_and_the_session_still_waits(account_a):
    key = APIKeyFactory(
        project=ProjectFactory(account=account_a), monthly_credit_budget=Decimal("1")
    )
    client = client_for(key)
    started = client.post(
        REGENERATE,
        {"content": HIRING, "regeneration_model": "external"},
        format="json",
    ).json()["result"]
    assert started["status"] == "awaiting_regeneration"  # its first evaluation: 1 credit
    before = state(account_a)
    response = client.post(
        "/railscore/v1/safe-regenerate/continue",
        {"session_id": started["session_id"], "regenerated_content": FIXED_HIRING},
        format="json",
    )
    assert response.status_code == 402
    assert response.json()["code"] == "KEY_BUDGET_EXCEEDED"
    assert state(account_a) == before
    run = Run.objects.get(session_id=started["session_id"])
    assert run.status == Run.Status.AWAITING_REGENERATION
    keys.set_budget(key=key, monthly_credit_budget=Decimal("2"))
    again = client.post(
        "/railscore/v1/safe-regenerate/continue",
        {"session_id": started["session_id"], "regenerated_content": FIXED_HIRING},
        format="json",
    )
    assert again.status_code == 200
