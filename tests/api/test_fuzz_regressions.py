"""Server bugs the schema fuzz (test_schema_fuzz.py) found, one test each."""

from .texts import HIRING

START = "/railscore/v1/safe-regenerate"
CONTINUE = "/railscore/v1/safe-regenerate/continue"
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."


def test_a_finished_session_refuses_a_regenerated_content_shorter_than_the_schema_allows(api_a):
    # Found as "schema-violating request accepted": a finished session used to answer its
    # final result (200) to any body, though the schema asks for 10 characters.
    started = api_a.post(START, {"content": HIRING, "regeneration_model": "external"}, format="json")
    session = started.json()["result"]["session_id"]
    finished = api_a.post(CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json")
    assert finished.json()["result"]["status"] == "passed"
    response = api_a.post(CONTINUE, {"session_id": session, "regenerated_content": "short"}, format="json")
    assert response.status_code == 400
