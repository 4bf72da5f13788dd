"""One rule for every score: a dimension the evaluator is unsure of fails, like the overall.

Before, a dimension with a passing score but a confidence under the threshold counted as
passed while the overall decision applied the confidence: a run regenerated with no
failing dimension to act on. Now the unsure dimension is named and the rewrite targets it.
"""

from dataclasses import dataclass, field

from regen.engine.dimensions import DIMENSIONS
from regen.engine.loop import run_loop
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import DimensionScore, EvalContext, RawEvaluation

from .fakes import ScriptedRegenerator

ORIGINAL = "an answer the evaluator is unsure about on privacy"
CLEARER = "an answer that is clear about privacy"


@dataclass
class UnsureEvaluator:
    """Every dimension scores 9.0; ``unsure`` maps a text to the dimensions it doubts."""

    unsure: dict[str, frozenset[str]]
    calls: list[str] = field(default_factory=list)

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation:
        self.calls.append(text)
        doubted = self.unsure.get(text, frozenset())
        dims = ctx.dimensions or DIMENSIONS
        return RawEvaluation({d: DimensionScore(9.0, 0.3 if d in doubted else 0.9) for d in dims})

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        return 0.0


def _run(unsure, outputs, **fields):
    request = parse_regenerate_request({"content": ORIGINAL, **fields})
    regenerator = ScriptedRegenerator(outputs)
    loop = run_loop(request, evaluator=UnsureEvaluator(unsure), regenerator=regenerator)
    return loop, regenerator


def test_an_unsure_dimension_is_failing_and_the_rewrite_targets_it():
    loop, regenerator = _run(
        {ORIGINAL: frozenset({"privacy"})},
        [CLEARER],
        thresholds={"tradeoff_mode": "strict"},
    )
    first = loop.iterations[0]
    assert first.thresholds_met.dimension_results["privacy"].passed is False
    assert first.failing_dimensions == ["privacy"]
    assert regenerator.requests[0].failing_dimensions == ("privacy",)
    assert loop.status == "passed"
    assert loop.best.content == CLEARER


def test_in_priority_mode_an_unsure_optional_dimension_counts_against_the_allowance():
    doubts = frozenset({"privacy", "fairness", "inclusivity"})
    loop, regenerator = _run({ORIGINAL: doubts}, [CLEARER])
    assert loop.iterations[0].thresholds_met.dimension_failures_count == 3
    assert set(regenerator.requests[0].failing_dimensions) == doubts
    assert loop.status == "passed"


def test_one_unsure_optional_dimension_is_within_the_default_allowance():
    loop, regenerator = _run({ORIGINAL: frozenset({"privacy"})}, [])
    assert loop.status == "passed"
    assert regenerator.requests == []
    assert loop.iterations[0].failing_dimensions == ["privacy"]
