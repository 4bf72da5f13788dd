"""README, "Decisions where the contract is silent": one test (or more) per bullet that had
none able to fail. Bullets owned elsewhere (subset pricing) are mapped in docs/promises.md.
"""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from billing import ledger
from billing.models import Hold, LedgerEntry
from regen import engines, runs, tasks
from regen.engine.requests import parse_regenerate_request
from regen.models import Iteration, ReviewItem, Run
from tests.api.texts import FACTUAL, HIRING, VIOLENT
from tests.engine.fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

URL = "/railscore/v1/safe-regenerate"
EVAL = "/railscore/v1/eval"
EVALGUARD = "/api/v1/evals/safe-regenerate"
STILL_FAILING = HIRING + " Also hire fast."
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."


@pytest.fixture
def evaluator(monkeypatch):
    """Make the server's evaluator score each text as the script says."""

    def use(script):
        fake = ScriptedEvaluator(script)
        monkeypatch.setattr(engines, "_embedded_evaluator", lambda: fake)
        return fake

    return use


@pytest.fixture
def regenerator(monkeypatch):
    """Make the server's regenerator return the scripted texts in turn."""

    def use(*outputs, usd=0.0):
        fake = ScriptedRegenerator(list(outputs), usd=usd)
        monkeypatch.setattr(engines, "_embedded_regenerator", lambda: fake)
        return fake

    return use


def _post(client, url=URL, **body):
    return client.post(url, body, format="json")


# -- scores are compared as shown (one decimal) ------------------------------------------
def test_a_score_shown_as_7_0_passes_a_7_0_threshold(api_a, evaluator):
    evaluator({HIRING: uniform(6.96)})  # shown, and compared, as 7.0
    thresholds = {"overall": {"score": 7.0}, "dimensions": {"safety": 7.0}}
    result = _post(api_a, content=HIRING, thresholds=thresholds).json()["result"]
    assert result["best_scores"]["rail_score"]["score"] == 7.0
    assert result["best_scores"]["thresholds_met"]["dimension_results"]["safety"]["passed"] is True
    assert result["status"] == "passed"


def test_a_score_shown_as_6_9_fails_a_7_0_threshold(api_a, evaluator, regenerator):
    evaluator({HIRING: uniform(6.94)})
    regenerator("another version, which scores 5.0")  # HIRING again would stop as identical
    result = _post(api_a, content=HIRING, threshold=7.0, max_regenerations=1).json()["result"]
    assert result["best_scores"]["rail_score"]["score"] == 6.9
    assert result["status"] == "max_iterations_reached"


# -- iterations_taken counts regenerations, total_iterations scored versions ---------------
def test_iterations_taken_counts_regenerations_and_total_iterations_every_scored_version(
    api_a, regenerator
):
    regenerator(STILL_FAILING, FIXED)
    body = _post(api_a, content=HIRING, max_regenerations=3).json()
    assert body["metadata"]["total_iterations"] == 3
    assert body["result"]["iterations_taken"] == 2


def test_a_text_passing_at_once_took_no_iteration_and_one_scored_version(api_a):
    body = _post(api_a, content=FACTUAL).json()
    assert body["metadata"]["total_iterations"] == 1
    assert body["result"]["iterations_taken"] == 0


# -- policy_hint: a string or an object --------------------------------------------------
def test_a_string_policy_hint_reaches_the_regenerator_as_is(api_a, regenerator):
    fake = regenerator(FIXED)
    _post(api_a, content=HIRING, policy_hint="Keep a formal tone.")
    assert fake.requests[0].policy_hint == "Keep a formal tone."


def test_an_object_policy_hint_reaches_the_regenerator_as_text_without_on_failure(
    api_a, regenerator
):
    fake = regenerator(FIXED)
    hint = {"tone": "formal", "audience": "recruiters", "on_failure": "human_review"}
    _post(api_a, content=HIRING, policy_hint=hint)
    assert fake.requests[0].policy_hint == "tone: formal; audience: recruiters"


def test_on_failure_human_review_leaves_a_run_that_passes_out_of_the_queue(api_a):
    body = _post(api_a, content=HIRING, policy_hint={"on_failure": "human_review"}).json()
    assert body["result"]["status"] == "passed"
    assert not ReviewItem.objects.exists()


def test_without_on_failure_a_run_that_did_not_pass_is_not_queued(api_a):
    body = _post(api_a, content=HIRING, threshold=9.9, max_regenerations=1).json()
    assert body["result"]["status"] == "max_iterations_reached"
    assert not ReviewItem.objects.exists()


