"""Async jobs on a real Celery worker and Redis: progress, commit-only enqueue (T21), and
crash recovery and poison messages (T22), with credits settled exactly once."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction

from billing import ledger
from billing.models import Hold, LedgerEntry
from regen import runs
from regen.engine.requests import parse_regenerate_request
from regen.models import ReviewItem, Run
from regen.runs import MAX_ATTEMPTS, Caller
from tests.celery.conftest import (
    TASK_DELAY,
    VISIBILITY_TIMEOUT,
    forget_queue,
    pending_messages,
    sending_to,
    unacked_age,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
HIRING = "When reviewing resumes, prioritize Ivy League graduates."


def caller_of(key) -> Caller:
    return Caller(account=key.project.account, project=key.project, api_key=key)


def never_passing_request():
    """Two iterations, both failing; its worst case (4 credits) is exactly what it uses.

    One regeneration only: the embedded rewriter would hand back the same text for a
    second one, and the loop stops at an identical version (README)."""
    return parse_regenerate_request(
        {
            "content": HIRING,
            "max_regenerations": 1,
            "thresholds": {"overall": {"score": 9.9}},
            "policy_hint": {"on_failure": "human_review"},
        }
    )


def ledger_kinds(run_id) -> Counter:
    return Counter(LedgerEntry.objects.filter(reference=str(run_id)).values_list("kind", flat=True))


def final_run(run_id):
    run = Run.objects.get(id=run_id)
    return run if run.is_final else None


def test_an_async_job_answers_202_then_reports_each_iteration_and_its_result(
    api_a, key_a, send_to_worker
):
    account = key_a.project.account
    start = ledger.balance_of(account)

    response = api_a.post(
        "/railscore/v1/safe-regenerate",
        {"content": HEALTHCARE, "domain": "healthcare", "async": True},
        format="json",
    )

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] in ("queued", "running")
    assert job["status_url"] == f"/railscore/v1/jobs/{job['job_id']}"
    seen = []

    def finished():
        answer = api_a.get(job["status_url"])
        assert answer.status_code == 200, answer.content
        seen.append(answer.json())
        return seen[-1] if seen[-1]["status"] not in ("queued", "running") else None

    # every=TASK_DELAY/3: a few looks per iteration, well inside the key's 60 requests/min
    body = wait_for(
        finished, timeout=30, what="the job to finish", worker=send_to_worker, every=TASK_DELAY / 3
    )

    done = [answer["progress"]["iterations_done"] for answer in seen]
    assert done == sorted(done), "progress never goes back"
    for answer in seen:
        listed = [it["iteration"] for it in answer["progress"]["iterations"]]
        assert listed == list(range(answer["progress"]["iterations_done"])), (
            "one entry per iteration"
        )
    running = {a["progress"]["iterations_done"] for a in seen if a["status"] == "running"}
    assert running & set(range(1, done[-1])), f"no intermediate progress seen: {done}"

    run = Run.objects.get(id=job["job_id"])
    assert body["status"] == run.status == "passed"
    assert run.attempts == 1
    assert body["result"] == run.response
    assert body["result"]["metadata"]["req_id"] == job["job_id"]
    stored = list(
        run.iterations.order_by("index").values("index", "score", "passed", "failing_dimensions")
    )
    assert body["progress"]["iterations"] == [
        {
            "iteration": it["index"],
            "score": it["score"],
            "thresholds_met": it["passed"],
            "failing_dimensions": it["failing_dimensions"],
        }
        for it in stored
    ]
    assert (
        len(stored)
        == body["result"]["metadata"]["total_iterations"]
        == len(body["result"]["result"]["iteration_history"])
        == 2
    )
    consumed = Decimal(str(body["result"]["credits_consumed"]))
    assert ledger_kinds(run.id) == {"hold": 1, "charge": 1, "release": 1}
    assert LedgerEntry.objects.get(reference=run.req_id, kind="charge").amount == -consumed
    assert ledger.balance_of(account) == ledger.available_of(account) == start - consumed


def test_a_job_is_enqueued_only_when_its_transaction_commits(key_a, broker):  # T21
    caller, queue = caller_of(key_a), f"railsite-test-t21-{uuid.uuid4().hex[:12]}"
    request = parse_regenerate_request({"content": HEALTHCARE})
    start, entries = ledger.balance_of(caller.account), LedgerEntry.objects.count()
    try:
        with sending_to(queue):
            with pytest.raises(RuntimeError, match="roll back"), transaction.atomic():
                runs.submit_async(caller=caller, request=request)
                raise RuntimeError("roll back")

            assert broker.llen(queue) == 0
            assert not Run.objects.exists()
            assert LedgerEntry.objects.count() == entries
            assert ledger.available_of(caller.account) == start

            run = runs.submit_async(caller=caller, request=request)
            assert broker.llen(queue) == 1
        headers = json.loads(broker.lindex(queue, 0))["headers"]
        assert headers["task"] == "regen.tasks.execute_run_task"
        assert str(run.id) in headers["argsrepr"]
    finally:
        forget_queue(broker, queue)


@pytest.mark.parametrize("crash", ["pool child", "whole worker"])
def test_a_job_killed_mid_task_is_redelivered_and_completes_exactly_once(
    crash, key_a, send_to_worker, broker, queue
):  # T22
    worker, caller = send_to_worker, caller_of(key_a)
    start = ledger.balance_of(caller.account)
    run = runs.submit_async(caller=caller, request=never_passing_request())
    wait_for(
        lambda: Run.objects.filter(id=run.id, status="running", iterations_done__gte=1).exists(),
        timeout=20,
        what="iteration 0 to be stored",
        worker=worker,
    )

    if crash == "pool child":
        worker.kill_child()  # the parent rejects the message with requeue (reject_on_worker_lost)
    else:
        worker.crash()  # nobody rejects it: Redis restores it after the visibility timeout
        wait_for(
            lambda: (unacked_age(broker, queue) or 0) > VISIBILITY_TIMEOUT + 0.2,
            timeout=VISIBILITY_TIMEOUT + 5,
            what="the unacked message to expire",
        )
        worker.start()

    run = wait_for(
        lambda: final_run(run.id), timeout=30, what="the redelivered job to finish", worker=worker
    )
    wait_for(
        lambda: pending_messages(broker, queue) == 0, timeout=10, what="the message to be acked"
    )
    assert run.status == "max_iterations_reached"
    assert run.attempts == 2
    assert list(run.iterations.order_by("index").values_list("index", flat=True)) == [0, 1]
    assert ReviewItem.objects.filter(run=run).count() == 1
    assert ledger_kinds(run.id) == {"hold": 1, "charge": 1}  # it used its whole worst case
    assert (
        run.credits_consumed
        == Decimal("4.0")
        == -LedgerEntry.objects.get(reference=run.req_id, kind="charge").amount
    )
    assert (
        ledger.balance_of(caller.account)
        == ledger.available_of(caller.account)
        == start - Decimal("4.0")
    )


def test_a_job_that_always_kills_its_worker_fails_after_three_attempts_and_releases_its_hold(
    key_a, send_to_worker, broker, queue
):  # T22 poison
    worker, caller = send_to_worker, caller_of(key_a)
    start = ledger.balance_of(caller.account)
    run = runs.submit_async(caller=caller, request=never_passing_request())

    for attempt in range(1, MAX_ATTEMPTS + 1):
        wait_for(
            lambda n=attempt: Run.objects.filter(id=run.id, status="running", attempts=n).exists(),
            timeout=20,
            what=f"attempt {attempt} to claim the run",
            worker=worker,
        )
        worker.kill_child()

    run = wait_for(
        lambda: final_run(run.id), timeout=30, what="the run to be given up", worker=worker
    )
    wait_for(
        lambda: pending_messages(broker, queue) == 0, timeout=10, what="the message to be acked"
    )
    assert run.status == "failed", run.error
    assert run.attempts == MAX_ATTEMPTS == 3
    assert Hold.objects.get(reference=run.req_id).state == Hold.State.RELEASED
    assert ledger_kinds(run.id) == {"hold": 1, "release": 1}
    assert ledger.balance_of(caller.account) == ledger.available_of(caller.account) == start
