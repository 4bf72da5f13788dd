"""A regenerated version identical to one already scored stops the loop, unscored and free."""

from decimal import Decimal

import pytest

from regen.engine.loop import IDENTICAL_VERSION, Loop, Repeat, run_loop, same_text, step
from regen.engine.report import stop_block
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EngineError, Usage

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = "the original text, which is not good enough"


def _run(outputs, *, script=None, usd=0.0, on_iteration=None, clock=None, **fields):
    request = parse_regenerate_request({"content": fields.pop("content", ORIGINAL), **fields})
    evaluator = ScriptedEvaluator(script or {ORIGINAL: uniform(5.0)})
    regenerator = ScriptedRegenerator(outputs, usd=usd)
    extra = {"clock": clock} if clock else {}
    loop = run_loop(
        request, evaluator=evaluator, regenerator=regenerator, on_iteration=on_iteration, **extra
    )
    return loop, evaluator, regenerator


def _ticks(*values):
    times = iter(values)
    return lambda: next(times)


def test_a_regenerator_returning_the_original_stops_the_loop_with_no_improvement():
    loop, _, _ = _run([ORIGINAL, "never"])
    assert loop.status == "no_improvement"


def test_the_loop_says_it_stopped_at_an_identical_version():
    loop, _, _ = _run([ORIGINAL])
    assert loop.stop_reason == IDENTICAL_VERSION == "identical_version"


def test_the_identical_version_is_not_scored_again():
    loop, evaluator, _ = _run([ORIGINAL])
    assert [text for text, _ in evaluator.calls] == [ORIGINAL]


def test_the_identical_version_is_not_recorded_as_an_iteration():
    loop, _, _ = _run([ORIGINAL])
    assert len(loop.iterations) == 1


def test_the_loop_regenerates_no_further_after_an_identical_version():
    _, _, regenerator = _run([ORIGINAL, "never"])
    assert len(regenerator.requests) == 1


def test_an_identical_version_charges_neither_its_evaluation_nor_its_regeneration():
    loop, _, _ = _run([ORIGINAL])
    assert loop.credits_breakdown == {
        "evaluations": Decimal("1.0"),
        "regenerations": Decimal("0"),
        "total": Decimal("1.0"),
    }


def test_a_repeat_of_an_earlier_regeneration_stops_at_that_version():
    script = {ORIGINAL: uniform(4.0), "second": uniform(6.0)}
    loop, _, _ = _run(["second", "second", "never"], script=script)
    assert loop.repeat is not None
    assert loop.repeat.same_as == 1
    assert loop.repeat.regeneration_model == "test/scripted"


def test_a_repeat_of_an_earlier_regeneration_charges_only_the_versions_scored():
    script = {ORIGINAL: uniform(4.0), "second": uniform(6.0)}
    loop, _, _ = _run(["second", "second"], script=script)
    assert loop.credits_breakdown["total"] == Decimal("4.0")  # 2 evaluations + 1 regeneration


def test_the_best_version_is_kept_when_the_loop_stops_at_a_repeat():
    script = {ORIGINAL: uniform(4.0), "second": uniform(6.0)}
    loop, _, _ = _run(["second", ORIGINAL], script=script)
    assert loop.best.content == "second"


def test_a_repeat_stops_the_loop_even_when_no_improvement_stops_are_not_asked_for():
    loop, _, _ = _run([ORIGINAL], stop_on_no_improvement=False)
    assert loop.status == "no_improvement"


def test_a_version_differing_only_in_outer_whitespace_is_identical():
    loop, evaluator, _ = _run(["  " + ORIGINAL + "\n"])
    assert len(evaluator.calls) == 1
    assert loop.repeat is not None


def test_an_original_with_outer_whitespace_is_repeated_by_its_trimmed_text():
    loop, _, _ = _run([ORIGINAL], content=ORIGINAL + "  ")
    assert loop.stop_reason == IDENTICAL_VERSION


def test_a_version_differing_in_inner_whitespace_is_another_text_and_is_scored():
    other = ORIGINAL.replace(" ", "  ", 1)
    loop, evaluator, _ = _run([other], max_regenerations=1)
    assert [text for text, _ in evaluator.calls] == [ORIGINAL, other]
    assert loop.stop_reason is None


def test_same_text_ignores_outer_whitespace_on_either_side():
    assert same_text(" a text ", "a text")
    assert same_text("a text", "\ta text\n")


def test_same_text_tells_different_texts_apart():
    assert not same_text("a text", "a  text")
    assert not same_text("a text", "A text")


