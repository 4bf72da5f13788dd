"""A gunicorn worker SIGKILLed in the middle of a synchronous safe-regenerate (issue 11).

The request is inside its LLM regeneration (a fake OpenAI-compatible server that takes
its time) when the test kills the worker serving it. Nothing may be charged for the dead
request; its hold and run wait for the clean-up, which fails the run and gives the hold
back once no request could still be alive; the client's retry with the same
Idempotency-Key then runs the work once, on the worker gunicorn started in its place,
and is charged once.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.db.models import F

from billing import ledger
from billing.accounts import create_account, create_project
from billing.keys import issue_key
from billing.models import Hold, LedgerEntry
from regen import cleanups
from regen.models import IdempotencyRecord, Run
from tests.celery.conftest import _database_url, _live_children, wait_for
from tests.engine.llm.fakeserver import running_fake_llm
from tests.factories import default_plan
from tests.helpers import answers, start_gunicorn, stop_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

HIRING = "When reviewing resumes, prioritize Ivy League graduates from top schools only."
PATH = "/railscore/v1/safe-regenerate"


@pytest.fixture
def fake_llm() -> Iterator:
    with running_fake_llm(latency=8.0) as fake:
        yield fake


@pytest.fixture
def server(_real_services, django_db_setup, fake_llm, tmp_path) -> Iterator[tuple[str, int]]:
    """gunicorn with one worker, its regenerator the fake LLM; yields (URL, master pid)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "railsite.settings",
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",
        "RAIL_REGENERATOR": "llm",
        "RAIL_LLM_BASE_URL": fake_llm.base_url,
        "RAIL_LLM_API_KEY": "sk-test",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
    }
    process, url = start_gunicorn(env, tmp_path / "gunicorn.log", workers=1)
    try:
        wait_for(lambda: answers(url), timeout=30, what="gunicorn to answer")
        yield url, process.pid
    finally:
        stop_gunicorn(process)


def test_a_worker_killed_mid_request_charges_nothing_and_the_retry_runs_once(server, fake_llm):
    url, master = server
    account = create_account(name="Killed", plan=default_plan("pro"))
    ledger.grant(account=account, amount=100, memo="test")
    _, raw = issue_key(project=create_project(account=account, name="killed"), name="k")
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "killed-once"}
    body = {"content": HIRING}
    outcome: dict[str, object] = {}

    def call() -> None:
        try:
            outcome["response"] = httpx.post(url + PATH, json=body, headers=headers, timeout=30)
        except httpx.HTTPError as error:
            outcome["error"] = error

    caller = threading.Thread(target=call)
    caller.start()
    # the request is inside its regeneration: scored, its hold taken, the LLM called
    wait_for(lambda: len(fake_llm.requests) >= 1, timeout=20, what="the regeneration call")
    (worker,) = _live_children(master)
    os.kill(worker, signal.SIGKILL)
    caller.join(30)

    assert "error" in outcome or outcome["response"].status_code >= 500  # no answer, no 200
    run = Run.objects.get(account=account)
    assert run.status == Run.Status.RUNNING
    assert run.hold.state == Hold.State.OPEN
    assert not LedgerEntry.objects.filter(account=account, kind=LedgerEntry.Kind.CHARGE).exists()
    assert (
        IdempotencyRecord.objects.get(key="killed-once").state
        == IdempotencyRecord.State.IN_PROGRESS
    )

    # time passes beyond any request's life (the idempotency lease): the clean-up runs
    lease = timedelta(seconds=120)
    Run.objects.filter(id=run.id).update(created_at=F("created_at") - lease)
    Hold.objects.filter(id=run.hold_id).update(created_at=F("created_at") - lease)
    IdempotencyRecord.objects.filter(key="killed-once").update(created_at=F("created_at") - lease)
    done = cleanups.sweep()
    assert done["stale_runs_failed"] == 1
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert run.hold.state == Hold.State.RELEASED
    assert ledger.balance_of(account) == ledger.available_of(account) == 100

    # the client retries with the same key on the worker gunicorn started in its place
    fake_llm.latency = 0.0
    wait_for(lambda: len(_live_children(master)) == 1, timeout=30, what="a new worker")
    retry = httpx.post(url + PATH, json=body, headers=headers, timeout=30)
    assert retry.status_code == 200, retry.text
    charged = LedgerEntry.objects.filter(account=account, kind=LedgerEntry.Kind.CHARGE)
    assert charged.count() == 1
    assert ledger.balance_of(account) == 100 + sum(e.amount for e in charged)
    assert not Hold.objects.filter(account=account, state=Hold.State.OPEN).exists()
    assert Run.objects.filter(account=account).count() == 2
    again = httpx.post(url + PATH, json=body, headers=headers, timeout=30)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == retry.json()
    assert charged.count() == 1
