"""``Idempotency-Key`` edges (T06-T08, T32): lifetime, body comparison, scope, errors.

The requests go to ``/railscore/v1/eval`` (the cheapest POST) with a raw JSON body, so
the bytes the key is bound to are the bytes written here. An eval repeated without a
replay may still be free (the eval cache), so a replay is told apart by its header and
by its ``req_id``, which a fresh execution never repeats.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection

from billing import ledger
from billing.models import LedgerEntry
from regen import evals
from regen.models import IdempotencyRecord
from tests.api.texts import FACTUAL, HEALTHCARE
from tests.helpers import client_for, postgres_only

URL = "/railscore/v1/eval"
BODY = json.dumps({"content": FACTUAL, "mode": "basic"})
OTHER_BODY = json.dumps({"content": HEALTHCARE, "mode": "basic"})


def post(client, key: str | None, body: str = BODY, url: str = URL):
    """POST raw JSON bytes with the key (no header when ``key`` is None)."""
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url, body, content_type="application/json", **headers)


def req_id(response) -> str:
    return response.json()["metadata"]["req_id"]


def replayed(response) -> bool:
    return response.get("Idempotent-Replayed") == "true"


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["error"]


@pytest.fixture
def clock():
    """A frozen clock, moved by hand."""
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


# A replay --------------------------------------------------------------------------


def test_a_replay_repeats_the_status_and_bytes_of_the_first_answer(api_a):
    first = post(api_a, "k")
    second = post(api_a, "k")
    assert second.status_code == first.status_code == 200
    assert second.content == first.content


def test_a_replay_is_marked_and_the_first_answer_is_not(api_a):
    first = post(api_a, "k")
    second = post(api_a, "k")
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_a_replay_is_json(api_a):
    post(api_a, "k")
    assert post(api_a, "k")["Content-Type"] == "application/json"


def test_a_replay_writes_nothing_to_the_ledger(api_a, account_a):
    post(api_a, "k")
    entries = LedgerEntry.objects.filter(account=account_a).count()
    post(api_a, "k")
    assert LedgerEntry.objects.filter(account=account_a).count() == entries


def test_a_request_without_a_key_stores_nothing(api_a):
    post(api_a, None)
    assert not IdempotencyRecord.objects.exists()


def test_requests_without_a_key_are_never_replayed(api_a):
    post(api_a, None)
    assert not replayed(post(api_a, None))


def test_the_record_keeps_the_answer_the_request_and_its_owner(api_a, account_a):
    first = post(api_a, "k")
    record = IdempotencyRecord.objects.get()
    assert (record.account, record.key, record.path) == (account_a, "k", URL)
    assert record.body_hash == hashlib.sha256(BODY.encode()).hexdigest()
    assert (record.state, record.status_code) == ("done", 200)
    assert record.body == first.content.decode()


def test_a_conflicting_request_does_not_spoil_the_stored_answer(api_a):
    first = post(api_a, "k")
    post(api_a, "k", OTHER_BODY)
    second = post(api_a, "k")
    assert second.content == first.content
    assert replayed(second)


# The lifetime: 24 hours ------------------------------------------------------------


def test_a_replay_at_23_hours_59_minutes_answers_the_stored_answer(api_a, clock):
    first = post(api_a, "k")
    clock.shift(timedelta(hours=23, minutes=59))
    second = post(api_a, "k")
    assert replayed(second)
    assert req_id(second) == req_id(first)


def test_a_replay_at_exactly_24_hours_still_answers_the_stored_answer(api_a, clock):
    first = post(api_a, "k")
    clock.shift(timedelta(hours=24))
    second = post(api_a, "k")
    assert replayed(second)
    assert req_id(second) == req_id(first)


def test_the_same_key_at_24_hours_1_minute_runs_again_and_is_charged(api_a, account_a, clock):
    first = post(api_a, "k")
    clock.shift(timedelta(hours=24, minutes=1))
    before = ledger.balance_of(account_a)
    second = post(api_a, "k")
    assert not replayed(second)
    assert req_id(second) != req_id(first)
    assert ledger.balance_of(account_a) == before - 1


def test_a_key_run_again_after_a_day_keeps_one_record_with_the_new_answer(api_a, clock):
    post(api_a, "k")
    clock.shift(timedelta(hours=24, minutes=1))
    second = post(api_a, "k")
    record = IdempotencyRecord.objects.get()
    assert record.body == second.content.decode()


def test_a_key_run_again_after_a_day_replays_its_new_answer(api_a, clock):
    post(api_a, "k")
    clock.shift(timedelta(hours=24, minutes=1))
    second = post(api_a, "k")
    clock.shift(timedelta(hours=23))
    third = post(api_a, "k")
    assert replayed(third)
    assert req_id(third) == req_id(second)


def test_a_key_may_carry_another_body_once_its_day_is_over(api_a, clock):
    post(api_a, "k")
    clock.shift(timedelta(hours=24, minutes=1))
    response = post(api_a, "k", OTHER_BODY)
    assert response.status_code == 200
    assert not replayed(response)


def test_a_key_still_running_after_a_day_is_taken_over(api_a, account_a, clock):
    IdempotencyRecord.objects.create(
        account=account_a, key="k", path=URL, body_hash=hashlib.sha256(BODY.encode()).hexdigest()
    )
    clock.shift(timedelta(hours=24, minutes=1))
    response = post(api_a, "k")
    assert response.status_code == 200


# The body and the endpoint ---------------------------------------------------------


def test_another_body_with_the_same_key_is_a_409_naming_the_reason(api_a):
    post(api_a, "k")
    assert error_of(post(api_a, "k", OTHER_BODY)) == (
        409,
        "IDEMPOTENCY_CONFLICT",
        "This Idempotency-Key was used with a different request.",
    )


def test_the_body_is_compared_byte_for_byte_so_reordered_json_is_another_body(api_a):
    """The key binds the bytes sent, as a retry resends them: the same JSON with its keys
    in another order is a 409, never a replay of an answer to different bytes."""
    post(api_a, "k", json.dumps({"content": FACTUAL, "mode": "basic"}))
    response = post(api_a, "k", json.dumps({"mode": "basic", "content": FACTUAL}))
    assert response.status_code == 409


def test_the_body_is_compared_byte_for_byte_so_added_whitespace_is_another_body(api_a):
    post(api_a, "k", json.dumps({"content": FACTUAL}))
    response = post(api_a, "k", json.dumps({"content": FACTUAL}, indent=2))
    assert response.status_code == 409


def test_the_same_key_and_body_on_another_endpoint_is_a_409(api_a):
    post(api_a, "k")
    response = post(api_a, "k", url="/railscore/v1/safe-regenerate")
    assert error_of(response) == (
        409,
        "IDEMPOTENCY_CONFLICT",
        "This Idempotency-Key was used with a different request.",
    )


def test_a_conflict_charges_nothing(api_a, account_a):
    post(api_a, "k")
    entries = LedgerEntry.objects.filter(account=account_a).count()
    post(api_a, "k", OTHER_BODY)
    assert LedgerEntry.objects.filter(account=account_a).count() == entries


# The key itself --------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_an_empty_or_blank_key_is_a_400_naming_the_header(api_a, key):
    response = post(api_a, key)
    message = "Idempotency-Key must be 1 to 255 characters."
    assert response.status_code == 400
    assert response.json() == {
        "error": message,
        "code": "VALIDATION_ERROR",
        "details": {"Idempotency-Key": [message]},
    }


def test_a_key_of_255_characters_is_accepted(api_a):
    post(api_a, "k" * 255)
    assert replayed(post(api_a, "k" * 255))


def test_a_refused_key_runs_nothing(api_a, account_a):
    entries = LedgerEntry.objects.filter(account=account_a).count()
    post(api_a, "k" * 256)
    assert LedgerEntry.objects.filter(account=account_a).count() == entries
    assert not IdempotencyRecord.objects.exists()


def test_two_keys_of_one_account_are_independent(api_a):
    post(api_a, "k-1")
    response = post(api_a, "k-2", OTHER_BODY)
    assert response.status_code == 200
    assert not replayed(response)


def test_each_key_of_an_account_replays_its_own_answer(api_a):
    post(api_a, "k-1")
    second = post(api_a, "k-2", OTHER_BODY)
    again = post(api_a, "k-2", OTHER_BODY)
    assert again.content == second.content


def test_an_account_replaying_a_shared_key_gets_its_own_answer(api_a, api_b):
    post(api_a, "shared")
    first_b = post(api_b, "shared")
    again_b = post(api_b, "shared")
    assert replayed(again_b)
    assert req_id(again_b) == req_id(first_b)


def test_another_account_may_use_the_same_key_with_another_body(api_a, api_b):
    post(api_a, "shared")
    response = post(api_b, "shared", OTHER_BODY)
    assert response.status_code == 200
    assert not replayed(response)


def test_two_keys_of_one_account_share_the_key_only_by_account(api_a, account_a):
    """Another project's key of the same account sees the same records (keys are per account)."""
    from tests.factories import APIKeyFactory, ProjectFactory

    first = post(api_a, "k")
    other = client_for(APIKeyFactory(project=ProjectFactory(account=account_a, name="App A2")))
    again = post(other, "k")
    assert replayed(again)
    assert req_id(again) == req_id(first)