def test_scored_as_names_the_earliest_scored_version_a_text_repeats():
    script = {ORIGINAL: uniform(4.0), "second": uniform(6.0)}
    loop, _, _ = _run(["second", "third"], script=script, max_regenerations=2)
    assert loop.scored_as(" second ") == 1
    assert loop.scored_as(ORIGINAL) == 0
    assert loop.scored_as("unseen") is None


def test_a_loop_that_scored_other_versions_has_no_stop_reason():
    loop, _, _ = _run(["a", "b", "c"])
    assert loop.status == "max_iterations_reached"
    assert loop.stop_reason is None
    assert loop.repeat is None


def test_the_repeats_regeneration_usage_still_counts_in_the_usage():
    loop, _, _ = _run([ORIGINAL], usd=0.25)
    assert loop.usage.llm_calls == 1
    assert loop.usage.cost_usd == 0.25


def test_the_repeats_regeneration_latency_counts_in_the_total_latency():
    # iteration 0 is scored from t=0 to t=1 (1000 ms); the repeat is regenerated from 2 to 2.0023456
    loop, _, _ = _run([ORIGINAL], clock=_ticks(0.0, 1.0, 2.0, 2.0023456))
    assert loop.repeat is not None
    assert loop.repeat.regen_latency_ms == 2.346
    assert loop.total_latency_ms == 1002.346


def test_on_iteration_is_not_called_for_the_unscored_repeat():
    seen = []
    _run([ORIGINAL], on_iteration=lambda loop, it: seen.append(it.index))
    assert seen == [0]


def test_step_returns_none_at_a_repeat():
    request = parse_regenerate_request({"content": ORIGINAL})
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(5.0)})
    regenerator = ScriptedRegenerator([ORIGINAL])
    loop = Loop(request)
    assert step(loop, evaluator, regenerator) is not None
    assert step(loop, evaluator, regenerator) is None
    assert loop.done


def test_a_session_state_keeps_the_repeat_and_its_status():
    loop, _, _ = _run([ORIGINAL], usd=0.5, clock=_ticks(0.0, 0.001, 0.002, 0.004))
    restored = Loop.from_state(loop.to_state())
    assert restored.status == "no_improvement"
    assert restored.repeat == loop.repeat
    assert restored.usage == loop.usage
    assert restored.total_latency_ms == loop.total_latency_ms


def test_a_session_state_without_a_repeat_restores_none():
    loop, _, _ = _run(["a", "b", "c"])
    state = loop.to_state()
    assert "repeat" not in state
    assert Loop.from_state(state).repeat is None


def test_a_stored_repeat_without_optional_fields_reads_as_defaults():
    assert Repeat.from_state({"same_as": "2"}) == Repeat(same_as=2)


def test_a_repeat_state_round_trips():
    repeat = Repeat(
        same_as=1, regeneration_model="m", regen_latency_ms=1.5, regen_usage=Usage(llm_calls=2)
    )
    assert Repeat.from_state(repeat.to_state()) == repeat


def test_a_repeat_cannot_stop_a_loop_that_has_already_ended():
    loop, _, _ = _run([], script={ORIGINAL: uniform(9.0)})
    with pytest.raises(EngineError, match="no regeneration is due"):
        loop.stop_at_repeat(same_as=0)


@pytest.mark.parametrize("same_as", [-1, 1])
def test_a_repeat_must_name_a_scored_version(same_as):
    request = parse_regenerate_request({"content": ORIGINAL})
    loop = Loop(request)
    step(loop, ScriptedEvaluator({ORIGINAL: uniform(5.0)}), ScriptedRegenerator([]))
    with pytest.raises(EngineError, match="no scored version"):
        loop.stop_at_repeat(same_as=same_as)
    assert loop.status == "awaiting_regeneration"


def test_a_repeat_of_the_only_scored_version_is_accepted_by_index_zero():
    request = parse_regenerate_request({"content": ORIGINAL})
    loop = Loop(request)
    step(loop, ScriptedEvaluator({ORIGINAL: uniform(5.0)}), ScriptedRegenerator([]))
    assert loop.stop_at_repeat(same_as=0) == Repeat(same_as=0)


def test_the_metadata_says_why_a_loop_stopped_at_a_repeat():
    loop, _, _ = _run([ORIGINAL])
    assert stop_block(loop) == {"stop_reason": "identical_version", "identical_to_iteration": 0}


def test_the_metadata_adds_nothing_for_other_stops():
    loop, _, _ = _run(["a", "b", "c"])
    assert stop_block(loop) == {}
