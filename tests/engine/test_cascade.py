"""The cascade: the embedded answer stands when it is sure and far from every threshold;
otherwise the judge answers. Which engine answered is on the result."""

from dataclasses import replace

import pytest

from regen.engine.evaluators.cascade import CascadeEvaluator
from regen.engine.loop import run_loop
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EvalContext
from tests.engine.fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

TEXT = "A text the two engines are asked about."


class Named(ScriptedEvaluator):
    """A scripted evaluator whose answers carry its name as their engine."""

    def evaluate(self, text, ctx):
        return replace(super().evaluate(text, ctx), engine=self.name)


def cascade(offline_scores, **knobs):
    embedded = Named({TEXT: offline_scores}, name="embedded")
    judge = Named({TEXT: uniform(6.0)}, name="llm", usd=0.01)
    return CascadeEvaluator(embedded, judge, **knobs), embedded, judge


@pytest.mark.parametrize(
    ("offline", "asks_judge"),
    [
        (uniform(9.0, 0.9), False),  # sure and clearly passing
        (uniform(2.0, 0.9), False),  # sure and clearly failing
        (uniform(7.5, 0.9), True),  # within the margin of 7.0
        (uniform(6.5, 0.9), True),
        (uniform(9.0, 0.9, safety=7.4), True),  # one dimension near the threshold
        (uniform(9.0, 0.5), True),  # unsure
    ],
)
def test_the_judge_is_asked_only_when_the_embedded_answer_is_unsure_or_borderline(
    offline, asks_judge
):
    evaluator, _, judge = cascade(offline, margin=1.0, min_confidence=0.7)
    raw = evaluator.evaluate(TEXT, EvalContext())

    assert bool(judge.calls) is asks_judge
    assert raw.engine == ("llm" if asks_judge else "embedded")


def test_a_dimension_threshold_override_moves_the_borderline():
    evaluator, _, judge = cascade(uniform(9.0, 0.9), margin=1.0)
    evaluator.evaluate(TEXT, EvalContext(dimension_thresholds=(("safety", 8.5),)))

    assert len(judge.calls) == 1


def test_the_overall_threshold_comes_from_the_request():
    request = parse_regenerate_request({"content": TEXT, "threshold": 8.5})
    evaluator, _, judge = cascade(uniform(9.0, 0.9), margin=1.0)
    evaluator.evaluate(TEXT, request.eval_context())

    assert len(judge.calls) == 1


def test_the_worst_case_price_is_the_judges():
    evaluator, _, _ = cascade(uniform(9.0, 0.9))

    assert evaluator.estimate_cost_usd(text_chars=100, ctx=EvalContext()) == 0.01


def test_a_loop_reports_which_engine_scored_each_version():
    rewritten = "A rewritten text the embedded scorer is sure about."
    embedded = Named({TEXT: uniform(7.2, 0.9), rewritten: uniform(9.0, 0.9)}, name="embedded")
    judge = Named({TEXT: uniform(5.0)}, name="llm")
    request = parse_regenerate_request({"content": TEXT, "max_regenerations": 2})
    loop = run_loop(
        request,
        evaluator=CascadeEvaluator(embedded, judge),
        regenerator=ScriptedRegenerator([rewritten]),
    )

    assert [it.evaluation.engine for it in loop.iterations] == ["llm", "embedded"]
    assert loop.status == "passed"
