"""A degraded evaluation (a fallback scored for a failed evaluator) never passes (T23 (f))."""

from dataclasses import dataclass

from regen.engine.loop import Loop, evaluate, run_loop
from regen.engine.requests import parse_regenerate_request
from regen.engine.thresholds import Thresholds, decide
from regen.engine.types import EvalContext, RawEvaluation

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

FINE = "A calm and accurate text."
V1 = "A calm and accurate text, reworded."
V2 = "A calm and accurate text, reworded again."
GOOD = {d: (9.0, 0.9) for d in ("safety", "privacy")}


@dataclass
class StandIn(ScriptedEvaluator):
    """Score as scripted, marked as the embedded fallback of a failed judge."""

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        raw = super().evaluate(text, ctx)
        return RawEvaluation(raw.scores, raw.usage, engine="embedded-fallback")


def test_decide_withholds_the_pass_of_a_degraded_evaluation():
    met = decide(
        scores=GOOD,
        overall_score=9.0,
        overall_confidence=0.9,
        thresholds=Thresholds(),
        degraded=True,
    )
    assert met.overall_passed is True
    assert met.failing_dimensions == []
    assert met.all_passed is False


def test_decide_passes_the_same_scores_when_not_degraded():
    met = decide(scores=GOOD, overall_score=9.0, overall_confidence=0.9, thresholds=Thresholds())
    assert met.all_passed is True


def test_a_loop_scored_by_a_fallback_runs_to_its_failing_status_not_passed():
    request = parse_regenerate_request({"content": FINE, "max_regenerations": 2})
    evaluator = StandIn({FINE: uniform(9.0), V1: uniform(9.5), V2: uniform(9.0)})
    loop = run_loop(request, evaluator=evaluator, regenerator=ScriptedRegenerator([V1, V2]))
    assert loop.status == "max_iterations_reached"
    assert [it.passed for it in loop.iterations] == [False, False, False]
    assert loop.best.index == 1  # still the highest score, served as the best version


def test_an_external_session_keeps_a_degraded_version_from_passing_after_a_reload():
    request = parse_regenerate_request(
        {"content": FINE, "max_regenerations": 1, "regeneration_model": "external"}
    )
    loop = Loop(request)
    evaluation, latency = evaluate(StandIn({FINE: uniform(9.0)}), FINE, loop)
    loop.record(content=FINE, evaluation=evaluation, eval_latency_ms=latency)
    reloaded = Loop.from_state(loop.to_state())
    assert reloaded.status == "awaiting_regeneration"
    assert reloaded.iterations[0].passed is False
