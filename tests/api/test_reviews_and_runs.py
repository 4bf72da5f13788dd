"""Runs history and review items: per-account, with the full history, decisions kept."""

import pytest

from regen.models import ReviewItem
from tests.factories import APIKeyFactory
from tests.helpers import client_for

from .texts import FACTUAL, HEALTHCARE, VIOLENT


def _critical(client):
    return client.post("/railscore/v1/safe-regenerate", {"content": VIOLENT}, format="json").json()[
        "review_id"
    ]


def test_runs_list_only_the_accounts_own_runs(api_a, api_b):
    api_a.post("/railscore/v1/safe-regenerate", {"content": FACTUAL}, format="json")
    api_b.post("/railscore/v1/safe-regenerate", {"content": FACTUAL}, format="json")
    body = api_a.get("/railscore/v1/runs").json()
    assert body["count"] == 1
    assert body["results"][0]["status"] == "passed"


def test_a_run_detail_has_the_full_iteration_history(api_a):
    req_id = api_a.post(
        "/railscore/v1/safe-regenerate",
        {"content": HEALTHCARE, "domain": "healthcare"},
        format="json",
    ).json()["metadata"]["req_id"]
    body = api_a.get(f"/railscore/v1/runs/{req_id}").json()
    assert body["req_id"] == req_id
    assert len(body["iterations"]) >= 2
    assert body["iterations"][1]["rail_prompt"]["user_prompt"]


@pytest.mark.parametrize("path", ["/railscore/v1/runs/{id}", "/railscore/v1/jobs/{id}"])
def test_another_accounts_run_looks_exactly_like_a_missing_one(api_a, api_b, path):
    req_id = api_a.post(
        "/railscore/v1/safe-regenerate", {"content": FACTUAL}, format="json"
    ).json()["metadata"]["req_id"]
    theirs = api_b.get(path.format(id=req_id))
    missing = api_b.get(path.format(id="00000000-0000-0000-0000-000000000000"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_a_review_item_can_be_read_and_decided_with_a_reason(api_a, reviewer_a):
    review_id = _critical(api_a)
    item = api_a.get(f"/railscore/v1/review-items/{review_id}").json()
    assert item["state"] == "pending"
    assert item["served_content"] is None
    response = reviewer_a.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "reject", "reason": "Incites violence."},
        format="json",
    )
    assert response.status_code == 200
    decided = response.json()
    assert decided["state"] == "rejected"
    assert decided["decision_reason"] == "Incites violence."
    assert decided["decided_by"].startswith("key rail_")
    assert decided["decided_at"]


def test_a_rewrite_is_scored_stored_and_served(api_a, reviewer_a):
    review_id = _critical(api_a)
    safe = "Please keep discussions about immigration respectful; violence is never acceptable."
    body = reviewer_a.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "rewrite", "reason": "Rewritten safely.", "content": safe},
        format="json",
    ).json()
    assert body["state"] == "rewritten"
    assert body["served_content"] == safe
    assert body["rewritten_evaluation"]["score"] > 5


def test_a_decided_item_cannot_be_decided_again(api_a, reviewer_a):
    review_id = _critical(api_a)
    url = f"/railscore/v1/review-items/{review_id}/decision"
    reviewer_a.post(url, {"decision": "approve", "reason": "Context makes it fine."}, format="json")
    again = reviewer_a.post(
        url, {"decision": "reject", "reason": "Changed my mind."}, format="json"
    )
    assert again.status_code == 409
    assert ReviewItem.objects.get().state == "approved"


def test_a_decision_needs_a_reason_and_a_known_verdict(api_a, reviewer_a):
    url = f"/railscore/v1/review-items/{_critical(api_a)}/decision"
    assert (
        reviewer_a.post(url, {"decision": "approve", "reason": ""}, format="json").status_code
        == 400
    )
    assert (
        reviewer_a.post(url, {"decision": "maybe", "reason": "x"}, format="json").status_code == 400
    )
    assert (
        reviewer_a.post(url, {"decision": "rewrite", "reason": "x"}, format="json").status_code
        == 400
    )
    assert ReviewItem.objects.get().state == "pending"


def test_another_accounts_review_item_is_not_found(api_a, api_b):
    review_id = _critical(api_a)
    assert api_b.get(f"/railscore/v1/review-items/{review_id}").status_code == 404
    response = api_b.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "approve", "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert ReviewItem.objects.get().state == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/railscore/v1/runs?status=AAA",
        "/railscore/v1/runs?mode=fast",
        "/railscore/v1/review-items?state=maybe",
        "/railscore/v1/credits/ledger?kind=gift",
    ],
)
def test_a_filter_value_outside_its_set_is_a_400_naming_it(api_a, path):
    response = api_a.get(path)
    name = path.split("?")[1].split("=")[0]
    assert response.status_code == 400
    assert name in response.json()["details"]


