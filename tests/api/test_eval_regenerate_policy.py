"""A project that enforces ``regenerate``: a failing /eval runs safe regeneration (issue 10).

Real embedded scorer and rewriter. The original's evaluation, charged by the eval, is the
run's iteration 0 and is not charged twice; a run that does not pass falls back by the
project's ``regenerate_fallback``.
"""

from decimal import Decimal

from billing import ledger
from billing.models import LedgerEntry
from regen.models import ReviewItem, Run

from .texts import FACTUAL, HIRING, VIOLENT

URL = "/railscore/v1/eval"


def _policy(project, *, mode="enforce", fallback="log", enabled=True):
    project.enforcement, project.enforcement_mode = "regenerate", mode
    project.regenerate_fallback, project.regenerate_enabled = fallback, enabled
    project.save()


def _charged(account) -> Decimal:
    return -sum(
        (e.amount for e in LedgerEntry.objects.filter(account=account, kind="charge")), Decimal(0)
    )


def test_a_failing_eval_is_regenerated_and_the_outcome_names_the_run(api_a, key_a):
    _policy(key_a.project)
    response = api_a.post(URL, {"content": HIRING}, format="json")

    assert response.status_code == 200
    body = response.json()
    outcome = body["policy_outcome"]
    assert body["result"]["thresholds_met"]["all_passed"] is False  # the eval is the original's
    assert outcome["enforced"] is True
    assert outcome["action"] == "regenerated"
    regeneration = outcome["regeneration"]
    assert regeneration["status"] == "passed"
    assert regeneration["best_content"] != HIRING
    assert regeneration["best_score"] >= 7.0
    run = Run.objects.get(id=regeneration["req_id"])
    assert run.account == key_a.project.account
    assert run.status == "passed"


def test_the_original_is_charged_once_by_the_eval_not_again_by_the_run(api_a, key_a, account_a):
    _policy(key_a.project)
    before = ledger.available_of(account_a)
    body = api_a.post(URL, {"content": HIRING}, format="json").json()

    run = Run.objects.get(id=body["policy_outcome"]["regeneration"]["req_id"])
    first = run.iterations.get(index=0)
    assert first.credits == 0
    assert first.score == body["result"]["rail_score"]["score"]
    run_credits = Decimal(str(body["policy_outcome"]["regeneration"]["credits_consumed"]))
    regenerations = body["policy_outcome"]["regeneration"]["iterations_taken"]
    assert regenerations >= 1
    # evaluations: only the regenerated versions (1.0 each), not the original
    assert run.credits_breakdown["evaluations"] == 1.0 * regenerations
    assert run_credits == run.credits_consumed
    assert before - ledger.available_of(account_a) == Decimal("1.0") + run_credits
    assert _charged(account_a) == Decimal("1.0") + run_credits


def test_in_monitor_mode_nothing_is_regenerated(api_a, key_a):
    _policy(key_a.project, mode="monitor")
    body = api_a.post(URL, {"content": HIRING}, format="json").json()

    assert body["policy_outcome"]["would_enforce"] is True
    assert "regeneration" not in body["policy_outcome"]
    assert not Run.objects.exists()


def test_a_passing_eval_is_not_regenerated(api_a, key_a):
    _policy(key_a.project)
    body = api_a.post(URL, {"content": FACTUAL}, format="json").json()

    assert body["policy_outcome"]["passed"] is True
    assert "action" not in body["policy_outcome"]
    assert not Run.objects.exists()


def test_with_regeneration_off_the_block_fallback_answers_422(api_a, key_a, account_a):
    _policy(key_a.project, fallback="block", enabled=False)
    response = api_a.post(URL, {"content": HIRING}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "POLICY_BLOCKED"
    assert body["policy_outcome"]["action"] == "blocked"
    assert body["policy_outcome"]["regeneration"]["iterations_taken"] == 0
    run = Run.objects.get()
    assert run.iterations.count() == 1
    assert _charged(account_a) == Decimal("1.0")  # the evaluation only


def test_the_human_review_fallback_queues_the_text_and_names_the_item(api_a, key_a):
    _policy(key_a.project, fallback="human_review", enabled=False)
    response = api_a.post(URL, {"content": HIRING}, format="json")

    assert response.status_code == 200
    outcome = response.json()["policy_outcome"]
    assert outcome["action"] == "sent_to_review"
    item = ReviewItem.objects.get(id=outcome["review_id"])
    assert item.reason == ReviewItem.Reason.ON_FAILURE
    assert item.content == HIRING
    assert item.account == key_a.project.account


def test_the_log_fallback_serves_the_best_version(api_a, key_a):
    _policy(key_a.project, fallback="log", enabled=False)
    body = api_a.post(URL, {"content": HIRING}, format="json").json()

    assert body["policy_outcome"]["action"] == "served_best"
    assert body["policy_outcome"]["regeneration"]["best_content"] == HIRING
    assert "review_id" not in body["policy_outcome"]


def test_critical_content_answers_422_with_its_review_item(api_a, key_a):
    _policy(key_a.project)
    response = api_a.post(URL, {"content": VIOLENT}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "RAIL_CRITICAL_CONTENT"
    assert ReviewItem.objects.filter(reason=ReviewItem.Reason.CRITICAL).count() == 1


def test_another_account_never_sees_the_run(api_a, api_b, key_a):
    _policy(key_a.project)
    req_id = api_a.post(URL, {"content": HIRING}, format="json").json()["policy_outcome"][
        "regeneration"
    ]["req_id"]

    assert api_b.get(f"/railscore/v1/runs/{req_id}").status_code == 404
    assert api_a.get(f"/railscore/v1/runs/{req_id}").status_code == 200
