"""The loop at its edges: latencies, prices, budgets, ranking, prompts and stored sessions.

Written against the mutants that survived tests/engine/test_loop.py (make mutate).
"""

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from regen.engine.loop import Loop, evaluate, run_loop, step
from regen.engine.pricing import Prices
from regen.engine.requests import RegenerateRequest
from regen.engine.scoring import Evaluation
from regen.engine.thresholds import Thresholds
from regen.engine.types import (
    DimensionScore,
    EngineError,
    EvalContext,
    ImprovementPrompt,
    RegenerationRequest,
    Usage,
)

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = "the original text, which is not good enough"
PROMPT = ImprovementPrompt("system", "user", 0.3)


def _clock(*readings):
    """A clock that returns ``readings`` in order (seconds, exact in binary)."""
    values = iter(readings)
    return lambda: next(values)


def _evaluation(score, *, confidence=0.8):
    scores = {d: DimensionScore(score, confidence) for d in uniform(score)[0]}
    return Evaluation(scores=scores, score=score, confidence=confidence)


@dataclass
class PricedEvaluator(ScriptedEvaluator):
    """A scripted evaluator that says what one evaluation costs, and is asked what."""

    estimates: list = field(default_factory=list)

    def estimate_cost_usd(self, *, text_chars, ctx):
        self.estimates.append((text_chars, ctx))
        return 0.25


@dataclass
class PricedRegenerator(ScriptedRegenerator):
    estimates: list = field(default_factory=list)

    def estimate_cost_usd(self, *, text_chars):
        self.estimates.append(text_chars)
        return 0.5


def _session(**fields):
    """A loop whose original scored 5.0 and whose first regeneration scored 6.0."""
    loop = Loop(RegenerateRequest(content=ORIGINAL, **fields))
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    loop.record(
        content="second",
        evaluation=_evaluation(6.0),
        eval_latency_ms=2.0,
        rail_prompt=PROMPT,
        regeneration_model="model/x",
        regen_latency_ms=125.0,
        regen_usage=Usage(llm_calls=1, input_tokens=10, output_tokens=20, cost_usd=0.5),
    )
    return loop


# -- latencies ---------------------------------------------------------------------------


def test_an_evaluation_s_latency_is_the_clock_difference_in_milliseconds():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    _, latency = evaluate(ScriptedEvaluator({}), ORIGINAL, loop, _clock(1.0, 1.25))
    assert latency == 250.0


def test_the_loop_times_evaluations_and_regenerations_on_the_clock_it_is_given():
    request = RegenerateRequest(content=ORIGINAL, max_regenerations=1)
    clock = _clock(1.0, 1.25, 2.0, 2.125, 3.0, 3.5)
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator({ORIGINAL: uniform(5.0), "better": uniform(9.0)}),
        regenerator=ScriptedRegenerator(["better"]),
        clock=clock,
    )
    assert [it.eval_latency_ms for it in loop.iterations] == [250.0, 500.0]
    assert [it.regen_latency_ms for it in loop.iterations] == [0.0, 125.0]


def test_recorded_latencies_are_rounded_to_a_microsecond():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=12.34567)
    it = loop.record(
        content="second",
        evaluation=_evaluation(5.5),
        eval_latency_ms=1.0,
        rail_prompt=PROMPT,
        regen_latency_ms=7.65432,
    )
    assert loop.iterations[0].eval_latency_ms == 12.346
    assert it.regen_latency_ms == 7.654


def test_an_original_has_no_regeneration_latency():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    it = loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    assert it.regen_latency_ms == 0.0


# -- what run_loop passes on -------------------------------------------------------------


