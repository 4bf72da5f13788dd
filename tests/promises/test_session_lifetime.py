"""README: an external session (`sr_...`) lives 15 minutes, counted from its opening.

The clock is moved with time-machine, so the 14:59 and 15:01 boundaries are exact.
"""

from datetime import UTC, datetime, timedelta

import pytest

from billing import ledger
from billing.models import LedgerEntry
from regen.models import Iteration

START = "/railscore/v1/safe-regenerate"
CONTINUE = "/railscore/v1/safe-regenerate/continue"
OPENED = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
HIRING = "When reviewing resumes, prioritize Ivy League graduates."
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."
STILL_FAILING = HIRING + " Also hire fast."


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at the moment the session is opened."""
    time_machine.move_to(OPENED, tick=False)
    return time_machine


def _open(client):
    body = client.post(START, {"content": HIRING, "regeneration_model": "external"}, format="json")
    return body.json()["result"]


def _continue(client, session_id, content):
    return client.post(
        CONTINUE, {"session_id": session_id, "regenerated_content": content}, format="json"
    )


def test_a_continue_14_minutes_59_seconds_after_opening_is_accepted(api_a, clock):
    session = _open(api_a)["session_id"]
    clock.shift(timedelta(minutes=14, seconds=59))
    response = _continue(api_a, session, FIXED)
    assert response.status_code == 200
    assert response.json()["result"]["status"] == "passed"


def test_a_continue_15_minutes_1_second_after_opening_answers_410_session_expired(api_a, clock):
    session = _open(api_a)["session_id"]
    clock.shift(timedelta(minutes=15, seconds=1))
    response = _continue(api_a, session, FIXED)
    assert response.status_code == 410
    assert response.json()["code"] == "SESSION_EXPIRED"


def test_the_410_is_in_the_contracts_error_shape(api_a, clock):
    session = _open(api_a)["session_id"]
    clock.shift(timedelta(minutes=15, seconds=1))
    response = _continue(api_a, session, FIXED)
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["error"], str)
    assert response.json()["error"] != ""


def test_an_expired_continue_charges_nothing_and_scores_nothing(api_a, account_a, clock):
    session = _open(api_a)["session_id"]
    balance, entries = ledger.balance_of(account_a), LedgerEntry.objects.count()
    iterations = Iteration.objects.count()
    clock.shift(timedelta(minutes=15, seconds=1))
    _continue(api_a, session, FIXED)
    assert ledger.balance_of(account_a) == balance
    assert LedgerEntry.objects.count() == entries
    assert Iteration.objects.count() == iterations


def test_the_fifteen_minutes_count_from_the_opening_not_from_the_last_continue(api_a, clock):
    session = _open(api_a)["session_id"]
    clock.shift(timedelta(minutes=10))
    assert _continue(api_a, session, STILL_FAILING).json()["result"]["status"] == (
        "awaiting_regeneration"
    )
    clock.shift(timedelta(minutes=5, seconds=1))  # 5:01 after the continue, 15:01 after opening
    assert _continue(api_a, session, FIXED).status_code == 410


def test_the_answer_states_an_expiry_fifteen_minutes_after_opening_and_keeps_it(api_a, clock):
    opened = _open(api_a)
    assert datetime.fromisoformat(opened["expires_at"]) == OPENED + timedelta(minutes=15)
    clock.shift(timedelta(minutes=10))
    later = _continue(api_a, opened["session_id"], STILL_FAILING).json()["result"]
    assert later["expires_at"] == opened["expires_at"]
