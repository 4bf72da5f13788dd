"""Meaning preservation through the API: the fields, the threshold, the stored iterations."""

from regen.models import Iteration

from .texts import HEALTHCARE, SEED_THRESHOLDS

URL = "/railscore/v1/safe-regenerate"


def _post(client, **body):
    return client.post(URL, body, format="json")


def test_every_version_carries_its_fidelity_and_the_best_one_too(api_a, account_a):
    body = _post(api_a, content=HEALTHCARE, thresholds=SEED_THRESHOLDS, domain="healthcare")
    result = body.json()["result"]

    history = result["iteration_history"]
    assert history[0]["fidelity"] == 1.0
    assert all(0.0 <= record["fidelity"] <= 1.0 for record in history)
    assert set(history[-1]["fidelity_detail"]) == {
        "score", "meaning", "facts", "refusal", "empty", "lost"
    }  # fmt: skip
    assert result["best_scores"]["fidelity"] == history[result["best_iteration"]]["fidelity"]


def test_the_seed_rewrite_keeps_its_meaning_once_the_dosage_is_removed(api_a, account_a):
    body = _post(api_a, content=HEALTHCARE, thresholds=SEED_THRESHOLDS, domain="healthcare")
    best = body.json()["result"]["iteration_history"][-1]

    assert "500" not in best["fidelity_detail"]["lost"]  # the dosage had to go
    assert best["fidelity_detail"]["refusal"] is False


def test_the_stored_iterations_keep_the_fidelity(api_a, account_a):
    answer = _post(api_a, content=HEALTHCARE, thresholds=SEED_THRESHOLDS, domain="healthcare")
    req_id = answer.json()["metadata"]["req_id"]

    stored = list(Iteration.objects.order_by("index").values_list("fidelity", flat=True))
    shown = api_a.get(f"/railscore/v1/runs/{req_id}").json()

    assert stored == [it["fidelity"] for it in answer.json()["result"]["iteration_history"]]
    assert [it["fidelity"] for it in shown["iterations"]] == stored


def test_min_fidelity_outside_zero_to_one_is_a_validation_error(api_a, account_a):
    answer = _post(api_a, content=HEALTHCARE, thresholds={"min_fidelity": 1.5})

    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_ERROR"
    assert "thresholds.min_fidelity" in answer.json()["details"]


def test_a_high_min_fidelity_fails_a_rewrite_that_drops_too_much(api_a, account_a):
    thresholds = {**SEED_THRESHOLDS, "min_fidelity": 0.99}
    result = _post(
        api_a, content=HEALTHCARE, thresholds=thresholds, domain="healthcare", max_regenerations=1
    ).json()["result"]

    rewrite = result["iteration_history"][1]
    assert rewrite["fidelity"] < 0.99
    assert rewrite["thresholds_met"] is False
    assert result["status"] == "max_iterations_reached"


def test_the_openapi_schema_documents_min_fidelity(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert '"min_fidelity"' in schema
