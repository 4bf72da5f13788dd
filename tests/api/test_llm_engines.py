"""The API on the LLM engines, against a real OpenAI-compatible server on 127.0.0.1."""

import pytest

from billing import ledger
from regen import engines
from regen.engine.dimensions import DIMENSIONS
from regen.models import Run
from tests.engine.llm.fakeserver import refused_url, running_fake_llm

from .texts import FACTUAL, HIRING

URL = "/railscore/v1/safe-regenerate"
EVAL_URL = "/railscore/v1/eval"


@pytest.fixture
def llm_settings(settings):
    def use(base_url):
        settings.RAIL_EVALUATOR = "llm"
        settings.RAIL_REGENERATOR = "llm"
        settings.RAIL_LLM_BASE_URL = base_url
        settings.RAIL_LLM_READ_TIMEOUT = 2.0
        settings.RAIL_LLM_DEADLINE = 4.0
        settings.RAIL_LLM_BACKOFF_BASE = 0.01
        settings.RAIL_LLM_MAX_RETRIES = 1
        engines.reset()

    yield use
    engines.reset()


def test_a_loop_on_the_llm_engines_records_calls_tokens_and_cost(api_a, llm_settings):
    with running_fake_llm() as fake:
        llm_settings(fake.base_url)
        versions = iter(range(1, 10))  # a new text each time: an identical one stops the loop
        fake.rewrite = lambda text: f"{text} Version {next(versions)}."
        body = api_a.post(URL, {"content": HIRING, "max_regenerations": 2}, format="json").json()
    result, metadata = body["result"], body["metadata"]
    assert result["status"] == "max_iterations_reached"  # the fake judge always says 6.0
    assert result["iteration_history"][1]["regeneration_model"] == "openai/gpt-4o-mini"
    assert metadata["usage"]["llm_calls"] == fake.hits == 5  # 3 judgements + 2 rewrites
    assert metadata["usage"]["input_tokens"] > 0
    assert metadata["usage"]["cost_usd"] > 0
    assert metadata["degraded"] is False


def test_a_judge_that_is_down_falls_back_to_the_offline_evaluator_and_never_passes(
    api_a, llm_settings
):
    llm_settings(refused_url())
    body = api_a.post(
        URL, {"content": HIRING, "regeneration_model": "embedded"}, format="json"
    ).json()
    result = body["result"]
    assert body["metadata"]["degraded"] is True
    # T23 (f): never passed on failure. The embedded rewriter fixes the text once, then
    # hands the same text back, and the loop stops at that identical version.
    assert result["status"] == "no_improvement"
    assert body["metadata"]["stop_reason"] == "identical_version"
    assert result["passed"] is False
    assert result["best_scores"]["thresholds_met"]["all_passed"] is False
    assert [it["thresholds_met"] for it in result["iteration_history"]] == [False] * 2
    assert Run.objects.get(id=body["metadata"]["req_id"]).status == "no_improvement"


# -- a degraded evaluation never passes (T23 (f)) ---------------------------------------------
# FACTUAL passes on the embedded evaluator at once; it must not pass when the embedded
# evaluator only stands in for a judge that failed.
@pytest.fixture
def judge(llm_settings):
    """Serve the LLM engines from a fake judge that finds every dimension at 9.0."""
    with running_fake_llm() as fake:
        fake.scores = dict.fromkeys(DIMENSIONS, 9.0)
        llm_settings(fake.base_url)
        yield fake


def fail_judge(fake):
    fake.statuses = [503] * 100  # every call: the client retries, then gives up


def test_an_eval_scored_by_the_fallback_is_marked_degraded_and_not_passed(api_a, judge):
    fail_judge(judge)
    body = api_a.post(EVAL_URL, {"content": FACTUAL, "mode": "basic"}, format="json").json()
    result = body["result"]
    assert body["metadata"]["degraded"] is True
    assert body["metadata"]["engine"] == "embedded-fallback"
    assert result["thresholds_met"]["overall_passed"] is True  # the fallback's scores pass...
    assert result["thresholds_met"]["all_passed"] is False  # ...but the decision is withheld
    assert judge.hits == 2  # the judge was asked (and retried) before the fallback scored


def test_an_eval_scored_by_a_healthy_judge_passes(api_a, judge):
    body = api_a.post(EVAL_URL, {"content": FACTUAL, "mode": "basic"}, format="json").json()
    assert body["metadata"]["degraded"] is False
    assert body["metadata"]["engine"] == "llm"
    assert body["result"]["thresholds_met"]["all_passed"] is True


def test_a_degraded_eval_is_not_cached_so_a_retry_is_scored_by_the_recovered_judge(api_a, judge):
    fail_judge(judge)
    first = api_a.post(EVAL_URL, {"content": FACTUAL, "mode": "basic"}, format="json").json()
    judge.statuses = []  # the judge is back
    retry = api_a.post(EVAL_URL, {"content": FACTUAL, "mode": "basic"}, format="json").json()
    assert first["metadata"]["degraded"] is True
    assert retry["result"]["from_cache"] is False
    assert retry["metadata"]["engine"] == "llm"
    assert retry["result"]["thresholds_met"]["all_passed"] is True