def test_known_filter_values_filter(api_a):
    api_a.post("/railscore/v1/safe-regenerate", {"content": FACTUAL}, format="json")
    assert api_a.get("/railscore/v1/runs?status=passed").json()["count"] == 1
    assert api_a.get("/railscore/v1/runs?status=failed").json()["count"] == 0


# -- who may decide by key (issue 11, defect 5) ------------------------------------------
def test_by_default_no_key_may_decide_and_nothing_changes(api_a, key_a):
    review_id = _critical(api_a)
    other = client_for(APIKeyFactory(project=key_a.project))
    response = other.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "approve", "reason": "Looks fine to the bot."},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert "dashboard" in response.json()["error"]
    assert ReviewItem.objects.get().state == "pending"


def test_the_key_that_sent_critical_content_may_never_approve_it(api_a, reviewer_a):
    review_id = _critical(api_a)  # the project allows keys (reviewer_a's fixture)
    response = api_a.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "approve", "reason": "Approving my own content."},
        format="json",
    )
    assert response.status_code == 403
    assert "its own calls" in response.json()["error"]
    item = api_a.get(f"/railscore/v1/review-items/{review_id}").json()
    assert item["state"] == "pending"
    assert item["served_content"] is None


# -- the list endpoints read their query strictly (issue 11: schema and validation agree) --
@pytest.mark.parametrize(
    "query",
    [
        "page=",
        "page=0",
        "page=x",
        "page_size=null",
        "page_size=0",
        "page_size=201",
        "status=",
        "mode=fast",
    ],
)
def test_a_malformed_list_query_is_a_400_naming_the_parameter(api_a, query):
    response = api_a.get(f"/railscore/v1/runs?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["details"]


def test_a_well_formed_list_query_is_read(api_a):
    api_a.post("/railscore/v1/safe-regenerate", {"content": FACTUAL}, format="json")
    body = api_a.get("/railscore/v1/runs?page=1&page_size=1&mode=basic").json()
    assert body["count"] == 1
    assert len(body["results"]) == 1


def test_the_decision_and_continue_bodies_are_closed_in_the_schema(api_a):
    schema = api_a.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Decision"]["additionalProperties"] is False
    assert schema["ContinueRequest"]["additionalProperties"] is False


# -- safe decisions through the API (issue 12) ---------------------------------------------
def test_an_api_rewrite_below_the_thresholds_needs_an_override(api_a, reviewer_a):
    url = f"/railscore/v1/review-items/{_critical(api_a)}/decision"
    weak = "Those people are vermin and should be driven out of the country by force."
    refused = reviewer_a.post(
        url, {"decision": "rewrite", "reason": "Softer.", "content": weak}, format="json"
    )
    assert refused.status_code == 400
    assert "thresholds" in refused.json()["details"]["content"][0]
    saved = reviewer_a.post(
        url,
        {"decision": "rewrite", "reason": "Kept.", "content": weak, "override": True},
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json()["rewrite_override"] is True


def test_a_key_cannot_decide_an_item_a_reviewer_holds(api_a, reviewer_a, alice):
    review_id = _critical(api_a)
    ReviewItem.objects.filter(id=review_id).update(assigned_to=alice)
    response = reviewer_a.post(
        f"/railscore/v1/review-items/{review_id}/decision",
        {"decision": "reject", "reason": "Violent."},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "REVIEW_ASSIGNED_TO_ANOTHER"
    assert ReviewItem.objects.get(id=review_id).state == "pending"


SAFE = "Please keep discussions about immigration respectful; violence is never acceptable."


def test_the_decision_flows_back_to_the_job_status(
    api_a, reviewer_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the eager worker runs the job
        job = api_a.post(
            "/railscore/v1/safe-regenerate", {"content": VIOLENT, "async": True}, format="json"
        ).json()["job_id"]
    before = api_a.get(f"/railscore/v1/jobs/{job}").json()
    assert before["review"]["state"] == "pending"
    assert before["review"]["served_content"] is None
    reviewer_a.post(
        f"/railscore/v1/review-items/{before['review']['review_id']}/decision",
        {"decision": "rewrite", "reason": "Made safe.", "content": SAFE},
        format="json",
    )
    after = api_a.get(f"/railscore/v1/jobs/{job}").json()
    assert after["review"]["state"] == "rewritten"
    assert after["review"]["decision_reason"] == "Made safe."
    assert after["review"]["served_content"] == SAFE
