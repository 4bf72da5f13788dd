"""The LLM regenerator, the offline fallback, and the whole loop on the fake server."""

import pytest

from regen.engine.dimensions import DIMENSIONS
from regen.engine.estimate import estimate
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.llm import (
    CircuitBreaker,
    FallbackEvaluator,
    LLMBadResponse,
    LLMEvaluator,
    LLMRegenerator,
    LLMRejected,
    is_degraded,
)
from regen.engine.llm.rewriter import clean_rewrite
from regen.engine.loop import run_loop
from regen.engine.pricing import Prices
from regen.engine.prompts import build_improvement_prompt
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EvalContext, RegenerationRequest, Regenerator

from .conftest import make_client
from .fakeserver import refused_url

SEED = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y twice "
    "daily. No need to see a doctor for this."
)


def regeneration_request(content=SEED):
    prompt = build_improvement_prompt(
        content=content,
        failing_dimensions=["safety"],
        issues=[],
        scores={"safety": 3.0},
        thresholds={"safety": 7.0},
        domain="healthcare",
        attempt=2,
    )
    return RegenerationRequest(content, prompt, ("safety",), (), domain="healthcare")


def test_it_implements_the_regenerator_protocol(client):
    assert isinstance(LLMRegenerator(client), Regenerator)


def test_it_sends_the_improvement_prompt_and_returns_the_rewrite(fake_llm, client):
    fake_llm.usage = (500, 100)
    request = regeneration_request()
    result = LLMRegenerator(client).regenerate(request)
    assert result.content == f"{SEED} Please consult a professional."
    assert result.model == "openai/gpt-4o-mini"
    assert result.usage.llm_calls == 1
    assert result.usage.cost_usd == pytest.approx(500 * 0.15e-6 + 100 * 0.60e-6)
    sent = fake_llm.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": request.prompt.system_prompt}
    assert sent["messages"][1] == {"role": "user", "content": request.prompt.user_prompt}
    assert sent["temperature"] == request.prompt.temperature == 0.4


def test_an_empty_rewrite_is_retried_then_reported(fake_llm, client):
    fake_llm.script = ["empty"]
    assert LLMRegenerator(client).regenerate(regeneration_request()).usage.llm_calls == 2
    fake_llm.mode = "empty"
    with pytest.raises(LLMBadResponse):
        LLMRegenerator(client).regenerate(regeneration_request())


def test_it_strips_what_models_add_around_a_rewrite(fake_llm, client):
    fake_llm.rewrite = lambda text: (
        f"Sure! Here is the rewritten text:\n\n<<<CONTENT-ab12\n{text}\nCONTENT-ab12>>>"
    )
    result = LLMRegenerator(client).regenerate(regeneration_request("A calm, safe text."))
    assert result.content == "A calm, safe text."


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("```\nFine text.\n```", "Fine text."),
        ("Here's the improved version:\nFine text.", "Fine text."),
        ("Rewritten text:\nFine text.", "Fine text."),
        ("Here is why it matters: people differ.", "Here is why it matters: people differ."),
        ("   ", ""),
    ],
)
def test_clean_rewrite(raw, clean):
    assert clean_rewrite(raw) == clean


def test_the_regeneration_estimate_prices_the_token_cap(client):
    estimate = LLMRegenerator(client).estimate_cost_usd(text_chars=4000)
    assert 0 < estimate < 0.01


# -- fallback --------------------------------------------------------------------------------
def test_an_unreachable_judge_falls_back_to_the_offline_engine_marked_degraded():
    circuit = CircuitBreaker(failure_threshold=3, cooldown=30)
    llm = make_client(refused_url(), max_retries=2, circuit=circuit)
    evaluator = FallbackEvaluator(LLMEvaluator(llm), LearnedEvaluator())
    ctx = EvalContext(domain="healthcare")
    offline = LearnedEvaluator().evaluate(SEED, ctx)
    raw = evaluator.evaluate(SEED, ctx)
    assert raw.engine == "embedded-fallback"
    assert is_degraded(raw)
    assert raw.scores == offline.scores
    assert circuit.is_open
    again = evaluator.evaluate(SEED, ctx)  # the circuit is open: no waiting on the network
    assert is_degraded(again)


def test_an_open_circuit_falls_back_without_asking_the_judge(fake_llm):
    circuit = CircuitBreaker(failure_threshold=3, cooldown=30)
    fake_llm.statuses = [503] * 10
    llm = make_client(fake_llm.base_url, max_retries=2, circuit=circuit)
    evaluator = FallbackEvaluator(LLMEvaluator(llm), LearnedEvaluator())
    evaluator.evaluate(SEED, EvalContext())
    assert fake_llm.hits == 3
    for _ in range(3):
        assert is_degraded(evaluator.evaluate(SEED, EvalContext()))
    assert fake_llm.hits == 3  # fails fast: the endpoint never sees these calls


def test_a_slow_judge_falls_back_too(fake_llm):
    fake_llm.mode = "hang"
    llm = make_client(fake_llm.base_url, read_timeout=0.2)
    raw = FallbackEvaluator(LLMEvaluator(llm), LearnedEvaluator()).evaluate(SEED, EvalContext())
    assert raw.engine == "embedded-fallback"


@pytest.mark.parametrize(
    ("mode", "status", "error"), [("malformed", 200, LLMBadResponse), ("ok", 401, LLMRejected)]
)
def test_other_judge_failures_are_raised_not_scored(fake_llm, client, mode, status, error):
    fake_llm.mode = mode
    fake_llm.statuses = [status] * 3
    evaluator = FallbackEvaluator(LLMEvaluator(client), LearnedEvaluator())
    with pytest.raises(error):
        evaluator.evaluate(SEED, EvalContext())


def test_a_healthy_judge_is_not_degraded(fake_llm, client):
    raw = FallbackEvaluator(LLMEvaluator(client), LearnedEvaluator()).evaluate(SEED, EvalContext())
    assert raw.engine == "llm"
    assert not is_degraded(raw)


# -- the loop on LLM engines -------------------------------------------------------------------
def test_the_loop_runs_on_the_llm_engines_and_accounts_every_call(fake_llm):
    fake_llm.latency = 0.1  # lets the 8 judge calls of a round overlap
    fake_llm.scores = dict.fromkeys(DIMENSIONS, 5.0)  # never passes
    versions = iter(range(1, 10))  # a new text each time: an identical one would stop the loop
    fake_llm.rewrite = lambda text: f"{text} Version {next(versions)}."
    request = parse_regenerate_request({"content": SEED, "mode": "deep", "max_regenerations": 2})
    # timeouts far from the latency: 16 threads share one GIL on a busy machine
    with make_client(fake_llm.base_url, read_timeout=5.0, total_deadline=10.0) as client:
        engines = {"evaluator": LLMEvaluator(client), "regenerator": LLMRegenerator(client)}
        loop = run_loop(request, **engines)
    assert loop.status == "max_iterations_reached"
    assert len(loop.iterations) == 3
    assert fake_llm.hits == 3 * 8 + 2
    assert fake_llm.peak_in_flight == 8  # T29: each judge round is one fan-out of 8 calls
    assert loop.usage.llm_calls == 3 * 8 + 2
    assert loop.iterations[1].regeneration_model == "openai/gpt-4o-mini"
    assert estimate(request, **engines, prices=Prices()).usd >= loop.usage.cost_usd > 0
