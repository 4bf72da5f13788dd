"""A misconfigured engine is the server's fault: a check at start, a 503 on a request."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from billing import ledger
from regen import engines
from regen.models import Run

from .texts import FACTUAL

SAFE_REGENERATE = "/railscore/v1/safe-regenerate"


@pytest.fixture
def reset_engines():
    yield
    engines.reset()


@pytest.mark.parametrize(
    "setting",
    [
        {"RAIL_EVALUATOR": "magic"},
        {"RAIL_EVALUATOR": "llm", "RAIL_LLM_BASE_URL": ""},
        {"RAIL_REGENERATOR": "magic"},
        {"RAIL_REGENERATOR": "llm", "RAIL_LLM_BASE_URL": ""},
    ],
)
def test_a_request_to_a_misconfigured_engine_is_a_503_and_changes_nothing(
    setting, settings, reset_engines, api_a, account_a
):
    for name, value in setting.items():
        setattr(settings, name, value)
    engines.reset()
    balance = ledger.balance_of(account_a)
    response = api_a.post(SAFE_REGENERATE, {"content": FACTUAL}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert not Run.objects.exists()
    assert ledger.balance_of(account_a) == balance


def test_a_model_the_caller_names_wrongly_is_still_the_callers_400(api_a):
    body = {"content": FACTUAL, "regeneration_model": "acme/unknown"}
    response = api_a.post(SAFE_REGENERATE, body, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"RAIL_EVALUATOR": "magic"}, "RAIL_EVALUATOR"),
        ({"RAIL_REGENERATOR": "magic"}, "RAIL_REGENERATOR"),
        ({"RAIL_EVALUATOR": "llm", "RAIL_LLM_BASE_URL": ""}, "RAIL_LLM_BASE_URL"),
    ],
)
def test_the_start_time_check_names_the_bad_setting(setting, named, settings):
    for name, value in setting.items():
        setattr(settings, name, value)
    with pytest.raises(SystemCheckError, match=named):
        call_command("check")


def test_the_default_settings_pass_the_start_time_check():
    call_command("check")
