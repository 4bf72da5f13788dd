"""Several providers: a model is provider/model; a project's choice calls that provider only;
USD is tokens x the provider's prices; misconfiguration is the server's 503."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from billing.accounts import update_policy
from regen import engines
from regen.engine.dimensions import DIMENSIONS
from regen.models import Run
from tests.api.texts import FACTUAL, HIRING
from tests.engine.llm.fakeserver import running_fake_llm

from .conftest import ALPHA_KEY, BETA_KEY

URL = "/railscore/v1/safe-regenerate"
EVALGUARD = "/api/v1/evals/safe-regenerate"


def use_engines(key, **choices):
    return update_policy(project=key.project, **choices)


def models_asked(fake):
    return {body["model"] for body in fake.requests}


def test_a_project_using_provider_b_calls_only_b(two, api_a, key_a):
    use_engines(key_a, evaluator="llm", judge_model="beta/judge-b", regenerator="beta/writer-b")
    body = api_a.post(URL, {"content": HIRING, "max_regenerations": 2}, format="json").json()

    assert two.alpha.hits == 0
    assert two.beta.hits == 5  # 3 judgements, 2 rewrites
    assert models_asked(two.beta) == {"judge-b", "writer-b"}
    assert set(two.beta.authorizations) == {f"Bearer {BETA_KEY}"}
    history = body["result"]["iteration_history"]
    assert [it["regeneration_model"] for it in history[1:]] == ["beta/writer-b"] * 2
    assert [it["engine"] for it in history] == ["llm"] * 3


def test_a_request_naming_a_provider_model_calls_that_provider(two, api_a):
    body = {"content": HIRING, "max_regenerations": 1, "regeneration_model": "alpha/judge-a"}
    response = api_a.post(URL, body, format="json")

    assert response.status_code == 200
    assert two.alpha.hits == 1  # the rewrite; the server's evaluator is embedded
    assert two.beta.hits == 0
    assert set(two.alpha.authorizations) == {f"Bearer {ALPHA_KEY}"}


def test_another_projects_choice_does_not_leak_into_this_one(two, api_a, api_b, key_b):
    use_engines(key_b, evaluator="llm", judge_model="beta/judge-b")
    api_a.post(URL, {"content": FACTUAL, "max_regenerations": 1}, format="json")

    assert two.beta.hits == 0
    assert two.alpha.hits == 0


@pytest.mark.parametrize("model", ["beta/nope", "gamma/judge-b", "judge-b", "beta/"])
def test_a_model_the_caller_names_wrongly_is_the_callers_400(two, api_a, model):
    body = {"content": FACTUAL, "regeneration_model": model}
    response = api_a.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "regeneration_model" in response.json()["details"]
    assert not Run.objects.exists()


def test_evalguard_regenerator_model_picks_the_provider(two, api_a):
    body = {
        "content": HIRING,
        "prompt": "Hiring tips?",
        "maxIterations": 1,
        "regeneratorModel": "beta/writer-b",
    }
    response = api_a.post(EVALGUARD, body, format="json")

    assert response.status_code == 200, response.json()
    assert two.beta.hits == 1
    assert two.alpha.hits == 0


def test_rail_safe_llm_means_the_configured_default_model(two, api_a, settings):
    settings.RAIL_REGENERATOR = "llm"
    settings.RAIL_DEFAULT_MODEL = "beta/writer-b"
    body = {"content": HIRING, "max_regenerations": 1, "regeneration_model": "RAIL_Safe_LLM"}
    result = api_a.post(URL, body, format="json").json()["result"]

    assert result["iteration_history"][1]["regeneration_model"] == "beta/writer-b"
    assert two.beta.hits == 1


# -- USD = tokens x prices ------------------------------------------------------------------
def test_usd_figures_equal_tokens_times_the_providers_prices(two, api_a, key_a):
    use_engines(key_a, evaluator="llm", judge_model="alpha/judge-a", regenerator="beta/writer-b")
    for fake in (two.alpha, two.beta):
        fake.usage = (1000, 200)  # tokens in, out of every call
    body = api_a.post(URL, {"content": HIRING, "max_regenerations": 1}, format="json").json()

    judge = (1000 * 1.0 + 200 * 2.0) / 1e6  # alpha/judge-a: $1 in, $2 out per million
    rewrite = (1000 * 3.0 + 200 * 5.0) / 1e6  # beta/writer-b: $3 in, $5 out per million
    usage = body["metadata"]["usage"]
    assert usage["llm_calls"] == 3
    assert usage["input_tokens"] == 3000
    assert usage["output_tokens"] == 600
    assert usage["cost_usd"] == pytest.approx(2 * judge + rewrite, abs=1e-9)
    run = Run.objects.get()
    costs = [float(it.cost_usd) for it in run.iterations.order_by("index")]
    assert costs == pytest.approx([judge, judge + rewrite], abs=1e-9)
    assert float(run.cost_usd) == pytest.approx(2 * judge + rewrite, abs=1e-9)


def test_dry_run_and_evalguard_pre_flight_read_the_same_price_table(two, api_a, key_a, settings):
    use_engines(key_a, evaluator="llm", judge_model="alpha/judge-a", regenerator="beta/writer-b")
    body = {"content": HIRING, "max_regenerations": 2, "dry_run": True}
    before = api_a.post(URL, body, format="json").json()["worst_case_usd"]
    guard = {
        "content": HIRING,
        "prompt": "Hiring tips?",
        "maxIterations": 2,
        "regeneratorModel": "beta/writer-b",
    }
    guard_before = api_a.post(EVALGUARD, {**guard, "maxCostUsd": 0.0}, format="json").json()

    doubled = {
        name: {
            **entry,
            "models": {m: [p[0] * 2, p[1] * 2] for m, p in entry["models"].items()},
        }
        for name, entry in settings.RAIL_PROVIDERS.items()
    }
    settings.RAIL_PROVIDERS = doubled
    engines.reset()
    after = api_a.post(URL, body, format="json").json()["worst_case_usd"]
    guard_after = api_a.post(EVALGUARD, {**guard, "maxCostUsd": 0.0}, format="json").json()

    assert before > 0
    assert after == pytest.approx(2 * before, rel=1e-4)
    assert guard_before["code"] == "BUDGET_EXCEEDED"
    assert guard_before["estimatedWorstCaseUsd"] > 0
    assert guard_after["estimatedWorstCaseUsd"] == pytest.approx(
        2 * guard_before["estimatedWorstCaseUsd"], rel=1e-4
    )
    assert two.alpha.hits == two.beta.hits == 0  # pricing calls no model


def test_the_budget_stop_counts_spent_usd_from_the_price_table(two, api_a, key_a):
    use_engines(key_a, evaluator="llm", judge_model="alpha/judge-a", regenerator="beta/writer-b")
    guard = {"content": HIRING, "prompt": "Hiring tips?", "maxIterations": 3}
    guard["regeneratorModel"] = "beta/writer-b"
    worst = api_a.post(EVALGUARD, {**guard, "maxCostUsd": 0.0}, format="json").json()
    for fake in (two.alpha, two.beta):
        fake.usage = (20_000, 100)  # far more than the estimate: the budget runs out early
    cap = worst["estimatedWorstCaseUsd"]
    body = api_a.post(EVALGUARD, {**guard, "maxCostUsd": cap}, format="json").json()

    judge, rewrite = (20_000 * 1.0 + 100 * 2.0) / 1e6, (20_000 * 3.0 + 100 * 5.0) / 1e6
    calls = body["cost"]["llmCallCount"]
    assert body["result"]["stopReason"] == "budget_exhausted"
    assert calls < 7
    judges = two.alpha.hits
    assert judges + two.beta.hits == calls
    assert body["cost"]["actualUsd"] == pytest.approx(
        judges * judge + two.beta.hits * rewrite, abs=1e-6
    )
    assert body["cost"]["actualUsd"] <= cap


# -- the server's configuration ---------------------------------------------------------------
def test_the_old_single_provider_variables_still_make_a_provider(settings, api_a):
    with running_fake_llm() as fake:
        settings.RAIL_PROVIDERS = {}
        settings.RAIL_LLM_BASE_URL = fake.base_url
        settings.RAIL_REGENERATOR = "llm"
        engines.reset()
        try:
            body = {"content": HIRING, "max_regenerations": 1}
            result = api_a.post(URL, body, format="json").json()["result"]
        finally:
            engines.reset()
    assert result["iteration_history"][1]["regeneration_model"] == "openai/gpt-4o-mini"
    assert fake.hits == 1


@pytest.mark.parametrize(
    "providers",
    [
        {"bad": {"base_url": "http://127.0.0.1:9/v1"}},  # no models
        {"bad": {"base_url": "http://127.0.0.1:9/v1", "models": {"m": "cheap"}}},
        {"bad/name": {"base_url": "http://127.0.0.1:9/v1", "models": {"m": [0, 0]}}},
        {"bad": {"base_url": "", "models": {"m": [0, 0]}}},
    ],
)
def test_malformed_providers_fail_the_start_check_and_answer_503(settings, api_a, providers):
    settings.RAIL_PROVIDERS = providers
    settings.RAIL_REGENERATOR = "llm"
    engines.reset()
    try:
        with pytest.raises(SystemCheckError, match="RAIL_PROVIDERS"):
            call_command("check")
        response = api_a.post(URL, {"content": FACTUAL}, format="json")
    finally:
        engines.reset()
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


def test_the_ssrf_guard_applies_to_every_provider(settings, api_a):
    settings.RAIL_PROVIDERS = {
        "metadata": {"base_url": "http://169.254.169.254/v1", "models": {"m": [0, 0]}},
    }
    settings.RAIL_REGENERATOR = "metadata/m"
    engines.reset()
    try:
        with pytest.raises(SystemCheckError, match="forbidden address"):
            call_command("check")
        response = api_a.post(URL, {"content": HIRING}, format="json")
        settings.RAIL_LLM_URL_ALLOWLIST = ["169.254.169.254"]
        engines.reset()
        call_command("check")  # allow-listed by the operator: accepted
    finally:
        engines.reset()
    assert response.status_code == 503


def test_a_server_setting_naming_an_unconfigured_model_fails_the_check(two, settings):
    settings.RAIL_JUDGE_MODEL = "beta/gone"
    with pytest.raises(SystemCheckError, match="RAIL_JUDGE_MODEL"):
        call_command("check")


def test_every_dimension_is_judged_by_the_chosen_judge(two, api_a, key_a):
    use_engines(key_a, evaluator="llm", judge_model="alpha/judge-a")
    response = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")

    body = response.json()
    assert set(body["result"]["dimension_scores"]) == set(DIMENSIONS)
    assert two.alpha.hits == 1
    assert models_asked(two.alpha) == {"judge-a"}
