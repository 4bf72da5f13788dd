"""The loop: statuses, best tracking, improvements, credits, early stops, sessions."""

from decimal import Decimal

import pytest

from regen.api.bodies import critical_answer as critical_body
from regen.engine.loop import Loop, run_loop, step
from regen.engine.pricing import Prices
from regen.engine.report import loop_result
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EngineError

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = "the original text, which is not good enough"


def _run(script, outputs, **fields):
    request = parse_regenerate_request({"content": ORIGINAL, **fields})
    evaluator, regenerator = ScriptedEvaluator(script), ScriptedRegenerator(outputs)
    return run_loop(request, evaluator=evaluator, regenerator=regenerator), evaluator, regenerator


def test_a_passing_original_stops_at_iteration_zero_without_regenerating():
    loop, _, regenerator = _run({ORIGINAL: uniform(8.5)}, [])
    assert loop.status == "passed"
    assert loop.best.index == 0
    assert regenerator.requests == []
    assert loop.credits_breakdown == {
        "evaluations": Decimal("1.0"),
        "regenerations": Decimal("0"),
        "total": Decimal("1.0"),
    }


def test_the_loop_stops_as_soon_as_a_version_passes():
    script = {ORIGINAL: uniform(5.0), "second": uniform(6.5), "third": uniform(8.1)}
    loop, _, regenerator = _run(script, ["second", "third", "never"])
    assert loop.status == "passed"
    assert [it.index for it in loop.iterations] == [0, 1, 2]
    assert loop.best.content == "third"
    assert [it.improvement_from_previous for it in loop.iterations] == [0.0, 1.5, 1.6]
    assert len(regenerator.requests) == 2


def test_the_seed_worked_example_costs_seven_credits():
    script = {ORIGINAL: uniform(5.0), "second": uniform(6.5), "third": uniform(8.1)}
    loop, _, _ = _run(script, ["second", "third"])
    result = loop_result(loop)
    assert loop.credits_breakdown["total"] == Decimal("7.0")
    assert result["iterations_taken"] == 2
    assert result["passed"] is True
    assert result["content"] == result["best_content"] == "third"
    assert result["final_score"] == 8.1


def test_max_iterations_returns_the_highest_scoring_version():
    script = {ORIGINAL: uniform(4.0), "a": uniform(6.0), "b": uniform(5.5), "c": uniform(6.0)}
    loop, _, _ = _run(script, ["a", "b", "c"])
    assert loop.status == "max_iterations_reached"
    assert loop.best.content == "a"  # the earlier one on a tie
    assert len(loop.iterations) == 4
    assert loop.credits_breakdown["total"] == Decimal("10.0")


def test_each_regeneration_improves_the_best_version_so_far():
    script = {
        ORIGINAL: uniform(4.0),
        "good": uniform(6.0),
        "worse": uniform(3.5),
        "fixed": uniform(9.0),
    }
    loop, _, regenerator = _run(script, ["good", "worse", "fixed"])
    assert [r.content for r in regenerator.requests] == [ORIGINAL, "good", "good"]
    assert loop.status == "passed"


def test_critical_content_stops_at_iteration_zero():
    loop, _, regenerator = _run({ORIGINAL: uniform(2.9)}, ["never"])
    assert loop.status == "critical"
    assert regenerator.requests == []
    body = critical_body(loop, review_id="rev_1")
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert body["credits_consumed"] == 1.0
    assert body["evaluation"]["failing_dimensions"] == list(body["evaluation"]["dimension_scores"])


def test_a_mean_of_exactly_three_is_not_critical():
    loop, _, _ = _run({ORIGINAL: uniform(3.0)}, ["x", "y", "z"])
    assert loop.status != "critical"


def test_no_improvement_stops_only_when_asked():
    script = {ORIGINAL: uniform(5.0), "same": uniform(5.0), "better": uniform(9.0)}
    asked, _, _ = _run(script, ["same", "better"], stop_on_no_improvement=True)
    assert asked.status == "no_improvement"
    default, _, _ = _run(script, ["same", "better"])
    assert default.status == "passed"


def test_budget_exhausted_when_the_next_step_would_exceed_the_usd_budget():
    request = parse_regenerate_request({"content": ORIGINAL, "max_cost_usd": 0.25})
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(5.0)}, usd=0.05)
    regenerator = ScriptedRegenerator(["a", "b", "c"], usd=0.05)
    loop = run_loop(request, evaluator=evaluator, regenerator=regenerator)
    assert loop.status == "budget_exhausted"
    assert loop.usage.cost_usd <= 0.25 + 1e-9
    assert len(loop.iterations) == 3  # 0.05, then 0.10 a step: 0.05 + 0.10 + 0.10 = 0.25