def test_the_loop_asks_the_engines_for_their_cost_of_this_text_and_request():
    request = RegenerateRequest(
        content=ORIGINAL, mode="deep", dimensions=("safety", "privacy"), domain="finance"
    )
    evaluator = PricedEvaluator({ORIGINAL: uniform(9.0)})
    regenerator = PricedRegenerator([])
    run_loop(request, evaluator=evaluator, regenerator=regenerator)
    expected_ctx = EvalContext("deep", ("safety", "privacy"), "finance")
    assert evaluator.estimates == [(len(ORIGINAL), expected_ctx)]
    assert regenerator.estimates == [len(ORIGINAL)]


def test_the_loop_keeps_the_engines_cost_estimates_for_its_usd_budget():
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL),
        evaluator=PricedEvaluator({ORIGINAL: uniform(9.0)}),
        regenerator=PricedRegenerator([]),
    )
    assert loop.eval_cost_usd == 0.25
    assert loop.regen_cost_usd == 0.5


def test_run_loop_charges_the_price_table_it_is_given():
    prices = Prices(basic_eval=Decimal("5"), regeneration=Decimal("7"))
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL, max_regenerations=1),
        evaluator=ScriptedEvaluator({ORIGINAL: uniform(5.0), "b": uniform(9.0)}),
        regenerator=ScriptedRegenerator(["b"]),
        prices=prices,
    )
    assert loop.credits_breakdown["total"] == Decimal("17")


def test_the_callback_sees_the_loop_and_each_iteration_in_order():
    seen = []
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL, max_regenerations=1),
        evaluator=ScriptedEvaluator({ORIGINAL: uniform(5.0), "b": uniform(9.0)}),
        regenerator=ScriptedRegenerator(["b"]),
        on_iteration=lambda lp, it: seen.append((lp, it)),
    )
    assert [lp is loop for lp, _ in seen] == [True, True]
    assert [it.index for _, it in seen] == [0, 1]


def test_the_evaluator_is_told_everything_the_request_says_about_the_text():
    request = RegenerateRequest(
        content=ORIGINAL,
        mode="deep",
        dimensions=("safety",),
        domain="healthcare",
        usecase="chatbot",
        context="a support chat",
        prompt="what should I take?",
    )
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(9.0)})
    run_loop(request, evaluator=evaluator, regenerator=ScriptedRegenerator([]))
    expected = EvalContext(
        "deep", ("safety",), "healthcare", "chatbot", "a support chat", "what should I take?"
    )
    assert evaluator.calls == [(ORIGINAL, expected)]


def test_the_regenerator_gets_the_prompt_the_iteration_records():
    regenerator = ScriptedRegenerator(["b"])
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL, max_regenerations=1),
        evaluator=ScriptedEvaluator({ORIGINAL: uniform(5.0), "b": uniform(9.0)}),
        regenerator=regenerator,
    )
    assert regenerator.requests[0].prompt == loop.iterations[1].rail_prompt


def test_the_regeneration_request_names_the_best_version_and_what_it_must_fix():
    loop = Loop(
        RegenerateRequest(
            content=ORIGINAL,
            thresholds=Thresholds(tradeoff_mode="strict"),
            domain="legal",
            context="a contract",
            policy_hint="be brief",
        )
    )
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(8.0, privacy=4.0)})
    step(loop, evaluator, ScriptedRegenerator([]))
    best = loop.best
    assert loop.status == "awaiting_regeneration"
    assert loop.regeneration_request(PROMPT) == RegenerationRequest(
        content=ORIGINAL,
        prompt=PROMPT,
        failing_dimensions=("privacy",),
        issues=best.evaluation.issues,
        domain="legal",
        context="a contract",
        policy_hint="be brief",
    )


# -- the prompt --------------------------------------------------------------------------


