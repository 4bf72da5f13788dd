"""Eval cache edges beside ``test_eval_cache.py``: clean-up, failures, credits, policy.

``regen/evalcache.py`` decides a hit by the expiry stored in each entry; the backend's
own timeout only cleans up, one second after that expiry. The clean-up tests run on a
local-memory cache, whose clock time-machine moves (Redis keeps its own).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache

from billing import ledger
from billing.models import LedgerEntry
from regen import evalcache, evals
from regen.engine.requests import parse_eval_request
from tests.factories import UserFactory

from .texts import FACTUAL, HIRING

URL = "/railscore/v1/eval"
REQUEST = parse_eval_request({"content": FACTUAL})
BODY = {"result": {"from_cache": False}, "metadata": {"req_id": "r-1"}, "credits_consumed": 1.0}


@pytest.fixture
def clock():
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def local_cache(settings):
    """Use a local-memory cache, whose expiry follows the moved clock."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "eval-cache-edges",
        }
    }
    cache.clear()
    yield cache
    cache.clear()


def raw_entry(account_id: int = 1):
    """Read the backend's entry for REQUEST, whatever its stored expiry says."""
    return cache.get(evalcache.key_for(account_id=account_id, request=REQUEST))


def eval_once(client, content: str = FACTUAL):
    return client.post(URL, {"content": content}, format="json")


# Clean-up: the backend forgets an entry one second after it expires.


@pytest.mark.parametrize(("mode", "lifetime"), [("basic", 300), ("deep", 180)])
def test_the_backend_still_holds_an_entry_just_after_it_expired(local_cache, clock, mode, lifetime):
    evalcache.put(account_id=1, request=REQUEST, body=BODY, resolved_mode=mode)
    clock.shift(lifetime + 0.5)
    assert evalcache.get(account_id=1, request=REQUEST, req_id="r-2") is None
    assert raw_entry() is not None


@pytest.mark.parametrize(("mode", "lifetime"), [("basic", 300), ("deep", 180)])
def test_the_backend_forgets_an_entry_a_second_after_it_expired(local_cache, clock, mode, lifetime):
    evalcache.put(account_id=1, request=REQUEST, body=BODY, resolved_mode=mode)
    clock.shift(lifetime + 1)
    assert raw_entry() is None


def test_a_hit_is_served_until_just_before_its_expiry(local_cache, clock):
    evalcache.put(account_id=1, request=REQUEST, body=BODY, resolved_mode="deep")
    clock.shift(179.9)
    hit = evalcache.get(account_id=1, request=REQUEST, req_id="r-2")
    assert hit == {
        "result": {"from_cache": True},
        "metadata": {"req_id": "r-2"},
        "credits_consumed": 0.0,
    }


def test_an_entry_of_one_account_is_no_hit_for_another(local_cache):
    evalcache.put(account_id=1, request=REQUEST, body=BODY, resolved_mode="basic")
    assert evalcache.get(account_id=2, request=REQUEST, req_id="r-2") is None


# Through the API: what is cached, and what a hit still checks.


def test_a_failed_evaluation_is_not_cached(api_a, monkeypatch):
    def explode(**_):
        raise RuntimeError("engine down")

    with monkeypatch.context() as patch:
        patch.setattr(evals, "get_evaluator", explode)
        assert eval_once(api_a).status_code == 500
    body = eval_once(api_a).json()
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 1.0


def test_a_hit_is_served_to_an_account_with_nothing_left_to_spend(api_a, account_a):
    eval_once(api_a)
    staff = UserFactory(is_staff=True)
    ledger.adjust(
        account=account_a,
        amount=-ledger.available_of(account_a),
        reason="spend it all",
        created_by=staff,
    )
    response = eval_once(api_a)
    assert response.status_code == 200
    assert response.json()["result"]["from_cache"] is True


def test_an_account_with_nothing_left_gets_a_402_for_a_request_not_cached(api_a, account_a):
    eval_once(api_a)
    staff = UserFactory(is_staff=True)
    ledger.adjust(
        account=account_a,
        amount=-ledger.available_of(account_a),
        reason="spend it all",
        created_by=staff,
    )
    assert eval_once(api_a, FACTUAL + " Leaves are green.").status_code == 402


def test_a_blocked_eval_repeated_is_blocked_again_without_a_second_charge(api_a, key_a, account_a):
    project = key_a.project
    project.enforcement, project.enforcement_mode = "block", "enforce"
    project.save()
    assert eval_once(api_a, HIRING).status_code == 422
    entries = LedgerEntry.objects.filter(account=account_a).count()
    assert eval_once(api_a, HIRING).status_code == 422
    assert LedgerEntry.objects.filter(account=account_a).count() == entries


def test_a_cached_deep_answer_is_refused_once_the_plan_no_longer_allows_deep(api_a, account_a):
    api_a.post(URL, {"content": FACTUAL, "mode": "deep"}, format="json")
    plan = account_a.plan
    plan.allowed_modes = ["basic"]
    plan.save()
    response = api_a.post(URL, {"content": FACTUAL, "mode": "deep"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_TIER"
