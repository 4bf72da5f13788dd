"""The billing endpoints: /verify, credits and the ledger, each scoped to the key's account."""

from __future__ import annotations

from billing import ledger
from billing.models import LedgerEntry


def test_verify_answers_valid_with_the_plan_and_the_credits_left(api_a, key_a):
    ledger.hold(account=key_a.account, amount=30, reference="req_running")
    response = api_a.post("/verify")
    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "plan": "pro",
        "credits_remaining": 70.0,
        "account": "Account A",
        "project": "app-a",
        "environment": "production",
    }


def test_verify_is_free(api_a, key_a):
    entries = LedgerEntry.objects.filter(account=key_a.account).count()
    response = api_a.post("/verify")
    assert response.status_code == 200
    assert response.json()["credits_remaining"] == 100.0
    assert ledger.balance_of(key_a.account) == 100
    assert LedgerEntry.objects.filter(account=key_a.account).count() == entries


def test_credits_show_the_balance_the_held_part_and_what_is_available(api_a, key_a):
    ledger.hold(account=key_a.account, amount="12.50", reference="req_running")
    body = api_a.get("/railscore/v1/credits").json()
    assert body == {
        "balance": 100.0,
        "held": 12.5,
        "available": 87.5,
        "plan": "pro",
        "credits_per_month": 1000,
    }


def test_the_ledger_lists_the_accounts_entries_newest_first(api_a, key_a):
    held = ledger.hold(account=key_a.account, amount=10, reference="req_1")
    ledger.settle(hold=held, used=3)
    body = api_a.get("/railscore/v1/credits/ledger").json()
    assert body["count"] == 4
    assert [e["kind"] for e in body["results"]] == ["release", "charge", "hold", "grant"]
    assert body["results"][1] == {
        **body["results"][1],
        "amount": -3.0,
        "held_change": -3.0,
        "balance_after": 97.0,
        "reference": "req_1",
    }


def test_the_ledger_is_paginated_and_filterable(api_a, key_a, django_assert_max_num_queries):
    for i in range(7):
        ledger.grant(account=key_a.account, amount=1, memo=f"grant {i}")
    with django_assert_max_num_queries(4):
        body = api_a.get("/railscore/v1/credits/ledger?page_size=5&page=2").json()
    assert body["count"] == 8
    assert len(body["results"]) == 3
    assert body["previous"]
    charges = api_a.get("/railscore/v1/credits/ledger?kind=charge").json()
    assert charges["count"] == 0


def test_a_key_of_account_a_never_sees_the_credits_or_ledger_of_account_b(api_a, key_a, key_b):
    ledger.hold(account=key_b.account, amount=40, reference="req_of_b")
    assert api_a.get("/railscore/v1/credits").json()["available"] == 100.0
    entries = api_a.get("/railscore/v1/credits/ledger").json()["results"]
    assert {e["reference"] for e in entries} == {""}
    assert api_a.get("/railscore/v1/credits/ledger?reference=req_of_b").json()["count"] == 0
    assert api_a.get("/railscore/v1/credits/ledger?page=2").status_code == 404


def test_every_answer_carries_the_rate_limit_headers(api_a):
    for response in (
        api_a.post("/verify"),
        api_a.get("/railscore/v1/credits"),
        api_a.get("/railscore/v1/credits/ledger"),
    ):
        assert response["X-RateLimit-Limit"] == "60"
        assert "X-RateLimit-Remaining" in response
        assert "X-RateLimit-Reset" in response


def test_a_wrong_method_gets_405_in_the_contract_shape(api_a):
    response = api_a.get("/verify")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_the_schema_documents_the_endpoints_and_bearer_auth(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/verify", "/railscore/v1/credits", "/railscore/v1/credits/ledger"):
        assert path in schema
    assert "bearer" in schema
