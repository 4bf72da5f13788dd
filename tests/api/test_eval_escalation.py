"""mode "auto": basic, escalated to deep when confidence < 0.6 or |score - threshold| < 1.0.

A scripted evaluator gives every dimension the same score and confidence, so the basic
overall score and confidence are exactly the scripted ones.
"""

from decimal import Decimal

import pytest

from billing import ledger
from billing.models import Hold, LedgerEntry

from .scripted import ModeEvaluator, install
from .texts import FACTUAL

URL = "/railscore/v1/eval"


def _auto(client, monkeypatch, basic, deep=None, **body):
    evaluator = install(monkeypatch, ModeEvaluator(basic=basic, deep=deep))
    response = client.post(URL, {"content": FACTUAL, "mode": "auto", **body}, format="json")
    assert response.status_code == 200
    return response.json(), evaluator


# (basic score, basic confidence, overall threshold) -> escalated
BOUNDARIES = {
    "confidence 0.59 is unsure": ((9.5, 0.59), 7.0, True),
    "confidence 0.60 is sure": ((9.5, 0.60), 7.0, False),
    "score 6.1 is 0.9 below": ((6.1, 0.9), 7.0, True),
    "score 6.0 is 1.0 below": ((6.0, 0.9), 7.0, False),
    "score 7.9 is 0.9 above": ((7.9, 0.9), 7.0, True),
    "score 8.0 is 1.0 above": ((8.0, 0.9), 7.0, False),
    "score on the threshold": ((7.0, 0.9), 7.0, True),
    "score 7.2 is 1.0 below 8.2": ((7.2, 0.9), 8.2, False),
    "score 9.2 is 1.0 above 8.2": ((9.2, 0.9), 8.2, False),
    "score 7.3 is 0.9 below 8.2": ((7.3, 0.9), 8.2, True),
    "confidence 0.59 far from the threshold": ((2.0, 0.59), 9.0, True),
}


@pytest.mark.parametrize(
    ("basic", "threshold", "escalated"), BOUNDARIES.values(), ids=BOUNDARIES.keys()
)
def test_auto_escalates_exactly_inside_the_boundaries(
    api_a, monkeypatch, basic, threshold, escalated
):
    body, _ = _auto(api_a, monkeypatch, basic, thresholds={"overall": {"score": threshold}})
    assert body["result"]["escalated"] is escalated


@pytest.mark.parametrize(
    ("basic", "threshold", "escalated"), BOUNDARIES.values(), ids=BOUNDARIES.keys()
)
def test_auto_reports_the_mode_it_resolved_to(api_a, monkeypatch, basic, threshold, escalated):
    body, _ = _auto(api_a, monkeypatch, basic, thresholds={"overall": {"score": threshold}})
    assert body["result"]["resolved_mode"] == ("deep" if escalated else "basic")


@pytest.mark.parametrize(
    ("basic", "threshold", "escalated"), BOUNDARIES.values(), ids=BOUNDARIES.keys()
)
def test_auto_charges_the_price_of_the_mode_it_resolved_to(
    api_a, monkeypatch, basic, threshold, escalated
):
    body, _ = _auto(api_a, monkeypatch, basic, thresholds={"overall": {"score": threshold}})
    assert body["credits_consumed"] == (3.0 if escalated else 1.0)


def test_an_escalated_eval_scores_in_basic_then_in_deep(api_a, monkeypatch):
    _, evaluator = _auto(api_a, monkeypatch, (9.5, 0.4), deep=(9.1, 0.9))
    assert evaluator.modes == ["basic", "deep"]


def test_an_eval_that_is_not_escalated_scores_once_in_basic(api_a, monkeypatch):
    _, evaluator = _auto(api_a, monkeypatch, (9.5, 0.9), deep=(9.1, 0.9))
    assert evaluator.modes == ["basic"]


def test_an_escalated_eval_answers_the_deep_scores(api_a, monkeypatch):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.4), deep=(6.5, 0.9))
    assert body["result"]["rail_score"]["score"] == 6.5
    assert body["result"]["rail_score"]["confidence"] == 0.9


def test_an_escalated_eval_keeps_mode_auto_in_its_metadata(api_a, monkeypatch):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.4))
    assert body["metadata"]["mode"] == "auto"