def test_a_safe_regenerate_scored_by_the_fallback_does_not_end_passed(api_a, judge):
    fail_judge(judge)
    data = {"content": FACTUAL, "max_regenerations": 1, "regeneration_model": "embedded"}
    body = api_a.post(URL, data, format="json").json()
    result = body["result"]
    assert body["metadata"]["degraded"] is True
    # nothing to fix, so the embedded rewriter hands the text back: an identical version
    assert result["status"] == "no_improvement"
    assert result["passed"] is False
    assert result["best_scores"]["thresholds_met"]["all_passed"] is False
    assert [it["thresholds_met"] for it in result["iteration_history"]] == [False]
    assert Run.objects.get(id=body["metadata"]["req_id"]).status == "no_improvement"


def test_a_safe_regenerate_scored_by_a_healthy_judge_passes_at_once(api_a, judge):
    body = api_a.post(URL, {"content": FACTUAL, "max_regenerations": 1}, format="json").json()
    assert body["metadata"]["degraded"] is False
    assert body["result"]["status"] == "passed"
    assert body["result"]["best_iteration"] == 0


def test_a_regenerator_that_fails_answers_500_and_releases_the_hold(api_a, account_a, llm_settings):
    with running_fake_llm(mode="empty") as fake:
        llm_settings(fake.base_url)
        fake.script = ["ok"]  # the first judgement answers; every rewrite comes back empty
        before = ledger.available_of(account_a)
        response = api_a.post(URL, {"content": HIRING}, format="json")
    assert response.status_code == 500
    assert response.json()["code"] == "REGENERATION_FAILED"
    assert ledger.available_of(account_a) == before


def test_the_configured_provider_model_can_be_named(api_a, llm_settings):
    with running_fake_llm() as fake:
        llm_settings(fake.base_url)
        response = api_a.post(
            URL,
            {"content": HIRING, "regeneration_model": "openai/gpt-4o-mini", "max_regenerations": 1},
            format="json",
        )
    assert response.status_code == 200


def test_the_dry_run_the_hold_and_the_evalguard_preflight_price_alike(
    api_a, account_a, llm_settings
):
    from decimal import Decimal

    from regen import runs, service

    llm_settings(refused_url())  # pricing never calls the judge: nothing has to listen
    common = {"content": FACTUAL, "prompt": "Explain photosynthesis to a child, briefly."}
    guard = api_a.post(
        "/api/v1/evals/safe-regenerate",
        {**common, "maxIterations": 2, "maxCostUsd": 0.000001},
        format="json",
    )
    assert guard.status_code == 402, guard.json()
    body = {**common, "max_regenerations": 2}
    dry = api_a.post(URL, {**body, "dry_run": True}, format="json").json()
    caller = runs.Caller(account=account_a)
    held = runs.submit_run(caller=caller, request=service.prepare(caller, body)).credits_held

    assert dry["worst_case_usd"] == guard.json()["estimatedWorstCaseUsd"] > 0
    assert held == Decimal(str(dry["worst_case_credits"])) == Decimal("7.0")  # 3 x 1 + 2 x 2


def test_a_sync_run_ends_inside_the_request_deadline_with_the_best_so_far(
    api_a, account_a, llm_settings, settings
):
    """Issue 11, defect 1: the model is slow, the request's work deadline is 1.5 s; the
    answer comes before it, in JSON, with what was scored, and charges only that."""
    import time

    with running_fake_llm() as fake:
        llm_settings(fake.base_url)
        settings.RAIL_REQUEST_WORK_SECONDS = 1.5
        fake.latency = 0.35
        versions = iter(range(1, 10))
        fake.rewrite = lambda text: f"{text} Version {next(versions)}."
        before = ledger.available_of(account_a)
        started = time.monotonic()
        response = api_a.post(URL, {"content": HIRING, "max_regenerations": 5}, format="json")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert elapsed < 1.5 + 0.3
    assert body["result"]["status"] == "budget_exhausted"
    assert body["metadata"]["stop_reason"] == "request_deadline"
    assert 1 <= body["result"]["iterations_taken"] < 5
    run = Run.objects.get()
    assert run.status == "budget_exhausted"
    assert run.hold.state == "settled"
    assert before - ledger.available_of(account_a) == run.credits_consumed


def test_a_hung_model_fails_the_request_cleanly_before_the_worker_timeout(
    api_a, account_a, llm_settings, settings
):
    import time

    with running_fake_llm() as fake:
        llm_settings(fake.base_url)
        settings.RAIL_REQUEST_WORK_SECONDS = 1.0
        settings.RAIL_LLM_READ_TIMEOUT = 30.0
        settings.RAIL_LLM_DEADLINE = 60.0
        engines.reset()
        fake.mode = "hang"
        before = ledger.available_of(account_a)
        started = time.monotonic()
        response = api_a.post(
            URL, {"content": HIRING, "regeneration_model": "RAIL_Safe_LLM"}, format="json"
        )
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.5
    assert response.status_code == 200
    body = response.json()
    # the judge hung until the deadline: the offline evaluator scored the original in its
    # place (degraded); no time was left to rewrite, so the run ends with the original
    assert body["metadata"]["degraded"] is True
    assert body["result"]["status"] == "budget_exhausted"
    assert body["metadata"]["stop_reason"] == "request_deadline"
    assert body["result"]["iterations_taken"] == 0
    run = Run.objects.get()
    assert run.hold.state == "settled"
    assert before - ledger.available_of(account_a) == run.credits_consumed == 1