# -- a task delivered again: from iteration 0, failed after 3 deliveries ---------------------
def _caller(key):
    return runs.Caller(account=key.project.account, project=key.project, api_key=key)


def _crashed_run(key, attempts):
    """A run a worker claimed ``attempts`` times and died in, leaving a partial iteration."""
    request = parse_regenerate_request({"content": HIRING})
    run = runs.submit_run(caller=_caller(key), request=request)
    Run.objects.filter(id=run.id).update(status=Run.Status.RUNNING, attempts=attempts)
    Iteration.objects.create(
        run=run,
        index=0,
        content="half-written by the dead worker",
        score=1.0,
        confidence=0.5,
        evaluation={},
        thresholds_met={},
        passed=False,
    )
    return run


def test_a_run_delivered_again_starts_again_from_iteration_0(key_a):
    run = runs.execute_run(_crashed_run(key_a, attempts=1).id)
    contents = list(run.iterations.order_by("index").values_list("index", "content"))
    assert contents[0] == (0, HIRING)
    assert [index for index, _ in contents] == list(range(run.iterations_done))


def test_a_run_delivered_a_third_time_still_runs(key_a):
    run = runs.execute_run(_crashed_run(key_a, attempts=2).id)
    assert run.status == "passed"


def test_a_run_delivered_after_3_deliveries_is_failed_and_its_hold_released(key_a, account_a):
    balance = ledger.balance_of(account_a)
    run = runs.execute_run(_crashed_run(key_a, attempts=3).id)
    assert run.status == "failed"
    assert Hold.objects.get(reference=run.req_id).state == Hold.State.RELEASED
    assert ledger.available_of(account_a) == balance


# -- early stops are reported as the run's status ------------------------------------------
def test_no_improvement_is_the_runs_status_when_asked_for(api_a, regenerator):
    regenerator(*(f"{STILL_FAILING} ({n})" for n in range(3)))  # new texts: not identical stops
    body = _post(api_a, content=STILL_FAILING, stop_on_no_improvement=True).json()
    assert body["result"]["status"] == "no_improvement"
    assert Run.objects.get(id=body["metadata"]["req_id"]).status == "no_improvement"


def test_without_stop_on_no_improvement_the_loop_runs_to_max_iterations(api_a, regenerator):
    regenerator(*(f"{STILL_FAILING} ({n})" for n in range(3)))  # new texts: not identical stops
    body = _post(api_a, content=STILL_FAILING).json()
    assert body["result"]["status"] == "max_iterations_reached"


def test_budget_exhausted_is_the_runs_status_when_the_next_step_would_exceed_it(api_a, regenerator):
    regenerator(STILL_FAILING, STILL_FAILING, STILL_FAILING, usd=0.1)
    body = _post(api_a, content=HIRING, max_cost_usd=0.15).json()
    assert body["result"]["status"] == "budget_exhausted"
    assert Run.objects.get(id=body["metadata"]["req_id"]).status == "budget_exhausted"
    assert body["metadata"]["total_iterations"] == 2  # a third version would cost 0.2


# -- unknown body fields are a 400 naming them; dpdp is accepted -----------------------------
def test_balance_account_id_and_credits_consumed_are_each_named_in_the_400(api_a):
    response = _post(api_a, content=FACTUAL, balance=1000, account_id=2, credits_consumed=0)
    assert response.status_code == 400
    assert {"balance", "account_id", "credits_consumed"} <= set(response.json()["details"])


def test_an_unknown_field_on_eval_is_a_400_naming_it(api_a, account_a):
    response = _post(api_a, EVAL, content=FACTUAL, moed="deep")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["moed"]
    assert not LedgerEntry.objects.filter(account=account_a, kind="hold").exists()


def test_the_sdks_dpdp_field_is_accepted_and_ignored_on_eval(api_a, api_b):
    with_dpdp = _post(api_a, EVAL, content=FACTUAL, dpdp={"purpose": "hiring"})
    without = _post(api_b, EVAL, content=FACTUAL)
    assert with_dpdp.status_code == 200
    assert with_dpdp.json()["result"]["rail_score"] == without.json()["result"]["rail_score"]
    assert with_dpdp.json()["credits_consumed"] == without.json()["credits_consumed"]


# -- plain evaluations are not runs; their ledger entries carry the req_id -------------------
def test_a_plain_evaluation_is_not_stored_as_a_run(api_a):
    _post(api_a, EVAL, content=FACTUAL)
    assert not Run.objects.exists()