def test_an_escalated_eval_includes_deep_explanations(api_a, monkeypatch):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.4))
    assert "explanation" in body["result"]["dimension_scores"]["safety"]


def test_an_eval_that_is_not_escalated_has_basic_dimension_scores(api_a, monkeypatch):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.9))
    assert "explanation" not in body["result"]["dimension_scores"]["safety"]


@pytest.mark.parametrize("mode", ["basic", "deep"])
def test_basic_and_deep_modes_never_escalate_even_when_unsure(api_a, monkeypatch, mode):
    evaluator = install(monkeypatch, ModeEvaluator(basic=(7.0, 0.3)))
    body = api_a.post(URL, {"content": FACTUAL, "mode": mode}, format="json").json()
    assert body["result"]["escalated"] is False
    assert evaluator.modes == [mode]


# The ledger: hold the deep worst case, charge what was used, release the rest.


def _entries(account, kind):
    return list(LedgerEntry.objects.filter(account=account, kind=kind))


def test_auto_holds_the_deep_price(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.9))
    assert Hold.objects.get(account=account_a).amount == Decimal("3.0")


def test_auto_not_escalated_charges_the_basic_price(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.9))
    assert [e.amount for e in _entries(account_a, "charge")] == [Decimal("-1.0")]


def test_auto_not_escalated_releases_the_rest_of_the_hold(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.9))
    assert [e.held_change for e in _entries(account_a, "release")] == [Decimal("-2.0")]


def test_auto_escalated_charges_the_whole_deep_hold(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.4))
    assert [e.amount for e in _entries(account_a, "charge")] == [Decimal("-3.0")]


def test_auto_escalated_releases_nothing(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.4))
    assert _entries(account_a, "release") == []


def test_auto_leaves_nothing_held(api_a, account_a, monkeypatch):
    before = ledger.balance_of(account_a)
    _auto(api_a, monkeypatch, (9.5, 0.9))
    assert ledger.available_of(account_a) == before - 1


def test_auto_ledger_entries_carry_the_req_id(api_a, account_a, monkeypatch):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.9))
    references = {
        e.reference for e in LedgerEntry.objects.filter(account=account_a).exclude(kind="grant")
    }
    assert references == {body["metadata"]["req_id"]}


def test_auto_on_one_dimension_holds_the_deep_single_dimension_price(api_a, account_a, monkeypatch):
    _auto(api_a, monkeypatch, (9.5, 0.9), dimensions=["safety"])
    assert Hold.objects.get(account=account_a).amount == Decimal("1.0")


def test_auto_on_one_dimension_not_escalated_charges_one_basic_dimension(
    api_a, account_a, monkeypatch
):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.9), dimensions=["safety"])
    assert body["credits_consumed"] == 0.3
    assert [e.amount for e in _entries(account_a, "charge")] == [Decimal("-0.3")]


def test_auto_on_two_dimensions_escalated_charges_the_deep_subset_price(
    api_a, account_a, monkeypatch
):
    body, _ = _auto(api_a, monkeypatch, (9.5, 0.4), dimensions=["safety", "privacy"])
    assert body["credits_consumed"] == 3.0
    assert [e.amount for e in _entries(account_a, "charge")] == [Decimal("-3.0")]


# -- with the real default scorer (issue 10: auto escalates only what basic is unsure of) --
NEAR_THRESHOLD = "Honestly, some of those people just don't belong in this neighbourhood."
SELF_HARM = (
    "You are worthless and everyone would be better off without you. You should kill "
    "yourself tonight, just take all the pills at once and end it."
)


@pytest.mark.parametrize(
    ("text", "escalated"),
    [(FACTUAL, False), (SELF_HARM, False), (NEAR_THRESHOLD, True)],
    ids=["clear benign", "clear harmful", "near the threshold"],
)
def test_the_default_scorer_escalates_only_what_basic_is_unsure_of(api_a, text, escalated):
    response = api_a.post(URL, {"content": text, "mode": "auto"}, format="json")
    body = response.json()
    result = body["result"] if "result" in body else body["evaluation"]

    assert result["escalated"] is escalated
    assert result["resolved_mode"] == ("deep" if escalated else "basic")
