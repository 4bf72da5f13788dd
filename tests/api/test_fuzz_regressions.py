"""Server bugs the schema fuzz (test_schema_fuzz.py) found, one test each."""

import pytest

from regen.models import Iteration
from tests.helpers import let_another_key_have_made

from .texts import HIRING, VIOLENT

START = "/railscore/v1/safe-regenerate"
CONTINUE = "/railscore/v1/safe-regenerate/continue"
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."


def test_a_finished_session_refuses_a_regenerated_content_shorter_than_the_schema_allows(api_a):
    # Found as "schema-violating request accepted": a finished session used to answer its
    # final result (200) to any body, though the schema asks for 10 characters.
    started = api_a.post(
        START, {"content": HIRING, "regeneration_model": "external"}, format="json"
    )
    session = started.json()["result"]["session_id"]
    finished = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    )
    assert finished.json()["result"]["status"] == "passed"
    response = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": "short"}, format="json"
    )
    assert response.status_code == 400


def open_session(api):
    started = api.post(START, {"content": HIRING, "regeneration_model": "external"}, format="json")
    return started.json()["result"]["session_id"]


def test_a_continue_refuses_a_number_as_regenerated_content(api_a):
    # Found as "schema-violating request accepted": DRF turned 3.99e70 into the text
    # "3.992029019152746e+70", long enough to be scored as a version.
    session = open_session(api_a)
    response = api_a.post(
        CONTINUE,
        {"session_id": session, "regenerated_content": 3.992029019152746e70},
        format="json",
    )
    assert response.status_code == 400
    assert "regenerated_content" in response.json()["details"]


def test_a_refused_continue_stores_no_iteration(api_a):
    session = open_session(api_a)
    stored = Iteration.objects.filter(run__session_id=session).count()
    api_a.post(CONTINUE, {"session_id": session, "regenerated_content": 12345678901}, format="json")
    assert Iteration.objects.filter(run__session_id=session).count() == stored


def test_a_continue_refuses_a_number_as_session_id(api_a):
    response = api_a.post(
        CONTINUE, {"session_id": 12345, "regenerated_content": FIXED}, format="json"
    )
    assert response.status_code == 400
    assert "session_id" in response.json()["details"]


def test_a_continue_names_each_unknown_field(api_a):
    session = open_session(api_a)
    body = {"session_id": session, "regenerated_content": FIXED, "balance": 5, "extra": 1}
    response = api_a.post(CONTINUE, body, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["details"]) == ["balance", "extra"]


@pytest.fixture
def critical_item(api_a):
    review_id = api_a.post(START, {"content": VIOLENT}, format="json").json()["review_id"]
    let_another_key_have_made(review_id)  # a key never decides its own content
    return review_id


def test_a_review_decision_refuses_a_number_as_its_reason(api_a, critical_item):
    url = f"/railscore/v1/review-items/{critical_item}/decision"
    response = api_a.post(url, {"decision": "reject", "reason": 42}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["details"]


def test_a_review_decision_names_each_unknown_field(api_a, critical_item):
    url = f"/railscore/v1/review-items/{critical_item}/decision"
    body = {"decision": "reject", "reason": "Threatening.", "decided_by": "me"}
    response = api_a.post(url, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["decided_by"]
