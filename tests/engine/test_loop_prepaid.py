"""A loop that starts from an original already scored and charged (an enforced /eval)."""

from decimal import Decimal

import pytest

from regen.engine.loop import Loop, run_loop
from regen.engine.requests import parse_regenerate_request
from regen.engine.scoring import aggregate
from regen.engine.types import EngineError, EvalContext

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = "the original text, which is not good enough"


def _original(evaluator):
    return aggregate(evaluator.evaluate(ORIGINAL, EvalContext()))


def test_the_original_is_neither_scored_again_nor_charged():
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(5.0), "better": uniform(8.5)})
    original = _original(evaluator)
    evaluator.calls.clear()
    request = parse_regenerate_request({"content": ORIGINAL})
    loop = run_loop(
        request, evaluator=evaluator, regenerator=ScriptedRegenerator(["better"]), original=original
    )
    assert [text for text, _ in evaluator.calls] == ["better"]
    assert loop.status == "passed"
    price = loop.eval_price + loop.prices.regeneration
    assert [it.credits for it in loop.iterations] == [Decimal(0), price]
    assert loop.credits_breakdown["evaluations"] == Decimal("1.0")
    assert loop.credits_breakdown["total"] == price


def test_a_prepaid_loop_survives_serialisation():
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(5.0)})
    loop = Loop(parse_regenerate_request({"content": ORIGINAL}))
    loop.record(
        content=ORIGINAL, evaluation=_original(evaluator), eval_latency_ms=0.0, prepaid=True
    )
    again = Loop.from_state(loop.to_state())
    assert again.prepaid is True
    assert again.credits_breakdown == loop.credits_breakdown


def test_only_the_original_can_come_prepaid():
    evaluator = ScriptedEvaluator({ORIGINAL: uniform(5.0)})
    loop = Loop(parse_regenerate_request({"content": ORIGINAL}))
    loop.record(content=ORIGINAL, evaluation=_original(evaluator), eval_latency_ms=0.0)
    with pytest.raises(EngineError):
        loop.record(
            content="x" * 20, evaluation=_original(evaluator), eval_latency_ms=0.0, prepaid=True
        )
