"""The pass/fail decision: a truth table per tradeoff mode, and properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regen.engine.dimensions import DIMENSIONS
from regen.engine.thresholds import Thresholds, decide


def _scores(default=8.0, conf=0.8, **overrides):
    """Scores for every dimension; an override is a score or a ``(score, confidence)`` pair."""
    pairs = {d: overrides.get(d, default) for d in DIMENSIONS}
    return {d: value if isinstance(value, tuple) else (value, conf) for d, value in pairs.items()}


def _decide(scores, thresholds, overall=None, confidence=0.8):
    if overall is None:
        overall = round(sum(s for s, _ in scores.values()) / len(scores), 1)
    return decide(
        scores=scores, overall_score=overall, overall_confidence=confidence, thresholds=thresholds
    )


SEED_THRESHOLDS = dict(
    overall_score=7.0,
    overall_confidence=0.5,
    max_dimension_failures=2,
    dimensions={"safety": 8.0, "reliability": 8.0},
)

# (case, scores overrides, overall, confidence, expected pass in priority, strict, weighted)
TRUTH_TABLE = [
    ("all good", {}, 8.0, 0.8, True, True, True),
    ("overall below threshold", {}, 6.9, 0.8, False, False, False),
    ("confidence below threshold", {}, 8.0, 0.49, False, False, False),
    ("required safety fails", {"safety": 7.9}, 8.0, 0.8, False, False, True),
    ("required reliability fails", {"reliability": 6.0}, 7.8, 0.8, False, False, True),
    ("one optional fails", {"privacy": 5.0}, 7.6, 0.8, True, False, True),
    ("two optional fail", {"privacy": 5.0, "fairness": 6.0}, 7.4, 0.8, True, False, True),
    (
        "three optional fail",
        {"privacy": 5.0, "fairness": 6.0, "inclusivity": 6.5},
        7.2,
        0.8,
        False,
        False,
        True,
    ),
    (
        "required exactly at threshold",
        {"safety": 8.0, "reliability": 8.0},
        8.0,
        0.8,
        True,
        True,
        True,
    ),
    ("optional exactly at overall threshold", {"privacy": 7.0}, 7.9, 0.8, True, True, True),
    ("required dimension unsure", {"safety": (9.0, 0.4)}, 8.1, 0.74, False, False, True),
    ("one optional dimension unsure", {"privacy": (9.0, 0.4)}, 8.1, 0.74, True, False, True),
    (
        "three optional dimensions unsure",
        {d: (9.0, 0.3) for d in ("privacy", "fairness", "inclusivity")},
        8.4,
        0.61,
        False,
        False,
        True,
    ),
    (
        "every dimension unsure",
        {d: (9.0, 0.45) for d in DIMENSIONS},
        9.0,
        0.45,
        False,
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    "case,overrides,overall,conf,priority,strict,weighted",
    TRUTH_TABLE,
    ids=[r[0] for r in TRUTH_TABLE],
)
def test_the_truth_table_of_the_three_tradeoff_modes(
    case, overrides, overall, conf, priority, strict, weighted
):
    scores = _scores(**overrides)
    for mode, expected in (("priority", priority), ("strict", strict), ("weighted", weighted)):
        result = _decide(scores, Thresholds(tradeoff_mode=mode, **SEED_THRESHOLDS), overall, conf)
        assert result.all_passed is expected, (case, mode)


def test_a_dimension_threshold_is_its_override_else_the_overall_score():
    result = _decide(_scores(), Thresholds(overall_score=7.5, dimensions={"safety": 9.0}))
    assert result.dimension_results["safety"].threshold == 9.0
    assert result.dimension_results["privacy"].threshold == 7.5


def test_priority_requires_only_the_overridden_dimensions():
    result = _decide(_scores(), Thresholds(**SEED_THRESHOLDS))
    required = {d for d, r in result.dimension_results.items() if r.required}
    assert required == {"safety", "reliability"}


def test_strict_requires_every_dimension_and_weighted_none():
    strict = _decide(_scores(), Thresholds(tradeoff_mode="strict"))
    weighted = _decide(_scores(), Thresholds(tradeoff_mode="weighted", dimensions={"safety": 9.0}))
    assert all(r.required for r in strict.dimension_results.values())
    assert not any(r.required for r in weighted.dimension_results.values())


def test_the_structure_reports_failures_and_confidence_thresholds():
    result = _decide(_scores(privacy=5.0, safety=7.0), Thresholds(**SEED_THRESHOLDS))
    data = result.to_dict()
    assert data["dimension_failures_count"] == 2
    assert data["all_required_passed"] is False
    assert result.failing_dimensions == ["safety", "privacy"]
    assert data["dimension_results"]["privacy"] == {
        "score": 5.0,
        "threshold": 7.0,
        "confidence": 0.8,
        "confidence_threshold": 0.5,
        "passed": False,
        "required": False,
    }


def test_only_evaluated_dimensions_appear_in_the_results():
    scores = {"safety": (9.0, 0.9), "privacy": (4.0, 0.9)}
    result = _decide(scores, Thresholds())
    assert list(result.dimension_results) == ["safety", "privacy"]


score = st.floats(min_value=0, max_value=10).map(lambda x: round(x, 1))
conf = st.floats(min_value=0, max_value=1).map(lambda x: round(x, 2))
thresholds = st.builds(
    lambda overall, c, failures, dims: Thresholds(overall, c, "priority", failures, dims),
    score,
    conf,
    st.integers(0, 8),
    st.dictionaries(st.sampled_from(DIMENSIONS), score, max_size=4),
)
score_maps = st.fixed_dictionaries({d: st.tuples(score, conf) for d in DIMENSIONS})


def _with_mode(t, mode):
    return Thresholds(
        t.overall_score, t.overall_confidence, mode, t.max_dimension_failures, t.dimensions
    )


@given(score_maps, thresholds, score, conf)
def test_a_low_overall_confidence_always_names_a_failing_dimension(scores, t, overall, c):
    """The overall confidence is a weighted mean of the dimensions': when it is too low, at
    least one dimension is unsure too, so a failed text always names what to improve."""
    mean = round(sum(dc for _, dc in scores.values()) / len(scores), 2)
    result = decide(scores=scores, overall_score=overall, overall_confidence=mean, thresholds=t)
    if mean < t.overall_confidence:
        assert result.failing_dimensions


@given(score_maps, thresholds, score, conf)
def test_strict_pass_implies_priority_pass_implies_weighted_pass(scores, t, overall, c):
    strict = decide(
        scores=scores,
        overall_score=overall,
        overall_confidence=c,
        thresholds=_with_mode(t, "strict"),
    )
    priority = decide(scores=scores, overall_score=overall, overall_confidence=c, thresholds=t)
    weighted = decide(
        scores=scores,
        overall_score=overall,
        overall_confidence=c,
        thresholds=_with_mode(t, "weighted"),
    )
    assert not strict.all_passed or priority.all_passed
    assert not priority.all_passed or weighted.all_passed


@given(
    score_maps,
    thresholds,
    score,
    conf,
    st.sampled_from(DIMENSIONS),
    st.floats(0, 10),
    st.sampled_from(["priority", "strict", "weighted"]),
)
def test_raising_a_score_never_turns_a_pass_into_a_fail(
    scores, t, overall, c, dimension, raise_by, mode
):
    t = _with_mode(t, mode)
    before = decide(scores=scores, overall_score=overall, overall_confidence=c, thresholds=t)
    higher = dict(scores)
    s, dc = higher[dimension]
    higher[dimension] = (round(min(10.0, s + raise_by), 1), dc)
    raised_overall = round(min(10.0, overall + raise_by / 8), 1)
    after = decide(scores=higher, overall_score=raised_overall, overall_confidence=c, thresholds=t)
    assert not before.all_passed or after.all_passed


@given(score_maps, thresholds, score, conf)
def test_failing_dimensions_are_exactly_those_below_their_threshold_or_unsure(
    scores, t, overall, c
):
    result = decide(scores=scores, overall_score=overall, overall_confidence=c, thresholds=t)
    expected = [
        d
        for d in DIMENSIONS
        if scores[d][0] < t.threshold_for(d) or scores[d][1] < t.overall_confidence
    ]
    assert result.failing_dimensions == expected
    assert result.dimension_failures_count == len(expected)
