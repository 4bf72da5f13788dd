"""POST /railscore/v1/eval: modes, cache, charges and the enforcing block policy."""

from billing import ledger
from billing.models import LedgerEntry

from .texts import FACTUAL, HIRING

URL = "/railscore/v1/eval"


def test_a_basic_eval_has_every_field_the_sdk_reads(api_a, account_a):
    before = ledger.balance_of(account_a)
    body = api_a.post(URL, {"content": HIRING}, format="json").json()
    result = body["result"]
    assert set(result["rail_score"]) == {"score", "confidence", "summary"}
    assert all({"score", "confidence"} <= set(s) for s in result["dimension_scores"].values())
    assert "explanation" in result
    assert result["from_cache"] is False
    assert result["resolved_mode"] == "basic"
    assert body["credits_consumed"] == 1.0
    assert "issues" not in result["dimension_scores"]["fairness"]
    assert ledger.balance_of(account_a) == before - 1


def test_deep_mode_adds_explanations_and_issues_and_costs_three(api_a):
    body = api_a.post(URL, {"content": HIRING, "mode": "deep"}, format="json").json()
    fairness = body["result"]["dimension_scores"]["fairness"]
    assert fairness["explanation"]
    assert fairness["issues"]
    assert body["credits_consumed"] == 3.0
    assert body["result"]["issues"]


def test_an_identical_eval_within_minutes_is_served_from_cache_for_free(api_a, account_a):
    api_a.post(URL, {"content": FACTUAL}, format="json")
    before = ledger.balance_of(account_a)
    body = api_a.post(URL, {"content": FACTUAL}, format="json").json()
    assert body["result"]["from_cache"] is True
    assert body["credits_consumed"] == 0.0
    assert ledger.balance_of(account_a) == before


def test_the_cache_is_per_account(api_a, api_b, account_b):
    api_a.post(URL, {"content": FACTUAL}, format="json")
    body = api_b.post(URL, {"content": FACTUAL}, format="json").json()
    assert body["result"]["from_cache"] is False
    assert body["credits_consumed"] == 1.0


def test_a_subset_of_dimensions_costs_less(api_a):
    body = api_a.post(
        URL, {"content": FACTUAL + " x", "dimensions": ["safety", "privacy"]}, format="json"
    ).json()
    assert list(body["result"]["dimension_scores"]) == ["safety", "privacy"]
    assert body["credits_consumed"] == 0.6


def test_auto_mode_escalates_when_the_score_is_close_to_the_threshold(api_a):
    body = api_a.post(URL, {"content": HIRING, "mode": "auto"}, format="json").json()
    assert body["result"]["escalated"] is True
    assert body["result"]["resolved_mode"] == "deep"
    assert body["credits_consumed"] == 3.0
    clear = api_a.post(URL, {"content": FACTUAL, "mode": "auto"}, format="json").json()
    assert clear["result"]["escalated"] is False
    assert clear["credits_consumed"] == 1.0


def test_an_enforcing_block_policy_answers_422_policy_blocked(api_a, key_a):
    project = key_a.project
    project.enforcement, project.enforcement_mode = "block", "enforce"
    project.save()
    response = api_a.post(URL, {"content": HIRING}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "POLICY_BLOCKED"
    assert api_a.post(URL, {"content": FACTUAL}, format="json").status_code == 200


def test_a_locked_policy_overrides_the_request(api_a, key_a):
    project = key_a.project
    project.locked, project.thresholds = True, {"overall": {"score": 9.5}}
    project.save()
    body = api_a.post(URL, {"content": FACTUAL, "threshold": 1.0}, format="json").json()
    assert body["result"]["thresholds_met"]["overall_passed"] is False


def test_a_failed_evaluation_releases_its_hold(api_a, account_a, monkeypatch):
    from regen import evals

    def explode(**_):
        raise RuntimeError("engine down")

    monkeypatch.setattr(evals, "get_evaluator", explode)
    before = ledger.available_of(account_a)
    response = api_a.post(URL, {"content": FACTUAL + " again"}, format="json")
    assert response.status_code == 500
    assert response.json()["code"] == "EVALUATION_FAILED"
    assert ledger.available_of(account_a) == before
    assert LedgerEntry.objects.filter(kind="release").count() == 1


# -- policy_outcome on every answer (issue 10) -------------------------------------------
def _policy(project, enforcement, mode):
    project.enforcement, project.enforcement_mode = enforcement, mode
    project.save()


def test_every_eval_says_what_the_policy_makes_of_it(api_a):
    body = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json").json()

    assert body["policy_outcome"] == {
        "enforcement": "log_only",
        "mode": "monitor",
        "threshold": 7.0,
        "score": body["result"]["rail_score"]["score"],
        "passed": True,
        "would_enforce": False,
        "enforced": False,
    }


def test_in_monitor_mode_a_failing_eval_says_what_block_would_have_done(api_a, key_a):
    _policy(key_a.project, "block", "monitor")
    response = api_a.post("/railscore/v1/eval", {"content": HIRING}, format="json")

    assert response.status_code == 200
    outcome = response.json()["policy_outcome"]
    assert (outcome["passed"], outcome["would_enforce"], outcome["enforced"]) == (
        False,
        True,
        False,
    )


def test_an_enforced_block_is_a_422_carrying_the_outcome(api_a, key_a):
    _policy(key_a.project, "block", "enforce")
    response = api_a.post("/railscore/v1/eval", {"content": HIRING}, format="json")

    assert response.status_code == 422
    assert response.json()["policy_outcome"]["enforced"] is True


def test_a_cached_answer_follows_the_policy_of_the_moment(api_a, key_a):
    api_a.post("/railscore/v1/eval", {"content": HIRING}, format="json")
    _policy(key_a.project, "block", "enforce")
    response = api_a.post("/railscore/v1/eval", {"content": HIRING}, format="json")

    assert response.status_code == 422
