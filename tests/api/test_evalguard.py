"""POST /api/v1/evals/safe-regenerate: the EvalGuard contract (seed 002) on our loop."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from billing import ledger
from billing.models import Hold, LedgerEntry
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.types import Regeneration, Usage
from regen.engines import SERVER_REGENERATOR
from regen.models import Iteration, ReviewItem, Run
from tests.factories import AccountFactory, PlanFactory, ProjectFactory, default_plan

URL = "/api/v1/evals/safe-regenerate"
PROMPT = "Explain it briefly."
FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. It takes place mainly in the leaves, "
    "inside chloroplasts that contain the pigment chlorophyll."
)
# Every dimension scores about 8.7 except privacy (5.8): a mean of 8.3, one low dimension.
WITH_EMAIL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen. For questions, email jane.doe@example.com."
)
# Three versions whose lowest score rises (3.2, 3.8, 4.3) while none reaches 9.0 anywhere.
HEALTH = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
HIRING = "When reviewing resumes, prioritize Ivy League graduates."
FUND = "This fund offers guaranteed returns of 20% every year with absolutely no risk."
VIOLENT = (
    "Those immigrants are vermin and we should kill every one of them. The organiser is "
    "Daniel Brooks, he lives at 42 Elm Street, Springfield, phone 217-555-0148. Go to his "
    "house tonight and make him bleed."
)


def _post(client, headers=None, **fields):
    body = {"content": FACTUAL, "prompt": PROMPT, **fields}
    return client.post(URL, body, format="json", **(headers or {}))


class ScriptedRegenerator:
    """Return the scripted texts in turn (the last one forever), each at a set USD cost."""

    name = "scripted"

    def __init__(self, *texts, cost_usd=0.0, estimate_usd=0.0):
        self.texts, self.calls = list(texts), 0
        self.cost_usd, self.estimate_usd = cost_usd, estimate_usd

    def regenerate(self, request):
        # no script: the text back with one more inner space (another text, scored the same;
        # the very same text would stop the loop as an identical version)
        text = (
            self.texts[min(self.calls, len(self.texts) - 1)]
            if self.texts
            else request.content.replace(" ", "  ", 1)
        )
        self.calls += 1
        usage = Usage(llm_calls=1, input_tokens=100, output_tokens=50, cost_usd=self.cost_usd)
        return Regeneration(content=text, model="test/scripted", usage=usage)

    def estimate_cost_usd(self, *, text_chars):
        return self.estimate_usd


@pytest.fixture
def use_regenerator(monkeypatch):
    """Make every regenerator lookup (validation, pre-flight, run) return ``fake``."""

    def use(fake):
        monkeypatch.setattr("regen.runs.get_regenerator", lambda model, **_: fake)
        monkeypatch.setattr("regen.evalguard.check_model", lambda name, **_: name)
        monkeypatch.setattr(
            "regen.engines.get_regenerator", lambda model, **_: fake
        )  # the estimate
        return fake

    return use


def _entries(account):
    return list(LedgerEntry.objects.filter(account=account).order_by("pk"))


# -- the gate ----------------------------------------------------------------------------
def test_a_clean_text_passes_at_iteration_zero(api_a, account_a):
    response = _post(api_a, threshold=0.8)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["result"] == {
        "content": FACTUAL,
        "finalScore": 0.85,
        "passedThreshold": True,
        "iterationsTaken": 0,
        "iterationScores": [0.85],
        "stopReason": "passed",
    }
    assert body["cost"] == {
        "estimatedWorstCaseUsd": 0.0,
        "actualUsd": 0.0,
        "llmCallCount": 0,
        "actualInputTokens": 0,
        "actualOutputTokens": 0,
    }
    run = Run.objects.get(id=body["runId"])
    assert run.kind == Run.Kind.EVALGUARD
    assert run.account == account_a
    assert run.status == "passed"
    assert run.response == body
    assert body["credits"] == {
        "consumed": 1.0,
        "breakdown": {"evaluations": 1.0, "regenerations": 0.0, "total": 1.0},
    }


def test_one_low_dimension_fails_the_gate_even_when_the_mean_is_high(api_a, use_regenerator):
    use_regenerator(ScriptedRegenerator())  # gives the text back, its words unchanged
    body = _post(api_a, content=WITH_EMAIL, threshold=0.75, maxIterations=1).json()
    run = Run.objects.get(id=body["runId"])
    assert run.iterations.get(index=0).score == 8.3  # the mean clears 7.5 ...
    assert body["result"]["iterationScores"][0] == 0.58  # ... the privacy score does not
    assert body["result"]["passedThreshold"] is False
    assert body["result"]["finalScore"] == 0.58
    assert body["result"]["iterationsTaken"] == 1


def test_the_embedded_rewriter_fixes_the_low_dimension_and_passes(api_a):
    body = _post(api_a, content=WITH_EMAIL, threshold=0.75).json()
    assert body["result"]["stopReason"] == "passed"
    assert body["result"]["passedThreshold"] is True
    assert body["result"]["iterationScores"][0] == 0.58
    assert body["result"]["iterationScores"][-1] == body["result"]["finalScore"] >= 0.75
    assert "jane.doe@example.com" not in body["result"]["content"]


def test_only_the_selected_dimensions_gate_and_are_charged(api_a):
    body = _post(api_a, content=WITH_EMAIL, threshold=0.8, dimensions=["safety", "fairness"]).json()
    assert body["result"]["stopReason"] == "passed"
    assert body["result"]["iterationScores"] == [0.86]
    assert body["result"]["content"] == WITH_EMAIL  # privacy is not gated, so no rewrite
    run = Run.objects.get(id=body["runId"])
    assert set(run.iterations.get().evaluation["scores"]) == {"fairness", "safety"}
    assert body["credits"]["consumed"] == 0.6  # basic: 0.3 per dimension


def test_a_threshold_like_0_7_is_met_by_a_score_of_exactly_7(api_a, monkeypatch):
    real = LearnedEvaluator.evaluate

    def seven(self, text, ctx):
        raw = real(self, text, ctx)
        for score in raw.scores.values():
            object.__setattr__(score, "score", 7.0)
        return raw

    monkeypatch.setattr(LearnedEvaluator, "evaluate", seven)
    body = _post(api_a, threshold=0.7).json()
    assert body["result"]["passedThreshold"] is True
    assert body["result"]["finalScore"] == 0.7


# -- stop reasons ------------------------------------------------------------------------
def test_a_regeneration_that_does_not_improve_stops_with_no_improvement(api_a, use_regenerator):
    fake = use_regenerator(ScriptedRegenerator())
    body = _post(api_a, content=WITH_EMAIL, threshold=0.8, maxIterations=3).json()
    assert body["result"]["stopReason"] == "no_improvement"
    assert body["result"]["iterationsTaken"] == 1 == fake.calls
    assert body["result"]["iterationScores"] == [0.58, 0.58]
    assert body["result"]["content"] == WITH_EMAIL
    assert Run.objects.get(id=body["runId"]).status == "no_improvement"
    assert body["credits"]["consumed"] == 4.0  # two evaluations and one regeneration


def test_it_stops_at_max_iterations_with_the_best_version(api_a, use_regenerator):
    use_regenerator(ScriptedRegenerator(HIRING, FUND))
    body = _post(api_a, content=HEALTH, threshold=0.9, maxIterations=2).json()
    assert body["result"]["stopReason"] == "max_iterations"
    assert body["result"]["iterationsTaken"] == 2
    assert body["result"]["iterationScores"] == [0.32, 0.38, 0.43]
    assert body["result"]["content"] == FUND
    assert body["result"]["finalScore"] == 0.43
    assert body["result"]["passedThreshold"] is False
    assert body["cost"]["llmCallCount"] == 2
    assert body["cost"]["actualInputTokens"] == 200
    assert body["cost"]["actualOutputTokens"] == 100


def test_it_stops_when_the_next_step_would_exceed_the_budget(api_a, use_regenerator):
    use_regenerator(ScriptedRegenerator(HIRING, FUND, cost_usd=0.2, estimate_usd=0.1))
    body = _post(api_a, content=HEALTH, threshold=0.9, maxIterations=3, maxCostUsd=0.45).json()
    assert body["result"]["stopReason"] == "budget_exhausted"
    assert body["result"]["iterationsTaken"] == 2
    assert body["cost"]["estimatedWorstCaseUsd"] == 0.3
    assert body["cost"]["actualUsd"] == 0.4


def test_up_to_ten_iterations_are_allowed_when_the_plan_allows_them(
    api_a, account_a, use_regenerator
):
    account_a.plan = PlanFactory(name="Wide", max_regenerations=10)
    account_a.save()
    use_regenerator(ScriptedRegenerator(HIRING, FUND))
    body = _post(api_a, content=HEALTH, threshold=0.9, maxIterations=10).json()
    assert body["result"]["stopReason"] == "no_improvement"
    hold = Hold.objects.get(reference=body["runId"])
    assert hold.amount == Decimal("31.00")  # 11 evaluations + 10 regenerations


def test_more_iterations_than_the_plan_allows_is_a_400_naming_the_plans_cap(api_a, account_a):
    # EvalGuard documents 400, 401, 402 and 429, not the RAIL API's 403 (issue 10)
    response = _post(api_a, maxIterations=6)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert "at most 5" in response.json()["details"]["maxIterations"][0]
    assert not Run.objects.exists()


def test_the_deep_scorer_set_needs_a_plan_that_includes_deep_mode(api_a, account_a):
    account_a.plan = default_plan("free")
    account_a.save()
    response = _post(api_a, scorerSet="deep")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"scorerSet"}


def test_critical_content_is_the_rail_422_with_a_review_item(api_a, account_a):
    before = ledger.balance_of(account_a)
    response = _post(api_a, content=VIOLENT)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert ReviewItem.objects.filter(id=body["review_id"], account=account_a).exists()
    assert Run.objects.get().kind == Run.Kind.EVALGUARD
    assert before - ledger.balance_of(account_a) == Decimal("1.00")


# -- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "high"}, "threshold"),
        ({"maxIterations": 11}, "maxIterations"),
        ({"maxIterations": 0}, "maxIterations"),
        ({"maxIterations": True}, "maxIterations"),
        ({"dimensions": ["fairness", "honesty"]}, "dimensions"),
        ({"dimensions": []}, "dimensions"),
        ({"prompt": None}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"content": "too short"}, "content"),
        ({"content": "x" * 10_001}, "content"),
        ({"scorerSet": "ultra"}, "scorerSet"),
        ({"regeneratorModel": "acme/unknown-model"}, "regeneratorModel"),
        ({"regeneratorModel": "external"}, "regeneratorModel"),
        ({"maxCostUsd": 101}, "maxCostUsd"),
        ({"maxCostUsd": -1}, "maxCostUsd"),
        ({"recordHistory": "yes"}, "recordHistory"),
        ({"projectId": ["1"]}, "projectId"),
        ({"max_iterations": 3}, "max_iterations"),
    ],
)
def test_it_rejects_a_bad_field_by_name_and_runs_nothing(api_a, account_a, fields, field):
    entries = _entries(account_a)
    response = _post(api_a, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert list(body["details"]) == [field]
    assert field in body["error"]
    assert not Run.objects.exists()
    assert _entries(account_a) == entries


def test_a_missing_prompt_is_a_400(api_a):
    response = api_a.post(URL, {"content": FACTUAL}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {
        "prompt": ["This field is required and must be a string."]
    }


def test_it_names_every_bad_field_at_once(api_a):
    response = _post(api_a, threshold=2, maxIterations=11, dimensions=["x"], colour="red")
    assert response.status_code == 400
    assert set(response.json()["details"]) == {"threshold", "maxIterations", "dimensions", "colour"}


def test_a_body_that_is_not_an_object_is_a_400(api_a):
    response = api_a.post(URL, json.dumps(["content"]), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_the_documented_default_model_means_the_servers_regenerator(api_a):
    for fields in ({}, {"regeneratorModel": "openai/gpt-4o-mini"}):
        body = _post(api_a, **fields).json()
        assert Run.objects.get(id=body["runId"]).regeneration_model == SERVER_REGENERATOR


def test_it_needs_a_key(client):
    response = client.post(
        URL, {"content": FACTUAL, "prompt": PROMPT}, content_type="application/json"
    )
    assert response.status_code == 401


# -- money -------------------------------------------------------------------------------
def test_a_budget_below_the_estimate_is_a_402_before_any_work(api_a, account_a, monkeypatch):
    monkeypatch.setattr(LearnedEvaluator, "estimate_cost_usd", lambda self, **kw: 0.05)
    monkeypatch.setattr(EmbeddedRegenerator, "estimate_cost_usd", lambda self, **kw: 0.1)

    def no_work(*args, **kwargs):
        raise AssertionError("nothing may be evaluated or regenerated")

    monkeypatch.setattr(LearnedEvaluator, "evaluate", no_work)
    monkeypatch.setattr(EmbeddedRegenerator, "regenerate", no_work)
    entries, balance = _entries(account_a), ledger.balance_of(account_a)
    response = _post(api_a, maxIterations=3, maxCostUsd=0.4)
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "BUDGET_EXCEEDED"
    assert body["estimatedWorstCaseUsd"] == 0.5  # 0.05 x 4 evaluations + 0.1 x 3 regenerations
    assert body["maxCostUsd"] == 0.4
    assert _entries(account_a) == entries
    assert ledger.balance_of(account_a) == balance
    assert not Run.objects.exists()
    assert not Hold.objects.exists()


def test_a_budget_equal_to_the_estimate_runs(api_a, monkeypatch):
    monkeypatch.setattr(LearnedEvaluator, "estimate_cost_usd", lambda self, **kw: 0.05)
    monkeypatch.setattr(EmbeddedRegenerator, "estimate_cost_usd", lambda self, **kw: 0.1)
    response = _post(api_a, maxIterations=3, maxCostUsd=0.5)
    assert response.status_code == 200
    assert response.json()["cost"]["estimatedWorstCaseUsd"] == 0.5


def test_credits_are_held_for_the_worst_case_and_settled_to_the_cent(
    api_a, account_a, use_regenerator
):
    use_regenerator(ScriptedRegenerator())
    before = ledger.balance_of(account_a)
    body = _post(api_a, content=WITH_EMAIL, maxIterations=3).json()
    entries = LedgerEntry.objects.filter(reference=body["runId"]).order_by("pk")
    assert [(e.kind, e.amount, e.held_change) for e in entries] == [
        ("hold", Decimal("0.00"), Decimal("10.00")),  # 4 evaluations + 3 regenerations
        ("charge", Decimal("-4.00"), Decimal("-4.00")),
        ("release", Decimal("0.00"), Decimal("-6.00")),
    ]
    assert body["credits"]["consumed"] == 4.0 == body["credits"]["breakdown"]["total"]
    assert before - ledger.balance_of(account_a) == Decimal("4.00")
    assert ledger.available_of(account_a) == ledger.balance_of(account_a)


def test_a_short_balance_is_a_402_insufficient_credits(api_a, account_a):
    account_a.plan = PlanFactory(name="Wide", max_regenerations=10)
    account_a.save()
    ledger.hold(account=account_a, amount="60", reference="other work")  # 40 of 100 left
    response = _post(api_a, maxIterations=10, scorerSet="deep")  # 11 x 3 + 10 x 2 = 53
    assert response.status_code == 402
    assert response.json()["code"] == "INSUFFICIENT_CREDITS"


# -- projects, history, idempotency -------------------------------------------------------
def test_a_project_of_the_callers_account_records_the_run_under_it(api_a, account_a):
    other = ProjectFactory(account=account_a, name="Other app")
    body = _post(api_a, projectId=str(other.pk)).json()
    assert Run.objects.get(id=body["runId"]).project == other


@pytest.mark.parametrize(
    "project_id", ["another account's", "00000000-0000-0000-0000-000000000000"]
)
def test_a_project_of_another_account_or_unknown_is_a_404(api_a, account_a, project_id):
    if project_id == "another account's":
        project_id = str(ProjectFactory(account=AccountFactory(credits=10)).pk)
    entries = _entries(account_a)
    response = _post(api_a, projectId=project_id)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert not Run.objects.exists()
    assert _entries(account_a) == entries


def test_without_record_history_iteration_texts_are_not_kept(api_a):
    body = _post(api_a, content=WITH_EMAIL, threshold=0.8).json()
    run = Run.objects.get(id=body["runId"])
    assert run.iterations.count() >= 2
    assert set(run.iterations.values_list("content", flat=True)) == {""}
    assert set(run.iterations.values_list("rail_prompt", flat=True)) == {None}
    assert run.best_content == body["result"]["content"] != ""
    assert run.response == body
    detail = api_a.get(f"/railscore/v1/runs/{run.id}").json()
    assert {it["content"] for it in detail["iterations"]} == {""}


def test_record_history_keeps_every_iteration_text(api_a):
    body = _post(api_a, content=WITH_EMAIL, threshold=0.8, recordHistory=True).json()
    iterations = list(Iteration.objects.filter(run_id=body["runId"]).order_by("index"))
    assert len(iterations) >= 2  # at least one regeneration, so the prompts below exist
    assert iterations[0].content == WITH_EMAIL
    assert iterations[-1].content == body["result"]["content"]
    assert all(it.content for it in iterations)
    assert all(it.rail_prompt for it in iterations[1:])


def test_an_idempotent_retry_replays_the_answer_without_charging_again(api_a, account_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "eg-1"}
    first = _post(api_a, headers, content=WITH_EMAIL)
    balance = ledger.balance_of(account_a)
    second = _post(api_a, headers, content=WITH_EMAIL)
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Run.objects.count() == 1
    assert ledger.balance_of(account_a) == balance


def test_an_idempotent_retry_replays_a_402_too(api_a, monkeypatch):
    monkeypatch.setattr(EmbeddedRegenerator, "estimate_cost_usd", lambda self, **kw: 1.0)
    headers = {"HTTP_IDEMPOTENCY_KEY": "eg-2"}
    first = _post(api_a, headers, maxCostUsd=0.5)
    second = _post(api_a, headers, maxCostUsd=0.5)
    assert first.status_code == second.status_code == 402
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_a_409(api_a):
    headers = {"HTTP_IDEMPOTENCY_KEY": "eg-3"}
    assert _post(api_a, headers).status_code == 200
    response = _post(api_a, headers, threshold=0.5)
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert Run.objects.count() == 1


def test_the_endpoint_is_in_the_openapi_schema(api_a):
    schema = api_a.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/evals/safe-regenerate"]["post"]
    assert {"200", "400", "402", "403", "404", "409", "422", "500"} <= set(operation["responses"])
