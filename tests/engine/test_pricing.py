"""Credit prices (SPEC 5): full and subset evaluations, worst cases, the settings table."""

from decimal import Decimal

import pytest

from regen.engine.pricing import Prices

# SPEC 5: basic 0.3 per dimension, at most 1.0; deep 1.0 for one dimension, 2.0 per
# dimension, at most 3.0. All eight dimensions cost the full 1.0 / 3.0.
SUBSET_PRICES = [
    ("basic", 1, "0.3"),
    ("basic", 2, "0.6"),
    ("basic", 3, "0.9"),
    ("basic", 4, "1.0"),
    ("basic", 5, "1.0"),
    ("basic", 6, "1.0"),
    ("basic", 7, "1.0"),
    ("basic", 8, "1.0"),
    ("deep", 1, "1.0"),
    ("deep", 2, "3.0"),
    ("deep", 3, "3.0"),
    ("deep", 4, "3.0"),
    ("deep", 5, "3.0"),
    ("deep", 6, "3.0"),
    ("deep", 7, "3.0"),
    ("deep", 8, "3.0"),
]


@pytest.mark.parametrize(("mode", "count", "price"), SUBSET_PRICES)
def test_an_evaluation_of_n_dimensions_costs_the_spec_price(mode, count, price):
    assert Prices().evaluation(mode, count) == Decimal(price)


def test_an_evaluation_of_every_dimension_is_the_default():
    assert Prices().evaluation("deep") == Decimal("3.0")


def test_a_dimension_count_of_zero_means_every_dimension():
    assert Prices().evaluation("basic", 0) == Decimal("1.0")


def test_more_dimensions_than_exist_cost_the_full_price():
    assert Prices().evaluation("deep", 9) == Decimal("3.0")


def test_an_unknown_mode_has_no_price():
    with pytest.raises(ValueError, match=r"^no price for evaluation mode 'auto'$"):
        Prices().evaluation("auto", 8)


# Per-dimension prices that add up to less than the full price: all eight dimensions
# still cost the full price, a subset costs its per-dimension sum.
CHEAP_DIMENSIONS = Prices(
    basic_eval_per_dimension=Decimal("0.1"),
    deep_eval_single_dimension=Decimal("0.5"),
    deep_eval_per_dimension=Decimal("0.25"),
)


@pytest.mark.parametrize(
    ("mode", "count", "price"),
    [
        ("basic", 7, "0.7"),
        ("basic", 8, "1.0"),
        ("deep", 1, "0.5"),
        ("deep", 2, "0.50"),
        ("deep", 7, "1.75"),
        ("deep", 8, "3.0"),
    ],
)
def test_every_dimension_costs_the_full_price_even_when_a_subset_sums_to_less(mode, count, price):
    assert CHEAP_DIMENSIONS.evaluation(mode, count) == Decimal(price)


def test_one_deep_dimension_costs_the_single_dimension_price_not_the_per_dimension_one():
    prices = Prices(
        deep_eval_single_dimension=Decimal("1.5"), deep_eval_per_dimension=Decimal("0.5")
    )
    assert prices.evaluation("deep", 1) == Decimal("1.5")


def test_a_deep_subset_is_capped_at_the_configured_full_price():
    prices = Prices(deep_eval=Decimal("5.0"))
    assert prices.evaluation("deep", 3) == Decimal("5.0")


def test_a_deep_subset_below_the_cap_costs_its_per_dimension_sum():
    prices = Prices(deep_eval=Decimal("5.0"))
    assert prices.evaluation("deep", 2) == Decimal("4.0")


def test_a_basic_subset_is_capped_at_the_configured_full_price():
    prices = Prices(basic_eval=Decimal("2.0"))
    assert prices.evaluation("basic", 7) == Decimal("2.0")


def test_a_basic_subset_below_the_cap_costs_its_per_dimension_sum():
    prices = Prices(basic_eval=Decimal("2.0"))
    assert prices.evaluation("basic", 6) == Decimal("1.8")


# Worst case of a loop (SPEC 5's worked example: 3 evaluations + 2 regenerations = 7.0
# in basic mode): every evaluation (regenerations + 1) and every regeneration.
WORST_CASES = [
    ("basic", 8, 0, "1.0"),
    ("basic", 8, 1, "4.0"),
    ("basic", 8, 2, "7.0"),
    ("basic", 8, 3, "10.0"),
    ("basic", 8, 5, "16.0"),
    ("deep", 8, 0, "3.0"),
    ("deep", 8, 1, "8.0"),
    ("deep", 8, 2, "13.0"),
    ("deep", 8, 3, "18.0"),
    ("deep", 8, 5, "28.0"),
    ("basic", 2, 0, "0.6"),
    ("basic", 2, 3, "8.4"),
    ("deep", 1, 0, "1.0"),
    ("deep", 1, 3, "10.0"),
    ("deep", 2, 3, "18.0"),
]


@pytest.mark.parametrize(("mode", "count", "regenerations", "price"), WORST_CASES)
def test_the_worst_case_is_every_evaluation_and_every_regeneration(
    mode, count, regenerations, price
):
    worst = Prices().worst_case(mode=mode, dimension_count=count, max_regenerations=regenerations)
    assert worst == Decimal(price)


def test_the_worst_case_uses_the_configured_regeneration_price():
    prices = Prices(regeneration=Decimal("0.5"))
    assert prices.worst_case(mode="basic", dimension_count=8, max_regenerations=2) == Decimal("4.0")


def test_from_mapping_reads_every_price_by_its_setting_name():
    prices = Prices.from_mapping(
        {
            "basic_eval": "1.5",
            "deep_eval": "4.5",
            "regeneration": "2.5",
            "basic_eval_per_dimension": "0.4",
            "deep_eval_single_dimension": "1.25",
            "deep_eval_per_dimension": "2.25",
        }
    )
    assert prices == Prices(
        basic_eval=Decimal("1.5"),
        deep_eval=Decimal("4.5"),
        regeneration=Decimal("2.5"),
        basic_eval_per_dimension=Decimal("0.4"),
        deep_eval_single_dimension=Decimal("1.25"),
        deep_eval_per_dimension=Decimal("2.25"),
    )


def test_from_mapping_keeps_the_defaults_of_prices_it_is_not_given():
    assert Prices.from_mapping({"deep_eval": Decimal("4")}) == Prices(deep_eval=Decimal("4"))


def test_from_mapping_reads_a_float_as_its_decimal_text():
    prices = Prices.from_mapping({"basic_eval_per_dimension": 0.1})
    assert prices.basic_eval_per_dimension == Decimal("0.1")


def test_from_mapping_refuses_an_unknown_price_name():
    with pytest.raises(TypeError):
        Prices.from_mapping({"deep_eval_per_dimensions": "2.0"})


def test_the_default_table_is_the_spec_table():
    assert Prices() == Prices(
        basic_eval=Decimal("1.0"),
        deep_eval=Decimal("3.0"),
        regeneration=Decimal("2.0"),
        basic_eval_per_dimension=Decimal("0.3"),
        deep_eval_single_dimension=Decimal("1.0"),
        deep_eval_per_dimension=Decimal("2.0"),
    )
