"""Critical content (mean dimension score below 3.0) after iteration 0.

README and SPEC 3 say critical content stops at iteration 0, is charged one evaluation and
goes to the review queue; they say nothing of a regenerated version that is critical.
What the code does is pinned here: on the server the loop treats such a version as an
ordinary failing one (never served, not queued, charged as a regeneration and an
evaluation) and goes on from the best version; through `/continue` (the caller's model
produced it) it is the first call's 422, review item and end of the session (issue 10).
"""

import pytest

from billing import ledger
from regen import engines
from regen.models import ReviewItem, Run
from tests.engine.fakes import ScriptedRegenerator

URL = "/railscore/v1/safe-regenerate"
CONTINUE = URL + "/continue"
HIRING = "When reviewing resumes, prioritize Ivy League graduates."
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."
VIOLENT = (
    "Those immigrants are vermin and we should kill every one of them. The organiser is "
    "Daniel Brooks, he lives at 42 Elm Street, Springfield, phone 217-555-0148. Go to his "
    "house tonight and make him bleed."
)


@pytest.fixture
def regenerator(monkeypatch):
    """Make the server's regenerator return the scripted texts in turn."""

    def use(*outputs):
        fake = ScriptedRegenerator(list(outputs))
        monkeypatch.setattr(engines, "_embedded_regenerator", lambda: fake)
        return fake

    return use


def _run(client, max_regenerations):
    body = {"content": HIRING, "max_regenerations": max_regenerations}
    return client.post(URL, body, format="json")


def test_the_violent_text_is_critical_on_its_own(api_a):
    response = api_a.post(URL, {"content": VIOLENT}, format="json")
    assert response.json()["code"] == "RAIL_CRITICAL_CONTENT"


def test_a_critical_regeneration_does_not_stop_the_server_loop(api_a, regenerator):
    regenerator(VIOLENT)
    response = _run(api_a, max_regenerations=1)
    assert response.status_code == 200
    assert response.json()["result"]["status"] == "max_iterations_reached"


def test_a_critical_regeneration_is_recorded_as_an_ordinary_failing_iteration(api_a, regenerator):
    regenerator(VIOLENT)
    history = _run(api_a, max_regenerations=1).json()["result"]["iteration_history"]
    assert history[1]["content"] == VIOLENT
    assert history[1]["thresholds_met"] is False


def test_a_critical_regeneration_is_never_the_served_best_version(api_a, regenerator):
    regenerator(VIOLENT)
    result = _run(api_a, max_regenerations=1).json()["result"]
    assert result["best_iteration"] == 0
    assert result["best_content"] == HIRING


def test_a_critical_regeneration_is_not_queued_for_review(api_a, regenerator):
    regenerator(VIOLENT)
    _run(api_a, max_regenerations=1)
    assert not ReviewItem.objects.exists()


def test_a_critical_regeneration_is_charged_as_a_regeneration_and_an_evaluation(
    api_a, account_a, regenerator
):
    regenerator(VIOLENT)
    before = ledger.balance_of(account_a)
    body = _run(api_a, max_regenerations=1).json()
    assert body["credits_breakdown"] == {"evaluations": 2.0, "regenerations": 2.0, "total": 4.0}
    assert before - ledger.balance_of(account_a) == 4


def test_after_a_critical_regeneration_the_next_one_starts_from_the_best_version(
    api_a, regenerator
):
    fake = regenerator(VIOLENT, FIXED)
    result = _run(api_a, max_regenerations=2).json()["result"]
    assert fake.requests[1].content == HIRING
    assert result["status"] == "passed"


# -- through /continue: the caller's model wrote a critical version (issue 10) ---------------
def _continue_with_violence(client):
    opened = client.post(URL, {"content": HIRING, "regeneration_model": "external"}, format="json")
    session = opened.json()["result"]["session_id"]
    body = {"session_id": session, "regenerated_content": VIOLENT}
    return session, client.post(CONTINUE, body, format="json")


def test_a_critical_continued_version_is_charged_one_evaluation(api_a, account_a):
    before = ledger.balance_of(account_a)
    _continue_with_violence(api_a)
    assert before - ledger.balance_of(account_a) == 2  # the opening and this continue


def test_a_critical_continued_version_answers_422_rail_critical_content(api_a):
    _, response = _continue_with_violence(api_a)
    assert response.status_code == 422
    assert response.json()["code"] == "RAIL_CRITICAL_CONTENT"


def test_a_critical_continued_version_goes_to_the_review_queue(api_a):
    session, _ = _continue_with_violence(api_a)
    run = Run.objects.get(session_id=session)
    assert ReviewItem.objects.filter(run=run, content=VIOLENT).exists()


def test_a_critical_continued_version_ends_the_session(api_a):
    session, _ = _continue_with_violence(api_a)
    assert Run.objects.get(session_id=session).status != "awaiting_regeneration"
