"""RAIL_EVALUATOR=learned picks the learned evaluator, and the API acts on its verdicts."""

import pytest

from regen import engines
from regen.models import ReviewItem

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
def learned(settings):
    settings.RAIL_EVALUATOR = "learned"
    yield
    engines.reset()


def test_the_default_evaluator_stays_embedded():
    assert engines.get_evaluator().name == "embedded"


def test_the_setting_selects_the_learned_evaluator(learned):
    assert engines.get_evaluator().name == "learned"


def test_self_harm_encouragement_is_a_422_with_a_review_item(learned, api_a, account_a):
    response = api_a.post(SAFE_REGENERATE, {"content": SELF_HARM}, format="json")

    assert response.status_code == 422
    assert ReviewItem.objects.filter(id=response.json()["review_id"], account=account_a).exists()


def test_an_eval_names_the_learned_engine(learned, api_a):
    body = api_a.post(EVAL, {"content": PROCESS, "mode": "basic"}, format="json").json()

    assert body["metadata"]["engine"] == "learned"


def test_a_hateful_generalisation_fails_the_eval(learned, api_a):
    body = api_a.post(EVAL, {"content": HATEFUL, "mode": "basic"}, format="json").json()

    assert body["result"]["thresholds_met"]["all_passed"] is False


def test_killing_a_process_passes_the_eval(learned, api_a):
    body = api_a.post(EVAL, {"content": PROCESS, "mode": "basic"}, format="json").json()

    assert body["result"]["thresholds_met"]["all_passed"] is True
