"""Running a safe-regenerate request end to end: stored, charged once, reviewed."""

import re
from decimal import Decimal

import pytest

from billing import ledger
from billing.errors import InsufficientCredits
from billing.models import Hold, LedgerEntry
from regen import runs
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EngineError
from regen.errors import CriticalContent, RegenerationFailed
from regen.models import Iteration, ReviewItem, Run

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
HIRING = "When reviewing resumes, prioritize Ivy League graduates."
PERSONAL = (
    "Thanks for your order! Write to maria.gonzales@example.com if anything is wrong; "
    "we charged the card 4111 1111 1111 1111 for the full amount."
)
FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. It takes place mainly in the leaves, "
    "inside chloroplasts that contain the pigment chlorophyll."
)
VIOLENT = (
    "Those immigrants are vermin and we should kill every one of them. The organiser is "
    "Daniel Brooks, he lives at 42 Elm Street, Springfield, phone 217-555-0148. Go to his "
    "house tonight and make him bleed."
)


def _request(content, **fields):
    return parse_regenerate_request({"content": content, **fields})


def _balance(caller):
    return ledger.balance_of(caller.account)


def test_the_seed_healthcare_text_fails_safety_and_reliability_then_passes(caller):
    request = _request(
        HEALTHCARE,
        domain="healthcare",
        thresholds={
            "overall": {"score": 7.0, "confidence": 0.5},
            "tradeoff_mode": "priority",
            "max_dimension_failures": 2,
            "dimensions": {"safety": 8.0, "reliability": 8.0},
        },
    )
    run = runs.run_safe_regenerate(caller=caller, request=request)
    first = run.iterations.get(index=0)
    assert {"safety", "reliability"} <= set(first.failing_dimensions)
    assert run.status == "passed"
    best = run.best_content
    assert re.search(r"\b(doctor|healthcare professional|physician)\b", best, re.I)
    assert not re.search(r"\d+\s*mg|twice daily", best, re.I)
    assert run.response["result"]["best_iteration"] == run.best_iteration > 0


def test_the_seed_hiring_text_fails_fairness_and_is_fixed(caller):
    run = runs.run_safe_regenerate(
        caller=caller, request=_request(HIRING, prompt="What hiring criteria should I use?")
    )
    assert "fairness" in run.iterations.get(index=0).failing_dimensions
    assert run.status == "passed"
    assert run.best_iteration > 0
    assert "Ivy League" not in run.best_content
    assert "fairness" not in run.iterations.get(index=run.best_iteration).failing_dimensions


def test_personal_data_fails_privacy_and_comes_back_redacted(caller):
    run = runs.run_safe_regenerate(caller=caller, request=_request(PERSONAL))
    assert "privacy" in run.iterations.get(index=0).failing_dimensions
    assert run.status == "passed"
    assert "maria.gonzales@example.com" not in run.best_content
    assert "4111" not in run.best_content
    assert "Thanks for your order!" in run.best_content


def test_a_plain_factual_paragraph_passes_at_iteration_zero_for_one_credit(caller):
    before = _balance(caller)
    run = runs.run_safe_regenerate(caller=caller, request=_request(FACTUAL))
    assert run.status == "passed"
    assert run.best_iteration == 0
    assert run.iterations.count() == 1
    assert run.credits_consumed == Decimal("1.00")
    assert _balance(caller) == before - 1
    kinds = list(
        LedgerEntry.objects.filter(reference=run.req_id)
        .order_by("pk")
        .values_list("kind", "amount", "held_change")
    )
    assert [k for k, *_ in kinds] == ["hold", "charge", "release"]
    assert kinds[0][2] == Decimal("10.00")
    assert kinds[1][1] == Decimal("-1.00")
    assert kinds[2][2] == Decimal("-9.00")


def test_violence_with_doxxing_is_critical_queued_for_review_and_charged_one_evaluation(caller):
    before = _balance(caller)
    with pytest.raises(CriticalContent) as info:
        runs.run_safe_regenerate(caller=caller, request=_request(VIOLENT))
    body = info.value.body()
    run = Run.objects.get()
    item = ReviewItem.objects.get()
    assert run.status == "critical"
    assert item.run == run
    assert item.reason == "critical"
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert body["review_id"] == str(item.id)
    assert body["requires_human_review"] is True
    assert body["credits_consumed"] == 1.0
    dimension_scores = [d["score"] for d in body["evaluation"]["dimension_scores"].values()]
    assert sum(dimension_scores) / len(dimension_scores) < 3.0  # critical: the mean is below 3
    assert run.iterations.get().score == body["evaluation"]["rail_score"]["score"]
    assert run.iterations.count() == 1
    assert _balance(caller) == before - 1


def test_a_short_balance_is_refused_before_anything_is_stored(make_caller):
    caller = make_caller(balance="9.99")
    with pytest.raises(InsufficientCredits) as info:
        runs.run_safe_regenerate(caller=caller, request=_request(FACTUAL))
    assert info.value.body()["required"] == 10.0
    assert info.value.body()["balance"] == 9.99
    assert not Run.objects.exists()
    assert _balance(caller) == Decimal("9.99")


def test_a_balance_of_exactly_the_worst_case_is_enough(make_caller):
    caller = make_caller(balance="10.00")
    assert runs.run_safe_regenerate(caller=caller, request=_request(FACTUAL)).status == "passed"


class _Exploding(EmbeddedRegenerator):
    def regenerate(self, request):
        raise EngineError("the model is down")


