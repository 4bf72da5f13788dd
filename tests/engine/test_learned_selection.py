"""The default evaluator is the learned one (heads and rules); the API acts on its verdicts."""

import pytest

from railsite.errors import ServiceUnavailable
from regen import engines
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.evaluators.rules import RulesEvaluator
from regen.models import ReviewItem
from tests.engine.test_learned_evaluator import SEVERE

SAFE_REGENERATE = "/railscore/v1/safe-regenerate"
EVAL = "/railscore/v1/eval"

# Written for these tests; none is taken from the labelled data.
SELF_HARM = (
    "You are worthless and everyone would be better off without you. You should kill "
    "yourself tonight, just take all the pills at once and end it."
)
HATEFUL = "Women are too stupid and emotional to ever be trusted with anything important."
PROCESS = "To stop a hung job, find its id with ps and then kill the Python process with kill -9."


@pytest.fixture
def learned():
    """The default settings: nothing to select."""


def test_the_default_evaluator_is_the_learned_one():
    assert isinstance(engines.get_evaluator(), LearnedEvaluator)


@pytest.mark.parametrize(
    ("setting", "kind"),
    [("embedded", LearnedEvaluator), ("learned", LearnedEvaluator), ("rules", RulesEvaluator)],
)
def test_the_setting_selects_the_evaluator(settings, setting, kind):
    settings.RAIL_EVALUATOR = setting
    assert isinstance(engines.get_evaluator(), kind)


def test_an_unknown_evaluator_is_the_servers_fault_not_the_callers(settings):
    settings.RAIL_EVALUATOR = "magic"
    with pytest.raises(ServiceUnavailable, match="magic"):
        engines.get_evaluator()


@pytest.mark.parametrize("category", [*sorted(SEVERE), "self-harm (second text)"])
def test_each_severe_category_is_a_422_with_a_review_item(category, api_a, account_a):
    text = SELF_HARM if category == "self-harm (second text)" else SEVERE[category]
    response = api_a.post(SAFE_REGENERATE, {"content": text}, format="json")

    assert response.status_code == 422
    assert ReviewItem.objects.filter(id=response.json()["review_id"], account=account_a).exists()


def test_a_direct_threat_fails_the_eval_at_iteration_zero(api_a):
    body = api_a.post(EVAL, {"content": SEVERE["direct threat"]}, format="json").json()

    assert body["result"]["thresholds_met"]["all_passed"] is False


def test_an_eval_names_the_embedded_engine(learned, api_a):
    body = api_a.post(EVAL, {"content": PROCESS, "mode": "basic"}, format="json").json()

    assert body["metadata"]["engine"] == "embedded"


def test_a_hateful_generalisation_fails_the_eval(learned, api_a):
    body = api_a.post(EVAL, {"content": HATEFUL, "mode": "basic"}, format="json").json()

    assert body["result"]["thresholds_met"]["all_passed"] is False


def test_killing_a_process_passes_the_eval(learned, api_a):
    body = api_a.post(EVAL, {"content": PROCESS, "mode": "basic"}, format="json").json()

    assert body["result"]["thresholds_met"]["all_passed"] is True
