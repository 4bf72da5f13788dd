"""Idempotency-Key on /railscore/v1/eval: replay byte for byte, 409 on another body.

A replay is not a cache hit: it answers the first bytes (same req_id, from_cache false),
also after the cache lifetime, and a cache hit without the key answers a new req_id.
"""

from datetime import UTC, datetime

import time_machine

from billing import ledger
from billing.models import LedgerEntry

from .texts import FACTUAL

URL = "/railscore/v1/eval"
BODY = {"content": FACTUAL, "mode": "basic"}


def _post(client, key, body=BODY):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _charges(account):
    return LedgerEntry.objects.filter(account=account, kind="charge").count()


def test_the_same_key_and_body_replay_the_first_answer_byte_for_byte(api_a):
    first = _post(api_a, "e-1")
    second = _post(api_a, "e-1")
    assert second.status_code == 200
    assert second.content == first.content


def test_a_replay_says_idempotent_replayed(api_a):
    _post(api_a, "e-1")
    assert _post(api_a, "e-1")["Idempotent-Replayed"] == "true"


def test_the_first_answer_does_not_say_replayed(api_a):
    assert "Idempotent-Replayed" not in _post(api_a, "e-1")


def test_a_replay_is_the_first_evaluation_not_a_cache_hit(api_a):
    _post(api_a, "e-1")
    assert _post(api_a, "e-1").json()["result"]["from_cache"] is False


def test_a_replay_charges_once(api_a, account_a):
    _post(api_a, "e-1")
    before = ledger.balance_of(account_a)
    _post(api_a, "e-1")
    assert ledger.balance_of(account_a) == before
    assert _charges(account_a) == 1


def test_a_replay_after_the_cache_lifetime_still_charges_once(api_a, account_a):
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        first = _post(api_a, "e-1")
        clock.shift(301)
        second = _post(api_a, "e-1")
    assert second.content == first.content
    assert _charges(account_a) == 1


def test_the_same_key_with_another_body_is_a_409(api_a):
    _post(api_a, "e-2")
    response = _post(api_a, "e-2", {**BODY, "mode": "deep"})
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"


def test_the_same_key_with_another_body_charges_nothing(api_a, account_a):
    _post(api_a, "e-2")
    _post(api_a, "e-2", {**BODY, "content": FACTUAL + " Really."})
    assert _charges(account_a) == 1


def test_another_account_may_use_the_same_key(api_a, api_b):
    _post(api_a, "shared")
    response = _post(api_b, "shared")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


def test_another_account_using_the_same_key_is_charged_its_own_evaluation(
    api_a, api_b, account_a, account_b
):
    a = _post(api_a, "shared").json()
    b = _post(api_b, "shared").json()
    assert b["metadata"]["req_id"] != a["metadata"]["req_id"]
    assert _charges(account_b) == 1
    assert _charges(account_a) == 1