# What is stored for error answers --------------------------------------------------


def test_a_402_is_stored_and_replayed_even_after_a_top_up(db):
    """T06: a retry with the same key gets the 402 again, charging nothing."""
    from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory

    poor = AccountFactory(name="Poor")
    client = client_for(APIKeyFactory(project=ProjectFactory(account=poor)))
    first = post(client, "k")
    ledger.grant(account=poor, amount=10, memo="top-up")
    second = post(client, "k")
    assert first.status_code == second.status_code == 402
    assert second.content == first.content
    assert ledger.balance_of(poor) == 10


def test_a_malformed_json_body_is_a_stored_400(api_a):
    first = post(api_a, "k", "{not json")
    second = post(api_a, "k", "{not json")
    assert first.status_code == second.status_code == 400
    assert replayed(second)


def test_a_policy_block_is_a_stored_422(api_a, key_a):
    project = key_a.project
    project.enforcement, project.enforcement_mode = "block", "enforce"
    project.save()
    body = json.dumps({"content": "When reviewing resumes, prioritize Ivy League graduates."})
    first = post(api_a, "k", body)
    second = post(api_a, "k", body)
    assert first.status_code == second.status_code == 422
    assert second.content == first.content


def _explode(**_):
    raise RuntimeError("engine down")


