"""The API on the LLM engines, against a real OpenAI-compatible server on 127.0.0.1."""

import pytest

from billing import ledger
from regen import engines
from tests.engine.llm.fakeserver import refused_url, running_fake_llm

from .texts import HIRING

URL = "/railscore/v1/safe-regenerate"


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
        body = api_a.post(URL, {"content": HIRING, "max_regenerations": 2}, format="json").json()
    result, metadata = body["result"], body["metadata"]
    assert result["status"] == "max_iterations_reached"  # the fake judge always says 6.0
    assert result["iteration_history"][1]["regeneration_model"] == "openai/gpt-4o-mini"
    assert metadata["usage"]["llm_calls"] == fake.hits == 5  # 3 judgements + 2 rewrites
    assert metadata["usage"]["input_tokens"] > 0
    assert metadata["usage"]["cost_usd"] > 0
    assert metadata["degraded"] is False


def test_a_judge_that_is_down_falls_back_to_the_offline_evaluator_and_says_so(api_a, llm_settings):
    llm_settings(refused_url())
    body = api_a.post(URL, {"content": HIRING, "regeneration_model": "embedded"}, format="json").json()
    assert body["metadata"]["degraded"] is True
    assert body["result"]["status"] == "passed"  # scored by the embedded evaluator


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
        response = api_a.post(URL, {"content": HIRING, "regeneration_model": "openai/gpt-4o-mini", "max_regenerations": 1}, format="json")
    assert response.status_code == 200