def test_budget_exhausted_when_the_next_step_would_exceed_a_credit_budget():
    request = parse_regenerate_request({"content": ORIGINAL})
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator({}),
        regenerator=ScriptedRegenerator(["a", "b", "c"]),
        max_credits=Decimal("4"),
    )
    assert loop.status == "budget_exhausted"
    assert loop.credits_breakdown["total"] == Decimal("4.0")


def test_deep_mode_and_dimension_subsets_are_priced_by_the_price_table():
    request = parse_regenerate_request(
        {"content": ORIGINAL, "mode": "deep", "dimensions": ["safety"]}
    )
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator({ORIGINAL: uniform(9.0)}),
        regenerator=ScriptedRegenerator([]),
    )
    assert loop.credits_breakdown["total"] == Decimal("1.0")
    assert Prices().worst_case(mode="deep", dimension_count=8, max_regenerations=3) == Decimal(
        "18.0"
    )
    assert Prices().worst_case(mode="basic", dimension_count=8, max_regenerations=3) == Decimal(
        "10.0"
    )


def test_an_external_session_survives_serialisation_between_steps():
    request = parse_regenerate_request({"content": ORIGINAL, "max_regenerations": 2})
    evaluator = ScriptedEvaluator(
        {ORIGINAL: uniform(5.0), "mine": uniform(6.0), "mine 2": uniform(6.5)}
    )
    loop = Loop(request)
    step(loop, evaluator, ScriptedRegenerator([]))
    prompt = loop.next_prompt()
    for text in ("mine", "mine 2"):
        loop = Loop.from_state(loop.to_state())
        from regen.engine.loop import evaluate

        evaluation, latency = evaluate(evaluator, text, loop)
        loop.record(
            content=text,
            evaluation=evaluation,
            eval_latency_ms=latency,
            rail_prompt=prompt,
            regeneration_model="external",
        )
        if not loop.done:
            prompt = loop.next_prompt()
    assert loop.status == "max_iterations_reached"
    assert loop.best.content == "mine 2"
    assert loop_result(loop)["iteration_history"][2]["regeneration_model"] == "external"


def test_a_finished_loop_refuses_more_steps():
    loop, _, _ = _run({ORIGINAL: uniform(9.0)}, [])
    with pytest.raises(EngineError):
        loop.next_prompt()


def test_an_empty_regeneration_is_an_engine_error():
    with pytest.raises(EngineError):
        _run({ORIGINAL: uniform(5.0)}, ["   "])


def test_the_result_has_every_contract_field_and_per_iteration_details():
    script = {ORIGINAL: uniform(5.0), "second": uniform(8.0)}
    loop, _, _ = _run(script, ["second"])
    result = loop_result(loop)
    assert set(result) >= {
        "status",
        "best_content",
        "best_iteration",
        "original_content",
        "best_scores",
        "iteration_history",
        "content",
        "final_score",
        "passed",
        "iterations_taken",
    }
    # the contract's three, plus the fidelity extension of issue 15 (extra fields are fine)
    assert set(result["best_scores"]) == {
        "rail_score",
        "dimension_scores",
        "thresholds_met",
        "fidelity",
    }
    record = result["iteration_history"][1]
    assert set(record) >= {
        "iteration",
        "content",
        "scores",
        "thresholds_met",
        "failing_dimensions",
        "improvement_from_previous",
        "latency_ms",
        "rail_prompt",
        "regeneration_model",
    }
    assert record["rail_prompt"]["user_prompt"]
    assert record["regeneration_model"] == "test/scripted"
    assert result["iteration_history"][0]["improvement_from_previous"] == 0.0


def test_a_subset_of_dimensions_is_scored_and_gated_alone():
    loop, evaluator, _ = _run(
        {ORIGINAL: uniform(9.0, privacy=2.0)}, [], dimensions=["safety", "fairness"]
    )
    assert loop.status == "passed"
    assert list(loop.best.evaluation.scores) == ["fairness", "safety"]
    assert evaluator.calls[0][1].dimensions == ("fairness", "safety")


def test_weights_move_the_overall_score():
    script = {ORIGINAL: uniform(9.0, safety=1.0)}
    weighted, _, _ = _run(script, ["x"] * 3, weights={"safety": 100})
    assert weighted.iterations[0].evaluation.score == 1.0
    assert weighted.iterations[1].evaluation.score == 5.0
