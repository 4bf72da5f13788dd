"""What /eval charges for a subset of dimensions (SPEC 5), seen in the ledger."""

from decimal import Decimal

import pytest

from billing.models import Hold, LedgerEntry
from regen.engine.dimensions import DIMENSIONS
from regen.engine.pricing import Prices
from regen.engines import get_prices

from .texts import FACTUAL

URL = "/railscore/v1/eval"

BASIC = ["0.3", "0.6", "0.9", "1.0", "1.0", "1.0", "1.0", "1.0"]
DEEP = ["1.0", "3.0", "3.0", "3.0", "3.0", "3.0", "3.0", "3.0"]
TABLE = [("basic", n, BASIC[n - 1]) for n in range(1, 9)] + [
    ("deep", n, DEEP[n - 1]) for n in range(1, 9)
]


def _eval(client, mode, count):
    body = {"content": FACTUAL, "mode": mode, "dimensions": list(DIMENSIONS[:count])}
    response = client.post(URL, body, format="json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(("mode", "count", "price"), TABLE)
def test_an_eval_of_a_subset_answers_its_price(api_a, mode, count, price):
    assert _eval(api_a, mode, count)["credits_consumed"] == float(price)


@pytest.mark.parametrize(("mode", "count", "price"), TABLE)
def test_an_eval_of_a_subset_charges_its_price_in_the_ledger(api_a, account_a, mode, count, price):
    body = _eval(api_a, mode, count)
    charges = LedgerEntry.objects.filter(account=account_a, kind="charge")
    assert [(e.amount, e.reference) for e in charges] == [
        (-Decimal(price), body["metadata"]["req_id"])
    ]


@pytest.mark.parametrize(("mode", "count", "price"), TABLE)
def test_an_eval_of_a_subset_holds_exactly_its_price(api_a, account_a, mode, count, price):
    _eval(api_a, mode, count)
    assert Hold.objects.get(account=account_a).amount == Decimal(price)


def test_the_default_price_settings_are_the_spec_table():
    assert get_prices() == Prices()


def test_the_price_settings_decide_what_eval_charges(api_a, account_a, settings):
    settings.CREDIT_PRICES = {
        **settings.CREDIT_PRICES,
        "deep_eval_single_dimension": Decimal("1.5"),
        "basic_eval_per_dimension": Decimal("0.25"),
    }
    deep = _eval(api_a, "deep", 1)
    basic = _eval(api_a, "basic", 2)
    assert deep["credits_consumed"] == 1.5
    assert basic["credits_consumed"] == 0.5