def test_the_improvement_prompt_quotes_the_request_s_policy_prompt_and_context():
    loop = Loop(
        RegenerateRequest(
            content=ORIGINAL,
            domain="healthcare",
            context="a clinic leaflet",
            prompt="write about dosage",
            policy_hint="no dosages",
        )
    )
    step(loop, ScriptedEvaluator({ORIGINAL: uniform(5.0)}), ScriptedRegenerator([]))
    text = loop.next_prompt(nonce="n0nce").user_prompt
    assert "Domain: healthcare." in text
    assert "<<<POLICY-n0nce\nno dosages\nPOLICY-n0nce>>>" in text
    assert "<<<REQUEST-n0nce\nwrite about dosage\nREQUEST-n0nce>>>" in text
    assert "<<<CONTEXT-n0nce\na clinic leaflet\nCONTEXT-n0nce>>>" in text
    assert f"<<<CONTENT-n0nce\n{ORIGINAL}\nCONTENT-n0nce>>>" in text


def test_the_first_prompt_is_attempt_one_and_the_second_attempt_two():
    loop = _session()
    first = Loop(RegenerateRequest(content=ORIGINAL))
    first.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    assert first.next_prompt(nonce="n").temperature == 0.3
    assert loop.next_prompt(nonce="n").temperature == 0.4


def test_no_prompt_is_due_once_the_loop_has_passed():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    loop.record(content=ORIGINAL, evaluation=_evaluation(9.0), eval_latency_ms=1.0)
    with pytest.raises(EngineError, match=r"^no regeneration is due \(passed\)$"):
        loop.next_prompt()


# -- recording ---------------------------------------------------------------------------


def test_a_new_loop_awaits_its_original_and_has_no_engine_costs():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    assert loop.status == "awaiting_regeneration"
    assert loop.eval_cost_usd == 0.0
    assert loop.regen_cost_usd == 0.0


def test_the_first_regenerated_version_needs_its_prompt():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    needs_prompt = r"^a regenerated version needs the prompt that produced it$"
    with pytest.raises(EngineError, match=needs_prompt):
        loop.record(content="second", evaluation=_evaluation(6.0), eval_latency_ms=1.0)


def test_a_finished_loop_refuses_another_version_and_says_why():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    loop.record(content=ORIGINAL, evaluation=_evaluation(9.0), eval_latency_ms=1.0)
    with pytest.raises(EngineError, match=r"^the loop has already ended \(passed\)$"):
        loop.record(content="x", evaluation=_evaluation(9.0), eval_latency_ms=1.0)


def test_an_empty_regeneration_is_refused_with_a_reason():
    with pytest.raises(EngineError, match=r"^the regenerator returned an empty text$"):
        run_loop(
            RegenerateRequest(content=ORIGINAL),
            evaluator=ScriptedEvaluator({}),
            regenerator=ScriptedRegenerator(["  "]),
        )


def test_the_original_costs_one_evaluation_and_a_regeneration_costs_one_more_regeneration():
    loop = _session()
    assert [it.credits for it in loop.iterations] == [Decimal("1.0"), Decimal("3.0")]


def test_the_improvement_from_the_previous_version_is_rounded_to_one_decimal():
    loop = Loop(RegenerateRequest(content=ORIGINAL))
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    it = loop.record(
        content="b", evaluation=_evaluation(6.55), eval_latency_ms=1.0, rail_prompt=PROMPT
    )
    assert it.improvement_from_previous == 1.5


# -- budgets -----------------------------------------------------------------------------


def test_a_credit_budget_short_of_one_more_step_stops_after_the_original():
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL),
        evaluator=ScriptedEvaluator({}),
        regenerator=ScriptedRegenerator(["a", "b", "c"]),
        max_credits=Decimal("3.5"),
    )
    assert loop.status == "budget_exhausted"
    assert len(loop.iterations) == 1


def test_a_credit_budget_of_exactly_one_more_step_allows_it():
    loop = run_loop(
        RegenerateRequest(content=ORIGINAL, max_regenerations=1),
        evaluator=ScriptedEvaluator({}),
        regenerator=ScriptedRegenerator(["a"]),
        max_credits=Decimal("4"),
    )
    assert loop.status == "max_iterations_reached"


# -- ranking -----------------------------------------------------------------------------


