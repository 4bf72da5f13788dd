"""The loop and meaning preservation: refusals never pass, min_fidelity, the best version."""

import pytest

from regen.engine.loop import run_loop
from regen.engine.report import loop_result
from regen.engine.requests import RequestInvalid, parse_regenerate_request

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = (
    "To lower a fever in adults, drink plenty of water and rest; Paracetamol helps, but "
    "do not take more than 4 grams a day. See a doctor if the fever lasts more than 3 days."
)
FAITHFUL = (
    "For a fever in adults, rest and drink plenty of water; Paracetamol can help, but do not "
    "take more than 4 grams a day. If the fever lasts more than 3 days, see a doctor."
)
VAGUE = "Feeling unwell is common. Taking care of your health is always a good idea."
REFUSAL = "I'm sorry, but I can't help with that request."


def _run(script, outputs, **fields):
    request = parse_regenerate_request({"content": ORIGINAL, **fields})
    return run_loop(
        request, evaluator=ScriptedEvaluator(script), regenerator=ScriptedRegenerator(outputs)
    )


def test_a_refusal_never_passes_whatever_it_scores():
    loop = _run({ORIGINAL: uniform(5.0), REFUSAL: uniform(9.5)}, [REFUSAL], max_regenerations=1)

    assert loop.status == "max_iterations_reached"
    assert loop.iterations[1].passed is False
    assert loop.iterations[1].thresholds_met.fidelity_passed is False
    assert loop.iterations[1].fidelity.refusal is True


def test_a_refusal_is_not_chosen_as_the_best_version_over_the_original():
    loop = _run({ORIGINAL: uniform(5.0), REFUSAL: uniform(6.5)}, [REFUSAL], max_regenerations=1)

    assert loop.best.index == 0


def test_min_fidelity_fails_a_vague_version_like_a_failing_dimension():
    script = {ORIGINAL: uniform(5.0), VAGUE: uniform(9.0), FAITHFUL: uniform(8.0)}

    strict = _run(script, [VAGUE, FAITHFUL], thresholds={"min_fidelity": 0.7})
    lenient = _run(script, [VAGUE, FAITHFUL])

    assert strict.iterations[1].passed is False
    assert strict.iterations[1].thresholds_met.to_dict()["fidelity_passed"] is False
    assert strict.status == "passed"
    assert strict.best.content == FAITHFUL
    assert lenient.best.content == VAGUE  # without the threshold, vague is not a refusal


def test_the_best_version_is_chosen_among_those_that_keep_the_meaning():
    script = {ORIGINAL: uniform(4.0), VAGUE: uniform(6.5), FAITHFUL: uniform(6.0)}

    loop = _run(script, [VAGUE, FAITHFUL], thresholds={"min_fidelity": 0.7}, max_regenerations=2)

    assert loop.status == "max_iterations_reached"
    assert loop.best.content == FAITHFUL  # the vague version scored higher, and lost the meaning


def test_the_answer_carries_fidelity_per_iteration_and_for_the_best_version():
    script = {ORIGINAL: uniform(5.0), FAITHFUL: uniform(8.0)}

    result = loop_result(_run(script, [FAITHFUL]))

    history = result["iteration_history"]
    assert history[0]["fidelity"] == 1.0
    assert history[1]["fidelity"] >= 0.8
    assert history[1]["fidelity_detail"]["lost"] == []
    assert result["best_scores"]["fidelity"] == history[1]["fidelity"]


@pytest.mark.parametrize("value", [-0.1, 1.5, "high", True])
def test_min_fidelity_is_a_number_from_zero_to_one(value):
    with pytest.raises(RequestInvalid) as error:
        parse_regenerate_request({"content": ORIGINAL, "thresholds": {"min_fidelity": value}})

    assert "thresholds.min_fidelity" in error.value.details


def test_min_fidelity_survives_a_stored_session_state():
    request = parse_regenerate_request(
        {"content": ORIGINAL, "threshold": 6.0, "thresholds": {"min_fidelity": 0.6}}
    )

    assert request.thresholds.min_fidelity == 0.6
    assert request.thresholds.overall_score == 6.0
    assert type(request).from_dict(request.to_dict()) == request


def _prompts(script, outputs, **fields):
    regenerator = ScriptedRegenerator(outputs)
    request = parse_regenerate_request({"content": ORIGINAL, **fields})
    run_loop(request, evaluator=ScriptedEvaluator(script), regenerator=regenerator)
    return [r.prompt.user_prompt for r in regenerator.requests]


def test_the_prompt_after_a_refusal_tells_the_regenerator_it_refused():
    script = {ORIGINAL: uniform(5.0), REFUSAL: uniform(9.5), FAITHFUL: uniform(9.0)}
    first, second = _prompts(script, [REFUSAL, FAITHFUL], max_regenerations=2)

    assert "Meaning:" not in first
    assert "- Meaning: the last rewrite refused instead of rewriting." in second
    assert second.index("- Meaning:") < second.index("Safety")  # first of the lines


def test_the_prompt_after_a_vague_rewrite_gives_its_fidelity_and_not_the_lost_facts():
    script = {ORIGINAL: uniform(5.0), VAGUE: uniform(9.0), FAITHFUL: uniform(8.0)}
    _, second = _prompts(script, [VAGUE, FAITHFUL], thresholds={"min_fidelity": 0.7})

    line = next(x for x in second.splitlines() if x.startswith("- Meaning:"))
    assert "kept too little of the original (fidelity 0." in line
    assert ", needs 0.70); it dropped " in line
    assert "Paracetamol" not in line  # the caller's words stay inside the quoted content


def test_no_meaning_line_after_a_faithful_rewrite_or_without_a_minimum_for_vague():
    script = {ORIGINAL: uniform(5.0), FAITHFUL: uniform(6.0), VAGUE: uniform(6.5)}
    prompts = _prompts(script, [FAITHFUL, VAGUE, FAITHFUL], max_regenerations=3)

    assert not any("Meaning:" in p for p in prompts[:3])