def test_a_plain_evaluations_ledger_entries_carry_its_req_id(api_a, account_a):
    req_id = _post(api_a, EVAL, content=FACTUAL).json()["metadata"]["req_id"]
    kinds = LedgerEntry.objects.filter(account=account_a, reference=req_id)
    assert sorted(kinds.values_list("kind", flat=True)) == ["charge", "hold"]


# -- a review decided with an API key ------------------------------------------------------
def _decide(sender, reviewer, decision, reason="Checked by the moderation bot."):
    review_id = _post(sender, content=VIOLENT).json()["review_id"]
    url = f"/railscore/v1/review-items/{review_id}/decision"
    return review_id, _post(reviewer, url, decision=decision, reason=reason).json()


def test_a_decision_made_with_an_api_key_is_kept_as_decided_by_key(
    api_a, reviewer_a, reviewer_key_a
):
    review_id, _ = _decide(api_a, reviewer_a, "reject")
    item = ReviewItem.objects.get(id=review_id)
    assert item.decided_by_key_id == reviewer_key_a.id
    assert item.decided_by_id is None


def test_an_approved_item_serves_its_content(api_a, reviewer_a):
    _, body = _decide(api_a, reviewer_a, "approve")
    assert body["served_content"] == VIOLENT


def test_a_rejected_item_serves_nothing(api_a, reviewer_a):
    _, body = _decide(api_a, reviewer_a, "reject")
    assert body["served_content"] is None


# -- lost runs are failed after 30 minutes ----------------------------------------------------
def _queued_run(key, minutes_old):
    request = parse_regenerate_request({"content": HIRING})
    run = runs.submit_run(caller=_caller(key), request=request)
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(minutes=minutes_old))
    return run


@pytest.mark.parametrize(
    "fail",
    [lambda: call_command("fail_stale_runs"), tasks.fail_stale_runs],
    ids=["command", "beat-task"],
)
def test_a_run_lost_for_30_minutes_is_failed_and_a_younger_one_left(key_a, fail):
    lost, young = _queued_run(key_a, 31), _queued_run(key_a, 29)
    fail()
    assert Run.objects.get(id=lost.id).status == "failed"
    assert Run.objects.get(id=young.id).status == "queued"


def test_a_lost_runs_hold_is_released(key_a, account_a):
    balance = ledger.balance_of(account_a)
    lost = _queued_run(key_a, 31)
    call_command("fail_stale_runs")
    assert Hold.objects.get(reference=lost.req_id).state == Hold.State.RELEASED
    assert ledger.available_of(account_a) == balance


def test_celery_beat_runs_every_clean_up_every_minute(db):
    scheduled = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert scheduled == {"railsite.sweep": 60.0}


# -- EvalGuard: versions compete on their worst selected dimension ---------------------------
def test_an_evalguard_version_with_a_higher_mean_but_a_worse_dimension_does_not_win(
    api_a, evaluator, regenerator
):
    evaluator({HIRING: uniform(6.0), FIXED: uniform(9.5, privacy=5.0)})  # mean 9.0, worst 5.0
    regenerator(FIXED)
    body = _post(
        api_a, EVALGUARD, content=HIRING, prompt="Hiring advice?", threshold=0.9, maxIterations=1
    ).json()
    assert body["result"]["content"] == HIRING
    assert body["result"]["finalScore"] == 0.6


def test_evalguard_max_iterations_counts_regenerations(api_a, evaluator, regenerator):
    evaluator({HIRING: uniform(5.0), STILL_FAILING: uniform(5.5), FIXED: uniform(6.0)})
    fake = regenerator(STILL_FAILING, FIXED)
    body = _post(
        api_a, EVALGUARD, content=HIRING, prompt="Hiring advice?", threshold=0.9, maxIterations=2
    ).json()
    assert len(fake.requests) == 2
    assert len(body["result"]["iterationScores"]) == 3


# -- the rate-limit cache unreachable: let through, and logged ------------------------------
def test_requests_pass_when_the_rate_limit_cache_is_unreachable(api_a, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "add", down)
    assert _post(api_a, "/verify").status_code == 200


def test_an_unreachable_rate_limit_cache_is_logged(api_a, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", down)
    monkeypatch.setattr(cache, "add", down)
    with caplog.at_level(logging.WARNING, logger="billing.ratelimit"):
        _post(api_a, "/verify")
    assert any("rate-limit cache" in r.getMessage() for r in caplog.records)
