"""Cancelling a queued run (the playground's "workers look down" offer): regen.runs is
the only writer, the ledger releases the hold, a worker and a cancel never both win."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing import ledger
from billing.models import Hold
from regen import runs
from regen.engine.requests import parse_regenerate_request
from regen.models import Run
from tests.api.texts import HIRING
from tests.billing.test_ledger import assert_reconciles
from tests.helpers import postgres_only


def _queued(key) -> Run:
    caller = runs.Caller(account=key.project.account, project=key.project, api_key=key)
    return runs.submit_run(caller=caller, request=parse_regenerate_request({"content": HIRING}))


@pytest.mark.django_db
def test_cancelling_a_queued_run_fails_it_and_releases_its_hold(key_a, account_a):
    run = _queued(key_a)
    assert ledger.available_of(account_a) == Decimal("100") - run.credits_held

    cancelled = runs.cancel_queued_run(run.id, by="alice")

    assert cancelled.status == Run.Status.FAILED
    assert cancelled.error == "Cancelled by alice before a worker took it."
    assert cancelled.finished_at is not None
    assert Hold.objects.get(id=run.hold_id).state == Hold.State.RELEASED
    assert ledger.available_of(account_a) == Decimal("100")
    assert ledger.balance_of(account_a) == Decimal("100")
    assert_reconciles(account_a)


@pytest.mark.django_db
def test_cancelling_twice_changes_nothing_the_second_time(key_a, account_a):
    run = _queued(key_a)
    runs.cancel_queued_run(run.id, by="alice")
    entries = account_a.ledger_entries.count()

    again = runs.cancel_queued_run(run.id, by="bob")

    assert again.error == "Cancelled by alice before a worker took it."
    assert account_a.ledger_entries.count() == entries
    assert ledger.available_of(account_a) == Decimal("100")
    assert_reconciles(account_a)


@pytest.mark.django_db
def test_a_worker_finds_nothing_to_run_in_a_cancelled_run(key_a, account_a):
    run = _queued(key_a)
    runs.cancel_queued_run(run.id, by="alice")

    after = runs.execute_run(run.id, progress=True)

    assert after.status == Run.Status.FAILED
    assert after.iterations.count() == 0
    assert after.attempts == 0
    assert ledger.balance_of(account_a) == Decimal("100")
    assert_reconciles(account_a)


@pytest.mark.django_db
def test_a_run_a_worker_took_first_is_not_cancelled(key_a, account_a):
    run = _queued(key_a)
    claimed = runs._claim(run.id)
    assert claimed is not None

    after = runs.cancel_queued_run(run.id, by="alice")

    assert after.status == Run.Status.RUNNING
    assert Hold.objects.get(id=run.hold_id).state == Hold.State.OPEN
    assert_reconciles(account_a)


@pytest.mark.django_db
def test_a_finished_run_is_not_cancelled(key_a, account_a):
    run = _queued(key_a)
    runs.execute_run(run.id)
    finished = Run.objects.get(id=run.id)

    after = runs.cancel_queued_run(run.id, by="alice")

    assert after.status == finished.status
    assert after.credits_consumed == finished.credits_consumed
    assert_reconciles(account_a)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_claiming_while_the_cancel_holds_the_row_claims_nothing(key_a, account_a):
    """The cancel locks the row; a worker's claim at that moment waits for it, then finds
    the run no longer queued: one of the two wins, never both."""
    run = _queued(key_a)
    locked, release, claimed = threading.Event(), threading.Event(), []

    def cancel_slowly() -> None:
        try:
            with transaction.atomic():
                Run.objects.select_for_update().get(id=run.id)  # the cancel's own lock, held
                locked.set()
                release.wait(5)
                runs.cancel_queued_run(run.id, by="alice")  # re-entrant: same transaction
        finally:
            connection.close()

    def claim() -> None:
        try:
            claimed.append(runs._claim(run.id))
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_slowly)
    canceller.start()
    assert locked.wait(5)
    worker = threading.Thread(target=claim)
    worker.start()
    time.sleep(0.3)  # the worker's UPDATE is now waiting on the row lock
    assert worker.is_alive()
    release.set()
    canceller.join(5)
    worker.join(5)

    assert claimed == [None]
    after = Run.objects.get(id=run.id)
    assert after.status == Run.Status.FAILED
    assert after.attempts == 0
    assert Hold.objects.get(id=run.hold_id).state == Hold.State.RELEASED
    assert_reconciles(account_a)
