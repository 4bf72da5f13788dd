"""POST /railscore/v1/safe-regenerate: the seed's contract, credits, critical content."""

from decimal import Decimal

from billing import ledger
from billing.models import LedgerEntry
from regen.models import ReviewItem, Run
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory
from tests.helpers import client_for

from .texts import FACTUAL, HEALTHCARE, HIRING, SEED_THRESHOLDS, VIOLENT

URL = "/railscore/v1/safe-regenerate"


def _post(client, **body):
    return client.post(URL, body, format="json")


def test_the_seed_request_passes_with_the_seed_response_shape(api_a, account_a):
    response = _post(
        api_a,
        content=HEALTHCARE,
        mode="basic",
        max_regenerations=3,
        thresholds=SEED_THRESHOLDS,
        domain="healthcare",
    )
    assert response.status_code == 200
    body = response.json()
    result = body["result"]
    assert result["status"] == "passed"
    assert result["best_iteration"] >= 1
    assert result["original_content"] == HEALTHCARE
    # the seed's three, plus the fidelity extension of issue 15 (extra fields are fine)
    assert set(result["best_scores"]) == {
        "rail_score",
        "dimension_scores",
        "thresholds_met",
        "fidelity",
    }
    assert result["best_scores"]["fidelity"] == result["iteration_history"][-1]["fidelity"]
    assert 0.0 <= result["best_scores"]["fidelity"] <= 1.0
    assert set(result["best_scores"]["rail_score"]) == {"score", "confidence", "summary"}
    assert result["iteration_history"][0]["improvement_from_previous"] == 0.0
    assert {"safety", "reliability"} <= set(result["iteration_history"][0]["failing_dimensions"])
    assert result["content"] == result["best_content"]
    assert result["passed"] is True
    assert body["metadata"]["total_iterations"] == len(result["iteration_history"])
    assert body["metadata"]["mode"] == "basic"
    assert body["metadata"]["req_id"]
    breakdown = body["credits_breakdown"]
    assert (
        breakdown["total"]
        == breakdown["evaluations"] + breakdown["regenerations"]
        == body["credits_consumed"]
    )


def test_credits_consumed_match_the_ledger_to_the_cent(api_a, account_a):
    before = ledger.balance_of(account_a)
    body = _post(api_a, content=HEALTHCARE, domain="healthcare").json()
    assert Decimal(str(body["credits_consumed"])) == before - ledger.balance_of(account_a)
    entries = LedgerEntry.objects.filter(reference=body["metadata"]["req_id"])
    assert sorted(entries.values_list("kind", flat=True)) == ["charge", "hold", "release"]


def test_a_passing_text_costs_one_evaluation_and_releases_the_rest(api_a, account_a):
    body = _post(api_a, content=FACTUAL).json()
    assert body["result"]["status"] == "passed"
    assert body["credits_consumed"] == 1.0
    release = LedgerEntry.objects.get(reference=body["metadata"]["req_id"], kind="release")
    assert release.held_change == Decimal("-9.00")


def test_the_seed_000_aliases_work_on_the_wire(api_a):
    body = _post(
        api_a,
        content=HIRING,
        prompt="What hiring criteria should I use?",
        threshold=7.0,
        max_iterations=3,
    ).json()
    result = body["result"]
    assert result["passed"] is True
    assert result["iterations_taken"] >= 1
    assert result["final_score"] >= 7.0
    assert "Ivy League graduates." not in result["content"]


def test_critical_content_answers_422_with_a_review_item(api_a, account_a):
    before = ledger.balance_of(account_a)
    response = _post(api_a, content=VIOLENT)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert body["requires_human_review"] is True
    assert body["credits_consumed"] == 1.0
    assert ledger.balance_of(account_a) == before - 1
    item = ReviewItem.objects.get(id=body["review_id"])
    assert item.state == "pending"
    assert item.account == account_a
    assert set(body["evaluation"]) == {"rail_score", "dimension_scores", "failing_dimensions"}


def test_a_short_balance_answers_402_and_changes_nothing(db):
    account = AccountFactory(credits="9.99")
    client = client_for(APIKeyFactory(project=ProjectFactory(account=account)))
    response = _post(client, content=FACTUAL)
    assert response.status_code == 402
    assert response.json() == {
        "error": response.json()["error"],
        "code": "INSUFFICIENT_CREDITS",
        "balance": 9.99,
        "required": 10.0,
    }
    assert not Run.objects.exists()
    assert ledger.balance_of(account) == Decimal("9.99")


def test_deep_mode_on_a_free_plan_is_403(db):
    from tests.factories import default_plan

    account = AccountFactory(credits=100, plan=default_plan("free"))
    client = client_for(APIKeyFactory(project=ProjectFactory(account=account)))
    response = _post(client, content=FACTUAL, mode="deep")
    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_TIER"


def test_an_unknown_regeneration_model_is_400_before_any_hold(api_a, account_a):
    response = _post(api_a, content=FACTUAL, regeneration_model="acme/unknown-9000")
    assert response.status_code == 400
    assert "regeneration_model" in response.json()["details"]
    assert not LedgerEntry.objects.filter(kind="hold").exists()


def test_a_dry_run_prices_the_worst_case_without_charging(api_a, account_a):
    before = ledger.balance_of(account_a)
    body = _post(api_a, content=FACTUAL, mode="deep", max_regenerations=3, dry_run=True).json()
    assert body["worst_case_credits"] == 18.0
    assert body["worst_case_usd"] == 0.0
    assert ledger.balance_of(account_a) == before
    assert not Run.objects.exists()


def test_an_async_request_answers_202_and_the_job_reports_the_result(
    api_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(api_a, content=HEALTHCARE, domain="healthcare", **{"async": True})
    assert response.status_code == 202
    job = api_a.get(response.json()["status_url"]).json()
    assert job["status"] == "passed"
    assert len(job["progress"]["iterations"]) == job["progress"]["iterations_done"] >= 2
    assert job["result"]["result"]["status"] == "passed"


def test_a_human_review_fallback_queues_a_run_that_did_not_pass(api_a):
    body = _post(
        api_a,
        content=HIRING,
        threshold=9.9,
        max_regenerations=1,
        policy_hint={"on_failure": "human_review"},
    ).json()
    assert body["result"]["status"] == "max_iterations_reached"
    run = Run.objects.get(id=body["metadata"]["req_id"])
    assert ReviewItem.objects.get(run=run).reason == "on_failure"
