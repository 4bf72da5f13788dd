"""Idempotency-Key: replay byte for byte, conflict on another body, per-account scope."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import LedgerEntry
from regen.models import IdempotencyRecord, Run
from tests.helpers import client_for, postgres_only

from .texts import HEALTHCARE, VIOLENT

URL = "/railscore/v1/safe-regenerate"


def _post(client, key, **body):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_and_body_replays_the_answer_without_charging_again(api_a):
    first = _post(api_a, "k-1", content=HEALTHCARE, domain="healthcare")
    second = _post(api_a, "k-1", content=HEALTHCARE, domain="healthcare")
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Run.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_a_replayed_error_is_replayed_too(api_a):
    first = _post(api_a, "k-crit", content=VIOLENT)
    second = _post(api_a, "k-crit", content=VIOLENT)
    assert first.status_code == second.status_code == 422
    assert second.content == first.content
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_the_same_key_with_another_body_is_a_conflict_and_charges_nothing(api_a):
    _post(api_a, "k-2", content=HEALTHCARE, domain="healthcare")
    response = _post(api_a, "k-2", content=HEALTHCARE + " Please.", domain="healthcare")
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


def test_a_key_older_than_a_day_runs_again(api_a):
    _post(api_a, "k-3", content=HEALTHCARE, domain="healthcare")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = _post(api_a, "k-3", content=HEALTHCARE, domain="healthcare")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert Run.objects.count() == 2


def test_the_same_key_value_in_two_accounts_runs_independently(api_a, api_b):
    a = _post(api_a, "shared", content=HEALTHCARE, domain="healthcare")
    b = _post(api_b, "shared", content=HEALTHCARE, domain="healthcare")
    assert a.status_code == b.status_code == 200
    assert "Idempotent-Replayed" not in b
    assert a.json()["metadata"]["req_id"] != b.json()["metadata"]["req_id"]


def test_a_validation_error_is_stored_and_replayed(api_a):
    first = _post(api_a, "k-bad", content="short")
    second = _post(api_a, "k-bad", content="short")
    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"


def test_an_overlong_key_is_rejected(api_a):
    response = _post(api_a, "x" * 256, content=HEALTHCARE)
    assert response.status_code == 400
    assert not Run.objects.exists()


def test_a_key_still_in_flight_answers_409(api_a, account_a):
    IdempotencyRecord.objects.create(account=account_a, key="busy", path=URL, body_hash="0" * 64)
    response = _post(api_a, "busy", content=HEALTHCARE)
    assert response.status_code == 409


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_execute_once(key_a):
    barrier, statuses = threading.Barrier(6), []

    def go():
        client = client_for(key_a)
        barrier.wait()
        statuses.append(_post(client, "race", content=HEALTHCARE, domain="healthcare").status_code)
        connection.close()

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Run.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
    replay = _post(client_for(key_a), "race", content=HEALTHCARE, domain="healthcare")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
