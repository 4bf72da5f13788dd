"""A regenerator A/B on a real Celery worker and Redis: the job holds each replay's worst
case, charges it once and reports once, through a redelivery after a killed worker and a
duplicate delivery of a finished job."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from billing import ledger
from billing.models import Hold, LedgerEntry
from regen import comparisons, runs
from regen.engine.requests import parse_regenerate_request
from regen.models import Comparison, ComparisonPair, ReviewItem, Run
from regen.runs import Caller
from regen.tasks import run_comparison_task
from tests.celery.conftest import TASK_DELAY, pending_messages, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = (
    "When reviewing resumes, prioritize Ivy League graduates.",
    "Only hire candidates under 30; older applicants do not fit our culture.",
)


def caller_of(key) -> Caller:
    return Caller(account=key.project.account, project=key.project, api_key=key)


def failing_inputs(caller: Caller) -> None:
    """Two stored runs whose first version fails (a 9.9 threshold nothing reaches)."""
    for text in TEXTS:
        request = parse_regenerate_request(
            {
                "content": text,
                "max_regenerations": 1,
                "thresholds": {"overall": {"score": 9.9}},
                "policy_hint": {"on_failure": "human_review"},
            }
        )
        runs.run_safe_regenerate(caller=caller, request=request)


def start(caller: Caller) -> tuple[Comparison, Decimal]:
    body = {"challenger": {"regeneration_model": "embedded"}}
    priced = comparisons.check_comparison(caller, {**body, "dry_run": True}).credits
    comparison = comparisons.do_comparison(caller, comparisons.check_comparison(caller, body))
    assert comparison is not None
    return comparison, priced


def ended(comparison_id) -> Comparison | None:
    found = Comparison.objects.get(id=comparison_id)
    return found if found.is_final else None


def replays(comparison: Comparison) -> list[Run]:
    pairs = ComparisonPair.objects.filter(comparison=comparison)
    ids = [r for p in pairs for r in (p.champion_run_id, p.challenger_run_id)]
    return list(Run.objects.filter(id__in=ids))


def kinds(run: Run) -> Counter:
    return Counter(LedgerEntry.objects.filter(reference=run.req_id).values_list("kind", flat=True))


def assert_held_and_charged_once(comparison: Comparison, priced: Decimal) -> None:
    done = replays(comparison)
    assert len(done) == 4  # two inputs, two arms: no run opened twice
    assert all(run.kind == Run.Kind.COMPARISON for run in done)
    assert all(run.is_final for run in done)
    for run in done:
        entries = kinds(run)
        assert entries["hold"] == 1, entries
        assert entries["charge"] == 1, entries
        assert entries["release"] <= 1, entries
    held = Hold.objects.filter(reference__in=[r.req_id for r in done])
    assert sum(h.amount for h in held) == sum(r.credits_held for r in done) == priced
    charged = -sum(
        LedgerEntry.objects.filter(
            kind="charge", reference__in=[r.req_id for r in done]
        ).values_list("amount", flat=True)
    )
    report = comparison.report
    assert Decimal(str(report["champion"]["credits"] + report["challenger"]["credits"])) == charged
    assert ReviewItem.objects.filter(run__in=done).count() == 0  # replays go to no queue


def test_an_ab_job_holds_charges_and_reports_once_on_a_real_worker(
    key_a, send_to_worker, broker, queue
):
    worker, caller = send_to_worker, caller_of(key_a)
    failing_inputs(caller)
    start_balance = ledger.balance_of(caller.account)

    comparison, priced = start(caller)
    seen = []

    def finished():
        current = Comparison.objects.get(id=comparison.id)
        seen.append(current.pairs_done)
        return current if current.is_final else None

    comparison = wait_for(finished, timeout=60, what="the A/B to end", worker=worker, every=0.1)
    wait_for(lambda: pending_messages(broker, queue) == 0, timeout=10, what="the ack")

    assert comparison.status == "finished", comparison.error
    assert seen == sorted(seen), "progress never goes back"
    assert comparison.pairs_done == comparison.pairs_total == 2
    assert_held_and_charged_once(comparison, priced)
    charged = Decimal(str(sum(comparison.report[arm]["credits"] for arm in comparisons.ARMS)))
    assert ledger.balance_of(caller.account) == start_balance - charged
    assert ledger.available_of(caller.account) == ledger.balance_of(caller.account)

    # a duplicate delivery of the finished job changes nothing: no hold, no charge, no report
    entries, finished_at = LedgerEntry.objects.count(), comparison.finished_at
    run_comparison_task.delay(str(comparison.id))
    wait_for(lambda: pending_messages(broker, queue) == 0, timeout=10, what="the duplicate")
    again = Comparison.objects.get(id=comparison.id)
    assert LedgerEntry.objects.count() == entries
    assert again.finished_at == finished_at
    assert again.report == comparison.report


def test_an_ab_job_killed_mid_pair_is_redelivered_and_charges_each_replay_once(
    key_a, send_to_worker, broker, queue
):
    worker, caller = send_to_worker, caller_of(key_a)
    failing_inputs(caller)
    comparison, priced = start(caller)
    wait_for(
        lambda: Run.objects.filter(
            kind=Run.Kind.COMPARISON, status="running", iterations_done__gte=1
        ).exists(),
        timeout=20,
        what="a replay's first iteration",
        worker=worker,
        every=TASK_DELAY / 4,
    )

    worker.kill_child()  # the parent rejects the message with requeue (reject_on_worker_lost)

    comparison = wait_for(
        lambda: ended(comparison.id), timeout=60, what="the redelivered A/B to end", worker=worker
    )
    wait_for(lambda: pending_messages(broker, queue) == 0, timeout=10, what="the ack")
    assert comparison.status == "finished", comparison.error
    assert comparison.pairs_done == 2
    assert_held_and_charged_once(comparison, priced)
    assert max(run.attempts for run in replays(comparison)) == 2  # the killed one, taken over
