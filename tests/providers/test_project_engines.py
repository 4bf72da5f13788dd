"""A project's engines: chosen in the policy editor, checked by update_policy's rules, shown
by /config, and used for its keys' calls; the cascade asks the judge only when unsure."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.accounts import update_policy
from railsite.errors import RequestValidationError
from tests.api.texts import FACTUAL, HIRING
from tests.pages.test_billing_pages import policy_data

URL = "/railscore/v1/safe-regenerate"


def test_a_cascade_project_leaves_a_clear_text_to_the_embedded_scorer(two, api_a, key_a):
    update_policy(project=key_a.project, evaluator="cascade", judge_model="alpha/judge-a")
    body = api_a.post(URL, {"content": FACTUAL}, format="json").json()

    assert body["result"]["iteration_history"][0]["engine"] == "embedded"
    assert body["metadata"]["engines"] == {"embedded": 1}
    assert two.alpha.hits == 0


def test_a_cascade_project_sends_only_unsure_versions_to_the_judge(two, api_a, key_a):
    update_policy(project=key_a.project, evaluator="cascade", judge_model="alpha/judge-a")
    body = {"content": HIRING, "max_regenerations": 3, "regeneration_model": "embedded"}
    answer = api_a.post(URL, body, format="json").json()

    engines = [it["engine"] for it in answer["result"]["iteration_history"]]
    assert "llm" in engines  # the hiring advice is borderline for the embedded scorer
    assert two.alpha.hits == engines.count("llm")
    assert answer["metadata"]["engines"] == {e: engines.count(e) for e in set(engines)}


def test_the_run_detail_names_the_engine_of_every_iteration(two, api_a, key_a):
    update_policy(project=key_a.project, evaluator="llm", judge_model="alpha/judge-a")
    req_id = api_a.post(URL, {"content": FACTUAL}, format="json").json()["metadata"]["req_id"]
    run = api_a.get(f"/railscore/v1/runs/{req_id}").json()

    assert [it["engine"] for it in run["iterations"]] == ["llm"]


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        ({"evaluator": "magic"}, "evaluator"),
        ({"judge_model": "beta/nope"}, "judge_model"),
        ({"judge_model": "embedded"}, "judge_model"),  # a judge must be a model
        ({"regenerator": "gamma/writer"}, "regenerator"),
    ],
)
def test_update_policy_refuses_engines_the_server_does_not_configure(two, key_a, choice, field):
    with pytest.raises(RequestValidationError) as refused:
        update_policy(project=key_a.project, **choice)

    assert field in refused.value.extra["details"]
    key_a.project.refresh_from_db()
    assert key_a.project.evaluator == key_a.project.judge_model == ""


def test_config_shows_the_projects_engines(two, api_a, key_a, settings):
    before = api_a.get("/railscore/v1/config").json()["policy"]["engines"]
    update_policy(
        project=key_a.project,
        evaluator="cascade",
        judge_model="beta/judge-b",
        regenerator="beta/writer-b",
    )
    after = api_a.get("/railscore/v1/config").json()["policy"]["engines"]

    assert before == {
        "evaluator": settings.RAIL_EVALUATOR,
        "judgeModel": "alpha/judge-a",  # the default model: the first provider's first
        "regenerator": settings.RAIL_REGENERATOR,
    }
    assert after == {
        "evaluator": "cascade",
        "judgeModel": "beta/judge-b",
        "regenerator": "beta/writer-b",
    }


def test_the_policy_editor_offers_and_saves_the_configured_models(two, login, alice, key_a):
    client = login(alice)
    url = reverse("project-edit", args=[key_a.project.pk])
    page = client.get(url).content.decode()
    assert 'value="beta/writer-b"' in page
    assert 'value="alpha/judge-a"' in page

    data = policy_data(
        evaluator="cascade", judge_model="alpha/judge-a", regenerator="beta/writer-b"
    )
    response = client.post(url, data)

    assert response.status_code == 302
    key_a.project.refresh_from_db()
    assert key_a.project.evaluator == "cascade"
    assert key_a.project.judge_model == "alpha/judge-a"
    assert key_a.project.regenerator == "beta/writer-b"


def test_a_stored_model_the_server_dropped_is_a_503_not_the_callers_400(
    two, api_a, key_a, settings
):
    from regen import engines

    update_policy(project=key_a.project, regenerator="beta/writer-b")
    settings.RAIL_PROVIDERS = {"alpha": settings.RAIL_PROVIDERS["alpha"]}
    engines.reset()
    response = api_a.post(URL, {"content": HIRING}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


def test_the_eval_cache_tells_a_projects_own_judge_from_the_server_evaluator(two, account_a, key_a):
    from tests.factories import APIKeyFactory, ProjectFactory
    from tests.helpers import client_for

    judged = APIKeyFactory(project=ProjectFactory(account=account_a, name="Judged"))
    update_policy(project=judged.project, evaluator="llm", judge_model="alpha/judge-a")
    body = {"content": FACTUAL}
    first = client_for(key_a).post("/railscore/v1/eval", body, format="json").json()
    second = client_for(judged).post("/railscore/v1/eval", body, format="json").json()

    assert first["result"]["from_cache"] is False
    assert second["result"]["from_cache"] is False
    assert two.alpha.hits == 1