def test_a_500_is_not_stored(api_a, monkeypatch):
    monkeypatch.setattr(evals, "get_evaluator", _explode)
    assert post(api_a, "k").status_code == 500
    assert not IdempotencyRecord.objects.exists()


def test_a_request_that_failed_with_a_500_can_be_retried_with_its_key(api_a, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(evals, "get_evaluator", _explode)
        post(api_a, "k")
    retry = post(api_a, "k")
    assert retry.status_code == 200
    assert not replayed(retry)


def test_an_unexpected_exception_leaves_no_record_behind(api_a, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(evals, "evaluate_content", crash)
    with pytest.raises(RuntimeError):
        post(api_a, "k")
    assert not IdempotencyRecord.objects.exists()


# Claiming the key ------------------------------------------------------------------


def test_a_key_still_running_is_a_409_saying_so(api_a, account_a):
    IdempotencyRecord.objects.create(
        account=account_a, key="k", path=URL, body_hash=hashlib.sha256(BODY.encode()).hexdigest()
    )
    assert error_of(post(api_a, "k")) == (
        409,
        "IDEMPOTENCY_CONFLICT",
        "A request with this Idempotency-Key is still running.",
    )


def _dead_request(account, body: str = BODY) -> IdempotencyRecord:
    """The record a request killed mid-flight leaves: in progress, never finished."""
    return IdempotencyRecord.objects.create(
        account=account, key="k", path=URL, body_hash=hashlib.sha256(body.encode()).hexdigest()
    )


def test_a_key_whose_request_died_an_hour_ago_can_be_retried(api_a, account_a, clock):
    _dead_request(account_a)
    clock.shift(timedelta(hours=1))
    assert post(api_a, "k").status_code == 200
    assert IdempotencyRecord.objects.get().state == "done"
    assert post(api_a, "k")["Idempotent-Replayed"] == "true"


def test_the_lease_is_the_web_timeout_plus_a_margin(api_a, account_a, clock, settings):
    settings.IDEMPOTENCY_LEASE_SECONDS = 40
    _dead_request(account_a)
    clock.shift(timedelta(seconds=39))
    assert post(api_a, "k").status_code == 409  # its worker may still be alive
    clock.shift(timedelta(seconds=2))
    assert post(api_a, "k").status_code == 200  # past any worker's life: taken over


def test_a_dead_key_is_not_taken_over_by_another_body(api_a, account_a, clock):
    _dead_request(account_a, body='{"content": "something else entirely, not this"}')
    clock.shift(timedelta(hours=1))
    response = post(api_a, "k")
    assert response.status_code == 409
    assert "different request" in response.json()["error"]


def test_of_two_retries_of_a_dead_key_exactly_one_takes_it_over(account_a, clock):
    from regen.idempotency import _take_over

    record = _dead_request(account_a)
    clock.shift(timedelta(hours=1))
    from django.utils import timezone

    now = timezone.now()
    stale_copy = IdempotencyRecord.objects.get(pk=record.pk)
    assert _take_over(record, URL, record.body_hash, now) is True
    assert _take_over(stale_copy, URL, record.body_hash, now) is False


def _fail_to_create(monkeypatch, times: int) -> list[int]:
    """Make creating a record fail ``times`` times as if a duplicate held the key."""
    manager = IdempotencyRecord.objects
    real_create, calls = manager.create, []

    def create(**fields):
        calls.append(1)
        if len(calls) <= times:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_create(**fields)

    monkeypatch.setattr(manager, "create", create)
    return calls


def test_a_key_whose_holder_vanished_while_claiming_is_claimed_again(api_a, monkeypatch):
    """The duplicate that held the key expired and was deleted before it could be read."""
    _fail_to_create(monkeypatch, times=1)
    response = post(api_a, "k")
    assert response.status_code == 200
    assert IdempotencyRecord.objects.get().state == "done"


def test_a_key_whose_holder_vanished_twice_is_a_409_rather_than_a_third_try(api_a, monkeypatch):
    """One retry of the claim, then the client is asked to retry: the server never spins."""
    _fail_to_create(monkeypatch, times=2)
    assert post(api_a, "k").status_code == 409


def test_a_key_that_cannot_be_claimed_is_a_409_asking_for_a_retry(api_a, account_a, monkeypatch):
    _fail_to_create(monkeypatch, times=10)
    entries = LedgerEntry.objects.filter(account=account_a).count()
    assert error_of(post(api_a, "k")) == (
        409,
        "IDEMPOTENCY_CONFLICT",
        "The Idempotency-Key is being reused concurrently; retry.",
    )
    assert LedgerEntry.objects.filter(account=account_a).count() == entries


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_sent_while_the_first_runs_is_a_409_then_replays(key_a, monkeypatch):
    """T08: the first request is held inside the view until the duplicate has answered."""
    entered, release = threading.Event(), threading.Event()
    real = evals.evaluate_content

    def slow(**kwargs):
        entered.set()
        assert release.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(evals, "evaluate_content", slow)
    answers = {}

    def first():
        answers["first"] = post(client_for(key_a), "race")
        connection.close()

    runner = threading.Thread(target=first)
    runner.start()
    assert entered.wait(10)
    duplicate = post(client_for(key_a), "race")
    release.set()
    runner.join(10)
    assert error_of(duplicate)[2] == "A request with this Idempotency-Key is still running."
    assert answers["first"].status_code == 200
    assert post(client_for(key_a), "race").content == answers["first"].content
