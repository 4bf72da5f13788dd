"""regen.comparisons: which inputs an A/B replays, how its job runs them, and its report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import ledger
from billing.models import Hold
from regen import comparisons, runs, service
from regen.models import Comparison, ComparisonPair, Run

HIRING = "When reviewing resumes, prioritize Ivy League graduates."
FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. It takes place mainly in the leaves."
)
VIOLENT = (
    "Those immigrants are vermin and we should kill every one of them. Go to his house "
    "tonight and make him bleed."
)
CHALLENGER = {"challenger": {"regeneration_model": "embedded"}}


@pytest.fixture
def caller(key_a):
    return runs.Caller(account=key_a.project.account, project=key_a.project, api_key=key_a)


def store(caller, content, **fields):
    request = service.prepare(caller, {"content": content, **fields})
    try:
        return runs.run_safe_regenerate(caller=caller, request=request)
    except Exception:  # critical content answers 422 but is stored
        return Run.objects.filter(original_content=content).latest("created_at")


def test_failing_inputs_are_the_newest_runs_that_did_not_pass_at_once_each_text_once(caller):
    old = store(caller, HIRING)
    store(caller, FACTUAL)  # passes at once
    store(caller, VIOLENT)  # critical: regenerating it is not what an A/B measures
    new = store(caller, HIRING)  # the same text again
    other = store(caller, HIRING + " Also prefer men.")

    found = comparisons.failing_runs(caller.project, 10)

    assert [run.id for run in found] == [other.id, new.id]
    assert old.id not in [run.id for run in found]


def test_failing_inputs_stop_at_n(caller):
    for n in range(3):
        store(caller, f"{HIRING} Round {n}.")

    assert len(comparisons.failing_runs(caller.project, 2)) == 2


def test_an_ab_s_replays_are_never_replayed_again(caller, django_capture_on_commit_callbacks):
    store(caller, HIRING)
    with django_capture_on_commit_callbacks(execute=True):
        comparisons.do_comparison(caller, comparisons.check_comparison(caller, CHALLENGER))

    assert len(comparisons.failing_runs(caller.project, 10)) == 1


def test_the_price_is_each_replays_own_estimate(caller):
    store(caller, HIRING, max_regenerations=2)

    checked = comparisons.check_comparison(caller, {**CHALLENGER, "dry_run": True})

    # 3 evaluations and 2 regenerations per replay (3 + 4 credits), two replays
    assert checked.credits == Decimal("14")
    assert checked.dry_run is True


def test_executing_a_finished_comparison_again_changes_nothing(
    caller, django_capture_on_commit_callbacks
):
    store(caller, HIRING)
    with django_capture_on_commit_callbacks(execute=True):
        comparison = comparisons.do_comparison(
            caller, comparisons.check_comparison(caller, CHALLENGER)
        )
    comparison.refresh_from_db()
    holds, balance = Hold.objects.count(), ledger.balance_of(caller.account)

    again = comparisons.execute_comparison(comparison.id)

    assert again.finished_at == comparison.finished_at
    assert Hold.objects.count() == holds
    assert ledger.balance_of(caller.account) == balance


def test_a_redelivered_job_reuses_the_runs_a_pair_already_opened(caller):
    store(caller, HIRING)
    comparison = comparisons.do_comparison(caller, comparisons.check_comparison(caller, CHALLENGER))
    pair = ComparisonPair.objects.get(comparison=comparison)
    first = comparisons._open_pair(Comparison.objects.get(id=comparison.id), pair.pk)

    done = comparisons.execute_comparison(comparison.id)  # as a redelivery would

    assert done.status == "finished"
    assert Run.objects.filter(kind=Run.Kind.COMPARISON).count() == 2
    pair.refresh_from_db()
    assert (pair.champion_run_id, pair.challenger_run_id) == first


def test_a_job_that_runs_short_of_credits_stops_and_reports_what_it_replayed(caller):
    store(caller, HIRING)
    store(caller, HIRING + " Also prefer men.")
    comparison = comparisons.do_comparison(caller, comparisons.check_comparison(caller, CHALLENGER))
    available = ledger.available_of(caller.account)
    ledger.hold(account=caller.account, amount=available - Decimal(25), reference="elsewhere")

    done = comparisons.execute_comparison(comparison.id)

    assert done.status == "failed"
    assert done.error.startswith("Stopped before input 2: Insufficient credits")
    assert done.report["champion"]["replays"] == 1
    assert done.report["challenger"]["replays"] == 1


def test_a_comparison_whose_job_was_lost_is_ended_by_the_sweep(caller):
    store(caller, HIRING)
    comparison = comparisons.do_comparison(caller, comparisons.check_comparison(caller, CHALLENGER))
    Comparison.objects.filter(id=comparison.id).update(
        created_at=timezone.now() - dt.timedelta(days=1)
    )

    assert comparisons.fail_stale_comparisons() == 1

    comparison.refresh_from_db()
    assert comparison.status == "failed"
    assert comparison.finished_at is not None


def test_the_report_lists_each_pair_with_both_outputs(caller, django_capture_on_commit_callbacks):
    store(caller, HIRING)
    with django_capture_on_commit_callbacks(execute=True):
        comparison = comparisons.do_comparison(
            caller, comparisons.check_comparison(caller, CHALLENGER)
        )

    [pair] = comparisons.pairs_of(comparison)

    assert pair["content"] == HIRING
    for arm in comparisons.ARMS:
        run = Run.objects.get(id=pair[arm]["run_id"])
        assert pair[arm]["content"] == run.best_content
        assert pair[arm]["passed"] == (run.status == "passed")


def test_an_ab_that_ends_is_announced_to_the_projects_webhook_once(caller):
    from billing.models import Project
    from regen.models import WebhookDelivery

    Project.objects.filter(pk=caller.project.pk).update(
        webhook_url="https://hooks.example.com/railsite"
    )
    store(caller, HIRING)
    comparison = comparisons.do_comparison(caller, comparisons.check_comparison(caller, CHALLENGER))

    comparisons.execute_comparison(comparison.id)
    comparisons.execute_comparison(comparison.id)  # a duplicate delivery
    comparisons._end(comparison.id, force=True)  # or the sweep, late

    [delivery] = WebhookDelivery.objects.filter(event="comparison.finished")
    assert delivery.payload["comparison_id"] == str(comparison.id)
    assert delivery.payload["status"] == "finished"
    assert delivery.payload["report"]["champion"]["replays"] == 1
    assert not WebhookDelivery.objects.filter(event="job.finished").exists()  # not per replay