def test_ranking_by_the_worst_dimension_prefers_the_version_without_a_very_low_one():
    request = RegenerateRequest(content=ORIGINAL, max_regenerations=1, rank="worst")
    script = {ORIGINAL: uniform(6.8, safety=2.0), "even": uniform(5.5)}
    loop = run_loop(
        request, evaluator=ScriptedEvaluator(script), regenerator=ScriptedRegenerator(["even"])
    )
    assert loop.best.content == "even"


def test_ranking_by_overall_score_prefers_the_higher_overall_score():
    request = RegenerateRequest(content=ORIGINAL, max_regenerations=1)
    script = {ORIGINAL: uniform(6.8, safety=2.0), "even": uniform(5.5)}
    loop = run_loop(
        request, evaluator=ScriptedEvaluator(script), regenerator=ScriptedRegenerator(["even"])
    )
    assert loop.best.content == ORIGINAL


# -- stored sessions ---------------------------------------------------------------------


def test_an_iteration_is_stored_with_every_field():
    it = _session().iterations[1]
    assert it.to_state() == {
        "index": 1,
        "content": "second",
        "evaluation": _evaluation(6.0).to_state(),
        "improvement_from_previous": 1.0,
        "credits": "3.0",
        "eval_latency_ms": 2.0,
        "regen_latency_ms": 125.0,
        "rail_prompt": {"system_prompt": "system", "user_prompt": "user", "temperature": 0.3},
        "regeneration_model": "model/x",
        "regen_usage": {
            "llm_calls": 1,
            "input_tokens": 10,
            "output_tokens": 20,
            "cost_usd": 0.5,
        },
    }


def test_a_session_is_stored_with_its_request_status_costs_and_budget():
    loop = Loop(
        RegenerateRequest(content=ORIGINAL),
        eval_cost_usd=0.25,
        regen_cost_usd=0.5,
        max_credits=Decimal("9"),
    )
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    assert loop.to_state() == {
        "request": loop.request.to_dict(),
        "status": "awaiting_regeneration",
        "eval_cost_usd": 0.25,
        "regen_cost_usd": 0.5,
        "max_credits": "9",
        "iterations": [loop.iterations[0].to_state()],
    }


def test_a_session_without_a_credit_budget_stores_none():
    assert Loop(RegenerateRequest(content=ORIGINAL)).to_state()["max_credits"] is None


def test_a_restored_session_is_the_session_that_was_stored():
    loop = Loop(
        RegenerateRequest(content=ORIGINAL),
        eval_cost_usd=0.25,
        regen_cost_usd=0.5,
        max_credits=Decimal("9"),
    )
    loop.record(content=ORIGINAL, evaluation=_evaluation(5.0), eval_latency_ms=1.0)
    loop.record(
        content="second",
        evaluation=_evaluation(6.0),
        eval_latency_ms=2.0,
        rail_prompt=PROMPT,
        regeneration_model="model/x",
        regen_latency_ms=125.0,
        regen_usage=Usage(llm_calls=1, cost_usd=0.5),
    )
    state = loop.to_state()
    assert Loop.from_state(state).to_state() == state


def test_a_session_stored_before_costs_were_kept_restores_with_none():
    state = _session().to_state()
    for key in ("eval_cost_usd", "regen_cost_usd", "max_credits"):
        del state[key]
    for raw in state["iterations"]:
        for key in ("regeneration_model", "regen_latency_ms", "regen_usage"):
            del raw[key]
    restored = Loop.from_state(state)
    assert restored.eval_cost_usd == 0.0
    assert restored.regen_cost_usd == 0.0
    assert restored.max_credits is None
    assert restored.iterations[1].regeneration_model is None
    assert restored.iterations[1].regen_latency_ms == 0.0
    assert restored.iterations[1].regen_usage == Usage()


def test_a_restored_session_charges_the_price_table_it_is_given():
    state = _session().to_state()
    restored = Loop.from_state(state, prices=Prices(basic_eval=Decimal("5")))
    assert restored.credits_breakdown["evaluations"] == Decimal("10")