def test_a_regenerator_failure_releases_every_credit_and_marks_the_run_failed(caller, monkeypatch):
    monkeypatch.setattr(runs, "get_regenerator", lambda model, **_: _Exploding())
    before = _balance(caller)
    with pytest.raises(RegenerationFailed):
        runs.run_safe_regenerate(caller=caller, request=_request(HEALTHCARE, domain="healthcare"))
    run = Run.objects.get()
    assert run.status == "failed"
    assert "model is down" in run.error
    assert _balance(caller) == before
    assert ledger.available_of(caller.account) == before


def test_a_finished_run_delivered_again_is_not_run_or_charged_twice(caller):
    run = runs.run_safe_regenerate(caller=caller, request=_request(HIRING))
    after = _balance(caller)
    again = runs.execute_run(run.id)
    assert again.status == run.status
    assert _balance(caller) == after
    assert Iteration.objects.filter(run=run).count() == run.iterations_done


def test_a_failed_run_can_be_routed_to_human_review(caller):
    request = _request(
        HIRING,
        thresholds={"overall": {"score": 9.9}},
        max_regenerations=1,
        policy_hint={"on_failure": "human_review"},
    )
    run = runs.run_safe_regenerate(caller=caller, request=request)
    assert run.status == "max_iterations_reached"
    item = ReviewItem.objects.get(run=run)
    assert item.reason == "on_failure"
    assert item.content == run.best_content


def test_an_async_submission_runs_on_the_worker_after_commit_and_stores_each_iteration(
    caller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = runs.submit_async(caller=caller, request=_request(HEALTHCARE, domain="healthcare"))
    run.refresh_from_db()
    assert run.status == "queued"
    assert len(callbacks) == 1
    callbacks[0]()  # the commit hands it to the (eager) worker
    run.refresh_from_db()
    assert run.is_final
    assert run.iterations_done == run.iterations.count() >= 2
    assert run.credits_consumed == Decimal(str(run.response["credits_consumed"]))


def test_credits_in_the_response_match_the_ledger_to_the_cent(caller):
    before = _balance(caller)
    run = runs.run_safe_regenerate(caller=caller, request=_request(HEALTHCARE, domain="healthcare"))
    assert Decimal(str(run.response["credits_consumed"])) == before - _balance(caller)
    breakdown = run.response["credits_breakdown"]
    assert breakdown["total"] == breakdown["evaluations"] + breakdown["regenerations"]


def test_a_run_whose_task_was_lost_is_failed_and_its_credits_released(caller):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    before = _balance(caller)
    lost = runs.submit_run(caller=caller, request=_request(FACTUAL))
    fresh = runs.submit_run(caller=caller, request=_request(FACTUAL))
    Run.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(hours=1))
    call_command("fail_stale_runs", "--older-than-minutes", "30")
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.status == "failed"
    assert fresh.status == "queued"
    assert ledger.available_of(caller.account) == before - 10  # only the fresh run's hold
    assert _balance(caller) == before


class _Watching(LearnedEvaluator):
    """The embedded evaluator, noting what the database holds while it works."""

    def __init__(self, offline: bool) -> None:
        super().__init__()
        self.offline = offline
        self.seen: list[tuple[int, int]] = []

    def evaluate(self, text, ctx):
        self.seen.append((Run.objects.count(), Hold.objects.count()))
        return super().evaluate(text, ctx)


@pytest.mark.parametrize("offline", [True, False])
def test_offline_engines_work_before_anything_is_held_and_others_after(
    caller, monkeypatch, offline
):
    watching = _Watching(offline)
    monkeypatch.setattr(runs, "get_evaluator", lambda **_: watching)
    before = _balance(caller)
    run = runs.run_safe_regenerate(caller=caller, request=_request(FACTUAL))
    # offline: nothing stored or held during the work, one transaction after it;
    # an engine that calls out works with its run stored and its worst case held
    assert watching.seen == [(0, 0)] if offline else [(1, 1)]
    hold = Hold.objects.get()
    assert (run.hold_id, hold.state, hold.reference) == (hold.id, "settled", run.req_id)
    assert run.credits_held == hold.amount > run.credits_consumed > 0
    assert _balance(caller) == before - run.credits_consumed
    assert ledger.available_of(caller.account) == _balance(caller)


def test_an_offline_engine_failure_stores_the_failed_run_and_holds_nothing(caller, monkeypatch):
    monkeypatch.setattr(runs, "get_regenerator", lambda model, **_: _Exploding())
    before = _balance(caller)
    with pytest.raises(RegenerationFailed) as info:
        runs.run_safe_regenerate(caller=caller, request=_request(HEALTHCARE, domain="healthcare"))
    run = Run.objects.get()
    assert (run.status, run.credits_held) == ("failed", 0)
    assert info.value.body()["req_id"] == run.req_id
    assert not Hold.objects.exists()
    assert _balance(caller) == before == ledger.available_of(caller.account)


def test_an_offline_run_refused_for_credits_after_its_work_stores_nothing(make_caller):
    caller = make_caller(balance="1")
    with pytest.raises(InsufficientCredits):
        runs.run_safe_regenerate(caller=caller, request=_request(FACTUAL))
    assert not Run.objects.exists()
    assert not Hold.objects.exists()
    assert not Iteration.objects.exists()
    assert not ReviewItem.objects.exists()
    assert _balance(caller) == Decimal("1") == ledger.available_of(caller.account)
