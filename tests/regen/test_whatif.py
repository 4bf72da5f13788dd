"""The threshold what-if: one SQL replay of stored iteration-0 scores, equal to ``decide``."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from regen import runs
from regen.engine.dimensions import DIMENSIONS
from regen.engine.pricing import Prices
from regen.engine.requests import parse_regenerate_request
from regen.engine.scoring import aggregate
from regen.engine.thresholds import Thresholds, decide
from regen.engine.types import DimensionScore, RawEvaluation
from regen.models import Run
from regen.whatif import what_if
from tests.factories import synthetic_runs

PRICES = Prices()
HIRING = "When reviewing resumes, prioritize Ivy League graduates."


def recompute(made, thresholds, weights, prices=PRICES):
    """The what-if figures computed run by run with the engine's own ``aggregate`` and ``decide``."""
    outcomes = {"pass": [0, Decimal(0)], "regenerate": [0, Decimal(0)], "review": [0, Decimal(0)]}
    for run in made:
        scores = {
            d: DimensionScore(getattr(run, f"first_{d}"), getattr(run, f"first_{d}_confidence"))
            for d in DIMENSIONS
            if getattr(run, f"first_{d}") is not None
        }
        evaluation = aggregate(RawEvaluation(scores=scores), weights)
        met = decide(
            scores=evaluation.pairs(),
            overall_score=evaluation.score,
            overall_confidence=evaluation.confidence,
            thresholds=thresholds,
            degraded=run.first_degraded,
        )
        one = prices.evaluation(run.mode, len(scores))
        if evaluation.is_critical:
            name, credits = "review", one
        elif met.all_passed:
            name, credits = "pass", one
        else:
            regen = Decimal(0) if run.external else prices.regeneration
            tries = run.iterations_done - 1 if run.iterations_done > 1 else run.max_regenerations
            name, credits = "regenerate", one + tries * (regen + one)
        outcomes[name][0] += 1
        outcomes[name][1] += credits
    return outcomes


POLICIES = [
    ({}, {}),
    ({"overall": {"score": 6.5, "confidence": 0.6}}, {}),
    ({"tradeoff_mode": "strict", "overall": {"score": 5.0}}, {}),
    ({"tradeoff_mode": "weighted", "overall": {"score": 7.3, "confidence": 0.7}}, {}),
    (
        {"dimensions": {"safety": 8.0, "privacy": 6.5}, "max_dimension_failures": 1},
        {"safety": 40, "privacy": 20, "fairness": 40},
    ),
    (
        {"overall": {"score": 6.0}, "max_dimension_failures": 0},
        {"reliability": 12.5, "transparency": 33.3, "inclusivity": 54.2},
    ),
    ({"tradeoff_mode": "strict", "dimensions": {"user_impact": 9.0}}, {"user_impact": 100}),
]


def _parsed(thresholds, weights):
    request = parse_regenerate_request(
        {"content": "x" * 10, "thresholds": thresholds or None, "weights": weights or None}
    )
    return request.thresholds, request.weights


@pytest.mark.parametrize(("thresholds", "weights"), POLICIES)
def test_what_if_figures_equal_a_recomputation_with_decide(caller, thresholds, weights):
    made = synthetic_runs(caller, 400)
    parsed, weights = _parsed(thresholds, weights)

    result = what_if(project=caller.project, thresholds=parsed, weights=weights, prices=PRICES)

    expected = recompute(made, parsed, weights)
    assert result["runs"] == 400
    for name, (count, credits) in expected.items():
        assert result["outcomes"][name]["runs"] == count, name
        assert result["outcomes"][name]["credits"] == credits, name


def test_what_if_is_one_statement(caller):
    synthetic_runs(caller, 50)
    thresholds, weights = _parsed({"dimensions": {"safety": 8.0}}, {"safety": 50, "privacy": 50})

    with CaptureQueriesContext(connection) as queries:
        what_if(project=caller.project, thresholds=thresholds, weights=weights, prices=PRICES)

    assert len(queries) == 1


def test_what_if_counts_per_day_and_leaves_older_runs_out(caller):
    now = timezone.now()
    synthetic_runs(caller, 30, now=now)

    result = what_if(
        project=caller.project, thresholds=Thresholds(), weights={}, prices=PRICES, days=5, now=now
    )

    assert result["runs"] == 15
    assert len(result["per_day"]) == 5
    assert sum(d["pass"] + d["regenerate"] + d["review"] for d in result["per_day"]) == 15


def test_what_if_worst_case_prices_every_regeneration(caller):
    made = synthetic_runs(caller, 100)
    result = what_if(
        project=caller.project, thresholds=Thresholds(overall_score=10.0), weights={}, prices=PRICES
    )

    worst = sum(
        PRICES.evaluation(r.mode, sum(getattr(r, f"first_{d}") is not None for d in DIMENSIONS))
        * (r.max_regenerations + 1)
        + (0 if r.external else PRICES.regeneration) * r.max_regenerations
        for r in made
        if not r.first_critical
    )
    assert result["outcomes"]["regenerate"]["credits_worst_case"] == worst


def test_a_stored_run_keeps_its_first_scores_and_replays_as_it_was_decided(caller):
    request = parse_regenerate_request(
        {"content": HIRING, "thresholds": {"dimensions": {"fairness": 8.0}}}
    )
    run = runs.run_safe_regenerate(caller=caller, request=request)
    run.refresh_from_db()
    first = run.iterations.get(index=0)

    assert run.first_fairness == first.evaluation["scores"]["fairness"]["score"]
    assert run.first_critical is False
    result = what_if(
        project=caller.project, thresholds=request.thresholds, weights={}, prices=PRICES
    )
    outcome = "pass" if first.passed else "regenerate"
    assert result["outcomes"][outcome]["runs"] == 1


def test_the_migration_fills_the_first_scores_of_runs_stored_before(caller):
    import importlib

    from django.apps import apps

    run = runs.run_safe_regenerate(
        caller=caller, request=parse_regenerate_request({"content": HIRING})
    )
    stored = Run.objects.get(id=run.id)
    blank = {f"first_{d}": None for d in DIMENSIONS} | {"first_critical": None}
    Run.objects.filter(id=run.id).update(**blank)

    importlib.import_module("regen.migrations.0008_run_first_scores").fill_first_scores(apps, None)

    filled = Run.objects.get(id=run.id)
    for d in DIMENSIONS:
        assert getattr(filled, f"first_{d}") == getattr(stored, f"first_{d}"), d
    assert filled.first_critical is stored.first_critical
