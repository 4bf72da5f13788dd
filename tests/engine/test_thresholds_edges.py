"""The thresholds at their edges: equal values pass, and the stored form round-trips.

Written against the mutants that survived tests/engine/test_thresholds.py (make mutate).
"""

from regen.engine.dimensions import DIMENSIONS
from regen.engine.thresholds import Thresholds, decide

CUSTOM = Thresholds(
    overall_score=8.5,
    overall_confidence=0.75,
    tradeoff_mode="strict",
    max_dimension_failures=4,
    dimensions={"safety": 9.0, "privacy": 6.5},
)
CUSTOM_DICT = {
    "overall": {"score": 8.5, "confidence": 0.75},
    "tradeoff_mode": "strict",
    "max_dimension_failures": 4,
    "dimensions": {"safety": 9.0, "privacy": 6.5},
}


def _decide(*, overall, confidence, thresholds=None, score=9.0):
    return decide(
        scores={d: (score, 0.9) for d in DIMENSIONS},
        overall_score=overall,
        overall_confidence=confidence,
        thresholds=thresholds or Thresholds(),
    )


def test_an_overall_score_equal_to_its_threshold_passes():
    assert _decide(overall=7.0, confidence=0.9).overall_passed is True


def test_an_overall_score_a_tenth_below_its_threshold_fails():
    assert _decide(overall=6.9, confidence=0.9).overall_passed is False


def test_an_overall_confidence_equal_to_its_threshold_passes():
    assert _decide(overall=9.0, confidence=0.5).overall_passed is True


def test_an_overall_confidence_just_below_its_threshold_fails():
    assert _decide(overall=9.0, confidence=0.49).overall_passed is False


def test_the_decision_reports_a_failed_overall_as_false_not_as_missing():
    result = _decide(overall=6.0, confidence=0.9)
    assert result.to_dict()["overall_passed"] is False


def test_the_decision_has_the_contract_s_five_fields():
    result = _decide(overall=9.0, confidence=0.9, thresholds=Thresholds(tradeoff_mode="strict"))
    data = result.to_dict()
    assert {k: v for k, v in data.items() if k != "dimension_results"} == {
        "overall_passed": True,
        "all_passed": True,
        "all_required_passed": True,
        "dimension_failures_count": 0,
    }
    assert list(data["dimension_results"]) == list(DIMENSIONS)


def test_thresholds_serialise_in_the_request_s_shape():
    assert CUSTOM.to_dict() == CUSTOM_DICT


def test_thresholds_read_every_field_of_the_request_s_shape():
    assert Thresholds.from_dict(CUSTOM_DICT) == CUSTOM


def test_an_empty_thresholds_object_means_every_default():
    assert Thresholds.from_dict({}) == Thresholds()


def test_the_defaults_are_seven_one_half_priority_and_two_failures():
    assert Thresholds().to_dict() == {
        "overall": {"score": 7.0, "confidence": 0.5},
        "tradeoff_mode": "priority",
        "max_dimension_failures": 2,
        "dimensions": {},
    }


def test_an_overall_object_without_a_confidence_keeps_the_default_confidence():
    thresholds = Thresholds.from_dict({"overall": {"score": 8.0}})
    assert thresholds.overall_confidence == 0.5


def test_an_overall_object_without_a_score_keeps_the_default_score():
    thresholds = Thresholds.from_dict({"overall": {"confidence": 0.9}})
    assert thresholds.overall_score == 7.0


def test_numbers_given_as_integers_are_read_as_floats():
    thresholds = Thresholds.from_dict({"overall": {"score": 8}, "dimensions": {"safety": 9}})
    assert isinstance(thresholds.threshold_for("safety"), float)
    assert isinstance(thresholds.overall_score, float)
