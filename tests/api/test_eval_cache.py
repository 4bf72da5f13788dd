"""The /eval cache: 5 minutes basic, 3 deep, per account and canonical request, free hits.

The clock is moved with time-machine. Each entry stores its own expiry, so the moved
clock decides on Redis (whose own TTL a test cannot move) as well as on local memory.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest
import time_machine

from billing import ledger
from billing.models import LedgerEntry
from regen import evalcache
from regen.engine.requests import parse_eval_request
from tests.factories import APIKeyFactory, ProjectFactory
from tests.helpers import client_for

from .scripted import ModeEvaluator, install
from .texts import FACTUAL

URL = "/railscore/v1/eval"


@pytest.fixture
def clock():
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


def _eval(client, **body):
    response = client.post(URL, {"content": FACTUAL, **body}, format="json")
    assert response.status_code == 200
    return response.json()


def _after(client, clock, seconds, **body):
    """Evaluate, move the clock ``seconds`` on, evaluate the same request again."""
    _eval(client, **body)
    clock.shift(seconds)
    return _eval(client, **body)


# Lifetimes: basic 300 s, deep 180 s (README: "cached 5/3 minutes").


def test_a_basic_eval_repeated_at_299_seconds_is_free(api_a, account_a, clock):
    _eval(api_a)
    before = ledger.balance_of(account_a)
    clock.shift(299)
    body = _eval(api_a)
    assert body["result"]["from_cache"] is True
    assert body["credits_consumed"] == 0.0
    assert ledger.balance_of(account_a) == before


def test_a_basic_eval_repeated_at_300_seconds_is_charged_again(api_a, clock):
    body = _after(api_a, clock, 300)
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 1.0


def test_a_basic_eval_repeated_at_301_seconds_is_charged_again(api_a, account_a, clock):
    _eval(api_a)
    before = ledger.balance_of(account_a)
    clock.shift(301)
    body = _eval(api_a)
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 1.0
    assert ledger.balance_of(account_a) == before - 1


def test_a_deep_eval_repeated_at_179_seconds_is_free(api_a, clock):
    body = _after(api_a, clock, 179, mode="deep")
    assert body["result"]["from_cache"] is True
    assert body["credits_consumed"] == 0.0


def test_a_deep_eval_repeated_at_180_seconds_is_charged_again(api_a, clock):
    body = _after(api_a, clock, 180, mode="deep")
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 3.0


def test_a_deep_eval_repeated_at_181_seconds_is_charged_again(api_a, clock):
    body = _after(api_a, clock, 181, mode="deep")
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 3.0


def test_an_auto_eval_escalated_to_deep_is_free_at_179_seconds(api_a, clock, monkeypatch):
    install(monkeypatch, ModeEvaluator(basic=(9.0, 0.3)))  # unsure: escalates
    body = _after(api_a, clock, 179, mode="auto")
    assert body["result"]["from_cache"] is True
    assert body["result"]["resolved_mode"] == "deep"


def test_an_auto_eval_escalated_to_deep_keeps_the_deep_lifetime(api_a, clock, monkeypatch):
    install(monkeypatch, ModeEvaluator(basic=(9.0, 0.3)))
    body = _after(api_a, clock, 181, mode="auto")
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 3.0


def test_an_auto_eval_that_stayed_basic_keeps_the_basic_lifetime(api_a, clock, monkeypatch):
    install(monkeypatch, ModeEvaluator(basic=(9.0, 0.9)))  # sure and far from 7.0
    body = _after(api_a, clock, 299, mode="auto")
    assert body["result"]["from_cache"] is True
    assert body["result"]["resolved_mode"] == "basic"


def test_a_hit_does_not_extend_the_lifetime(api_a, clock):
    _eval(api_a)
    clock.shift(299)
    _eval(api_a)
    clock.shift(2)
    body = _eval(api_a)
    assert body["result"]["from_cache"] is False


# A hit: free, from_cache, a fresh req_id, otherwise the first answer.


def test_a_hit_writes_nothing_to_the_ledger(api_a, account_a):
    _eval(api_a)
    entries = LedgerEntry.objects.filter(account=account_a).count()
    _eval(api_a)
    assert LedgerEntry.objects.filter(account=account_a).count() == entries


def test_a_hit_has_a_fresh_req_id(api_a):
    first = _eval(api_a)
    second = _eval(api_a)
    assert second["metadata"]["req_id"] != first["metadata"]["req_id"]


def test_a_hit_req_id_is_a_uuid(api_a):
    _eval(api_a)
    second = _eval(api_a)
    assert str(uuid.UUID(second["metadata"]["req_id"])) == second["metadata"]["req_id"]


def test_a_hit_answers_the_first_result_apart_from_from_cache(api_a):
    first = _eval(api_a)
    second = _eval(api_a)
    assert second["result"] == {**first["result"], "from_cache": True}


def test_the_first_answer_is_not_from_cache(api_a):
    assert _eval(api_a)["result"]["from_cache"] is False


def test_a_hit_does_not_change_what_the_next_hit_answers(api_a):
    first = _eval(api_a)
    _eval(api_a)
    third = _eval(api_a)
    assert third["result"] == {**first["result"], "from_cache": True}


# The key: per account, per field that matters, not per key order.


def test_account_b_never_gets_account_a_cached_result(api_a, api_b, account_b):
    _eval(api_a)
    before = ledger.balance_of(account_b)
    body = _eval(api_b)
    assert body["result"]["from_cache"] is False
    assert ledger.balance_of(account_b) == before - 1


def test_account_a_is_charged_nothing_for_account_b_eval(api_a, api_b, account_a):
    _eval(api_a)
    before = ledger.balance_of(account_a)
    _eval(api_b)
    assert ledger.balance_of(account_a) == before


def test_a_key_of_another_project_of_the_same_account_shares_its_cache(api_a, account_a):
    _eval(api_a)
    other = client_for(APIKeyFactory(project=ProjectFactory(account=account_a, name="App A2")))
    assert _eval(other)["result"]["from_cache"] is True


VARIANTS = {
    "content": {"content": FACTUAL + " It also needs chlorophyll."},
    "mode": {"mode": "deep"},
    "dimensions": {"dimensions": ["safety", "privacy"]},
    "weights": {"weights": {"safety": 60, "privacy": 40}},
    "overall threshold": {"thresholds": {"overall": {"score": 8.0}}},
    "confidence threshold": {"thresholds": {"overall": {"confidence": 0.7}}},
    "dimension threshold": {"thresholds": {"dimensions": {"safety": 9.0}}},
    "tradeoff mode": {"thresholds": {"tradeoff_mode": "strict"}},
    "max dimension failures": {"thresholds": {"max_dimension_failures": 0}},
    "domain": {"domain": "healthcare"},
    "usecase": {"usecase": "chatbot"},
    "context": {"context": "A biology lesson."},
    "prompt": {"prompt": "What is photosynthesis?"},
    "include_explanations": {"include_explanations": True},
    "include_issues": {"include_issues": True},
    "include_suggestions": {"include_suggestions": True},
}


@pytest.mark.parametrize("change", VARIANTS.values(), ids=VARIANTS.keys())
def test_a_request_differing_in_one_field_is_not_served_from_cache(api_a, change):
    _eval(api_a)
    assert _eval(api_a, **change)["result"]["from_cache"] is False


def _post_raw(client, text):
    response = client.post(URL, text, content_type="application/json")
    assert response.status_code == 200
    return response.json()


def test_a_request_differing_only_in_key_order_is_served_from_cache(api_a):
    first = json.dumps(
        {
            "content": FACTUAL,
            "mode": "basic",
            "weights": {"safety": 60, "privacy": 40},
            "thresholds": {"overall": {"score": 8.0, "confidence": 0.6}, "tradeoff_mode": "strict"},
        }
    )
    reordered = json.dumps(
        {
            "thresholds": {"tradeoff_mode": "strict", "overall": {"confidence": 0.6, "score": 8.0}},
            "weights": {"privacy": 40, "safety": 60},
            "mode": "basic",
            "content": FACTUAL,
        }
    )
    _post_raw(api_a, first)
    assert _post_raw(api_a, reordered)["result"]["from_cache"] is True


def test_dimensions_listed_in_another_order_are_served_from_cache(api_a):
    _eval(api_a, dimensions=["safety", "privacy"])
    body = _eval(api_a, dimensions=["privacy", "safety"])
    assert body["result"]["from_cache"] is True


def test_a_request_spelling_out_the_defaults_is_served_from_cache(api_a):
    _eval(api_a)
    body = _eval(api_a, mode="basic", domain="general", thresholds={"overall": {"score": 7.0}})
    assert body["result"]["from_cache"] is True


def test_the_key_is_the_account_and_the_hash_of_the_canonical_request():
    # Stable across releases: web nodes of two versions share one Redis during a deploy.
    request = parse_eval_request({"content": "Water boils at 100 degrees at sea level."})
    canonical = json.dumps(request.to_dict(), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert evalcache.key_for(account_id=42, request=request) == f"eval:42:{digest}"


def test_the_backend_keeps_an_entry_a_little_longer_than_its_lifetime(monkeypatch):
    # The stored expiry decides; the backend's timeout (Redis TTL) only cleans up after it.
    timeouts = []
    monkeypatch.setattr(
        evalcache.cache, "set", lambda key, value, timeout: timeouts.append(timeout)
    )
    request = parse_eval_request({"content": "Water boils at 100 degrees at sea level."})
    evalcache.put(account_id=1, request=request, body={}, resolved_mode="deep")
    assert timeouts[0] > 180
    assert timeouts[0] <= 240
