"""Request parsing: aliases, defaults, and one typed error naming each bad field."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regen.engine.requests import (
    FieldErrors,
    RegenerateRequest,
    RequestInvalid,
    parse_regenerate_request,
    read_whole,
    whole_number,
)
from regen.engine.thresholds import Thresholds

GOOD = "A perfectly ordinary text of reasonable length."


def _invalid(**fields):
    with pytest.raises(RequestInvalid) as info:
        parse_regenerate_request({"content": GOOD, **fields})
    return info.value


def test_defaults_follow_the_contract():
    request = parse_regenerate_request({"content": GOOD})
    assert request.mode == "basic"
    assert request.max_regenerations == 3
    assert request.thresholds == Thresholds()
    assert request.domain == "general"
    assert request.regeneration_model == "RAIL_Safe_LLM"
    assert len(request.dimensions) == 8


@pytest.mark.parametrize("content", ["", "short", " " * 20, "x" * 10_001, None, 42])
def test_bad_content_is_rejected_naming_the_field(content):
    error = _invalid(content=content)
    assert error.field == "content"


def test_content_of_ten_and_ten_thousand_characters_is_accepted():
    assert parse_regenerate_request({"content": "x" * 10}).content == "x" * 10
    assert len(parse_regenerate_request({"content": "x" * 10_000}).content) == 10_000


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"max_regenerations": 0}, "max_regenerations"),
        ({"max_regenerations": 6}, "max_regenerations"),
        ({"max_regenerations": True}, "max_regenerations"),
        ({"max_iterations": 9}, "max_iterations"),
        ({"mode": "fast"}, "mode"),
        ({"context": "c" * 1001}, "context"),
        ({"weights": {"safety": 50, "privacy": 49.9}}, "weights"),
        ({"weights": {"safety": 50, "privacy": 50.1}}, "weights"),
        ({"weights": {"safety": 100, "honesty": 0}}, "weights.honesty"),
        ({"weights": {"safety": -10, "privacy": 110}}, "weights.safety"),
        ({"thresholds": {"overall": {"score": 11}}}, "thresholds.overall.score"),
        ({"thresholds": {"overall": {"confidence": 1.5}}}, "thresholds.overall.confidence"),
        ({"thresholds": {"tradeoff_mode": "lenient"}}, "thresholds.tradeoff_mode"),
        ({"thresholds": {"dimensions": {"honesty": 8}}}, "thresholds.dimensions.honesty"),
        ({"thresholds": {"max_dimension_failures": 9}}, "thresholds.max_dimension_failures"),
        ({"thresholds": 11}, "thresholds"),
        ({"threshold": 11}, "threshold"),
        ({"dimensions": ["safety", "honesty"]}, "dimensions"),
        ({"domain": "astrology"}, "domain"),
        ({"contnet": "typo"}, "contnet"),
        ({"policy_hint": {"on_failure": "explode"}}, "policy_hint.on_failure"),
    ],
)
def test_each_bad_field_is_named_in_the_error(fields, field):
    assert field in _invalid(**fields).details


def test_every_bad_field_is_reported_at_once():
    error = _invalid(mode="fast", max_regenerations=0, domain="x")
    assert set(error.details) == {"mode", "max_regenerations", "domain"}


def test_weights_within_the_tolerance_are_accepted():
    request = parse_regenerate_request(
        {"content": GOOD, "weights": {"safety": 50.005, "privacy": 49.999}}
    )
    assert request.weights == {"safety": 50.005, "privacy": 49.999}


def test_the_seed_000_aliases_are_understood():
    request = parse_regenerate_request(
        {"content": GOOD, "threshold": 8.0, "max_iterations": 2, "prompt": "Why?"}
    )
    assert request.thresholds.overall_score == 8.0
    assert request.max_regenerations == 2
    assert request.prompt == "Why?"
    assert parse_regenerate_request({"content": GOOD, "user_query": "Q"}).prompt == "Q"


def test_thresholds_as_a_number_or_a_flat_map_of_dimensions():
    assert (
        parse_regenerate_request({"content": GOOD, "thresholds": 6.5}).thresholds.overall_score
        == 6.5
    )
    flat = parse_regenerate_request({"content": GOOD, "thresholds": {"safety": 8.0}}).thresholds
    assert flat.dimensions == {"safety": 8.0}
    assert flat.overall_score == 7.0


def test_a_dimensions_list_selects_what_is_evaluated_in_dimension_order():
    request = parse_regenerate_request({"content": GOOD, "dimensions": ["privacy", "safety"]})
    assert request.dimensions == ("safety", "privacy")


def test_a_policy_hint_object_can_route_failures_to_human_review():
    request = parse_regenerate_request(
        {"content": GOOD, "policy_hint": {"on_failure": "human_review", "tone": "formal"}}
    )
    assert request.on_failure == "human_review"
    assert request.policy_hint == "tone: formal"


def test_a_request_round_trips_through_its_dict():
    request = parse_regenerate_request(
        {"content": GOOD, "thresholds": {"dimensions": {"safety": 9}}, "weights": {"safety": 100}}
    )
    assert RegenerateRequest.from_dict(request.to_dict()) == request


def test_a_body_that_is_not_an_object_is_rejected():
    with pytest.raises(RequestInvalid):
        parse_regenerate_request(["content"])  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "content",
                "mode",
                "max_regenerations",
                "thresholds",
                "weights",
                "threshold",
                "dimensions",
                "domain",
                "context",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-5, 20),
            st.floats(allow_nan=True),
            st.text(max_size=30),
            st.lists(st.text(max_size=10), max_size=3),
            st.dictionaries(st.text(max_size=12), st.floats(-1, 120), max_size=3),
        ),
    )
)
def test_any_payload_either_parses_or_raises_the_typed_error(payload):
    try:
        parse_regenerate_request(payload)
    except RequestInvalid as error:
        assert error.details
        assert all(isinstance(m, list) for m in error.details.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), (1, 1), (5, 5), (0, None), (6, None), (True, None), (2.0, None), ("2", None)],
)
def test_one_reader_of_bounded_whole_numbers(value, expected):
    assert whole_number(value, 1, 5) == expected


def test_read_whole_defaults_a_missing_or_null_count_and_names_a_bad_one():
    errors = FieldErrors()
    assert read_whole({}, "n", (1, 5), 3, errors) == 3
    assert read_whole({"n": None}, "n", (1, 5), 3, errors) == 3
    assert errors.details == {}
    assert read_whole({"n": False}, "n", (1, 5), 3, errors) == 3
    assert errors.details == {"n": ["Must be a whole number from 1 to 5."]}
