"""The overall confidence: the weighted mean of the evaluated dimensions' confidences.

README, "Decisions where the contract is silent": weighted with the score's weights (the
request's, renormalised over the evaluated dimensions; equal when those all weigh 0),
rounded half up to two decimals. Built by hand, so each case has one exact answer.
"""

import pytest

from regen.engine.dimensions import DIMENSIONS
from regen.engine.scoring import aggregate
from regen.engine.types import DimensionScore, RawEvaluation


def _raw(confidences, score=5.0):
    return RawEvaluation({d: DimensionScore(score, c) for d, c in confidences.items()})


def _all(*confidences):
    return dict(zip(DIMENSIONS, confidences, strict=True))


def test_with_equal_weights_the_confidence_is_the_plain_mean():
    # mean 0.8; the minimum would be 0.1 and the median 0.9
    raw = _raw(_all(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1))
    assert aggregate(raw).confidence == 0.8


def test_the_confidence_is_neither_the_minimum_nor_the_maximum():
    raw = _raw(_all(0.2, 0.4, 0.6, 0.8, 0.5, 0.5, 0.5, 0.5))
    assert aggregate(raw).confidence == 0.5


def test_empty_weights_weigh_every_dimension_equally():
    raw = _raw(_all(1.0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2))
    assert aggregate(raw, {}).confidence == 0.3


def test_request_weights_weigh_the_confidences():
    # fairness 0.9 x 0.5 + safety 0.5 x 0.5; the other six weigh 0
    raw = _raw(_all(0.9, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1))
    assert aggregate(raw, {"fairness": 50, "safety": 50}).confidence == 0.7


def test_uneven_weights_are_applied_to_their_own_dimensions():
    # safety 0.9 x 0.75 + privacy 0.1 x 0.25 = 0.7 (swapped weights would give 0.3)
    confidences = dict.fromkeys(DIMENSIONS, 0.5) | {"safety": 0.9, "privacy": 0.1}
    assert aggregate(_raw(confidences), {"safety": 75, "privacy": 25}).confidence == 0.7


def test_a_subset_averages_only_its_own_dimensions():
    raw = _raw({"safety": 0.8, "privacy": 0.4})
    assert aggregate(raw).confidence == 0.6


def test_a_subset_renormalises_the_weights_it_was_given():
    # fairness is not evaluated: safety 0.3 and privacy 0.2 of the weight become 0.6 and 0.4
    raw = _raw({"safety": 0.8, "privacy": 0.4})
    weights = {"fairness": 50, "safety": 30, "privacy": 20}
    assert aggregate(raw, weights).confidence == 0.64


def test_a_subset_whose_dimensions_all_weigh_zero_is_weighed_equally():
    raw = _raw({"safety": 0.8, "privacy": 0.4})
    assert aggregate(raw, {"fairness": 100}).confidence == 0.6


def test_one_dimension_gives_its_own_confidence():
    assert aggregate(_raw({"privacy": 0.37})).confidence == 0.37


def test_the_score_and_the_confidence_use_the_same_weights():
    raw = RawEvaluation({"safety": DimensionScore(9.0, 0.9), "privacy": DimensionScore(3.0, 0.3)})
    evaluation = aggregate(raw, {"safety": 75, "privacy": 25})
    assert evaluation.score == 7.5
    assert evaluation.confidence == 0.75


@pytest.mark.parametrize(
    ("confidences", "expected"),
    [
        ((0.67, 0.68, 0.68), 0.68),  # 0.67666... rounds up
        ((0.61, 0.62), 0.62),  # exactly half rounds up, as shown
        ((0.60, 0.61, 0.61), 0.61),  # 0.60666... rounds up
        ((0.61, 0.61, 0.62), 0.61),  # 0.61333... rounds down
    ],
)
def test_the_confidence_is_rounded_half_up_to_two_decimals(confidences, expected):
    raw = _raw(dict(zip(DIMENSIONS, confidences, strict=False)))
    assert aggregate(raw).confidence == expected


def test_an_evaluation_without_dimensions_is_refused():
    with pytest.raises(ValueError, match="at least one dimension"):
        aggregate(RawEvaluation({}))
