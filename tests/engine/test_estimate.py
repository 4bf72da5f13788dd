"""The one price estimate: credits held and USD, as the hold, dry run and budget stop read it."""

from decimal import Decimal

from regen.engine.estimate import estimate
from regen.engine.loop import run_loop
from regen.engine.pricing import Prices
from regen.engine.requests import RegenerateRequest
from regen.engine.types import EvalContext

from .fakes import ScriptedEvaluator, ScriptedRegenerator

ORIGINAL = "An original text that the scripted evaluator scores 5.0 everywhere."


class ContextRecorder(ScriptedEvaluator):
    """Remember the context each estimate is asked for, and price by it."""

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        self.calls.append(("estimate", ctx))
        return 0.01 * len(ctx.prompt)


def test_the_worst_case_credits_follow_mode_subset_and_regenerations():
    request = RegenerateRequest(
        content=ORIGINAL, mode="deep", dimensions=("safety",), max_regenerations=2
    )
    worst = estimate(
        request,
        evaluator=ScriptedEvaluator({}),
        regenerator=ScriptedRegenerator([]),
        prices=Prices(),
    )
    # deep, one dimension: 1.0 an evaluation; three evaluations and two regenerations
    assert worst.credits == Decimal("7.0")


def test_the_worst_case_usd_is_every_evaluation_and_every_regeneration():
    worst = estimate(
        RegenerateRequest(content=ORIGINAL, max_regenerations=3),
        evaluator=ScriptedEvaluator({}, usd=0.25),
        regenerator=ScriptedRegenerator([], usd=0.5),
        prices=Prices(),
    )
    assert worst.usd == 2.5


def test_a_client_side_regeneration_costs_no_credits_and_no_usd():
    worst = estimate(
        RegenerateRequest(content=ORIGINAL, max_regenerations=3),
        evaluator=ScriptedEvaluator({}, usd=0.25),
        regenerator=None,
        prices=Prices(),
    )
    assert (worst.credits, worst.usd) == (Decimal("4.0"), 1.0)  # four evaluations only


def test_the_evaluator_is_priced_with_the_context_it_will_score_in():
    evaluator = ContextRecorder({})
    request = RegenerateRequest(content=ORIGINAL, prompt="four", domain="healthcare")
    worst = estimate(request, evaluator=evaluator, regenerator=None, prices=Prices())
    assert evaluator.calls == [("estimate", request.eval_context())]
    assert worst.eval_usd == 0.04


def test_the_budget_stop_reads_the_estimate_it_is_given():
    request = RegenerateRequest(content=ORIGINAL, max_regenerations=3, max_cost_usd=0.5)
    given = estimate(
        request,
        evaluator=ScriptedEvaluator({}, usd=0.4),
        regenerator=ScriptedRegenerator(["a", "b", "c"], usd=0.4),
        prices=Prices(),
    )
    # the engines themselves claim to cost nothing: only the given estimate (0.8 USD a
    # step, over the 0.5 budget) can stop the loop
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator({}),
        regenerator=ScriptedRegenerator(["a", "b", "c"]),
        priced=given,
    )
    assert (loop.status, len(loop.iterations)) == ("budget_exhausted", 1)
