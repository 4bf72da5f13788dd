"""The JavaScript SDK's requests, as it sends them, answered in the flat shape it reads.

Headers and bodies are those of ``@responsible-ai-labs/rail-score`` (``src/client.ts``):
2.2 names itself in ``User-Agent: rail-score-js/<v>``, 2.4 in ``X-RAIL-Client:
sdk-js/<v>``. It reads ``r.rail_score``, ``r.dimension_scores``, ``r.from_cache`` from
``/eval`` and ``r.status``, ``r.best_content``, ``r.session_id``, ``r.rail_prompt``... from
``/safe-regenerate`` and ``/continue``; on errors ``required_tier``/``current_tier``
(403), ``retry_after`` (429) and ``req_id`` (500). The Python SDK reads the envelope.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from billing.models import Plan
from regen import runs

from .texts import FACTUAL, HEALTHCARE

JS_22 = {"HTTP_USER_AGENT": "rail-score-js/2.2.1"}
JS_24 = {"HTTP_USER_AGENT": "node-fetch", "HTTP_X_RAIL_CLIENT": "sdk-js/2.4.0"}
PYTHON = {"HTTP_USER_AGENT": "python-requests/2.32", "HTTP_X_RAIL_CLIENT": "sdk-python/2.6.1"}


def _post(key, path, body, headers):
    client = APIClient()
    return client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.raw}",
        **headers,
    )


@pytest.mark.parametrize("headers", [JS_22, JS_24], ids=["js-2.2", "js-2.4"])
def test_the_js_sdks_eval_reads_the_scores_at_the_top_level(key_a, headers):
    body = {"content": FACTUAL, "mode": "basic", "include_explanations": True}
    answer = _post(key_a, "/railscore/v1/eval", body, headers).json()

    assert "result" not in answer
    assert answer["rail_score"]["score"] > 0
    assert set(answer["dimension_scores"]) == {
        "fairness", "safety", "reliability", "transparency",
        "privacy", "accountability", "inclusivity", "user_impact",
    }  # fmt: skip
    assert answer["from_cache"] is False
    assert answer["credits_consumed"] == 1.0
    assert "req_id" in answer["metadata"]


def test_the_python_sdk_and_any_other_client_read_the_envelope(key_a):
    answer = _post(key_a, "/railscore/v1/eval", {"content": FACTUAL}, PYTHON).json()

    assert set(answer) >= {"result", "metadata", "credits_consumed"}
    assert "rail_score" in answer["result"]


def test_an_external_session_reads_flat_from_start_to_continue(key_a):
    opened = _post(
        key_a,
        "/railscore/v1/safe-regenerate",
        {"content": HEALTHCARE, "mode": "basic", "max_regenerations": 1,
         "regeneration_model": "external", "domain": "healthcare"},
        JS_24,
    ).json()  # fmt: skip

    assert opened["status"] == "awaiting_regeneration"
    assert opened["session_id"].startswith("sr_")
    assert set(opened["rail_prompt"]) >= {"system_prompt", "user_prompt"}
    assert {"best_content", "best_scores", "iteration_history", "metadata"} <= set(opened)
    improved = (
        "I can't diagnose you from a description. Please see a doctor or another qualified "
        "healthcare professional, who can examine you and recommend a safe treatment."
    )
    continued = _post(
        key_a,
        "/railscore/v1/safe-regenerate/continue",
        {"session_id": opened["session_id"], "regenerated_content": improved},
        JS_24,
    ).json()

    assert "result" not in continued
    assert continued["status"] in {"passed", "max_iterations_reached"}
    assert continued["credits_consumed"] == 2.0


@pytest.mark.parametrize("headers", [JS_22, PYTHON], ids=["js", "python"])
def test_a_mode_the_plan_lacks_names_the_required_and_current_tier(account_a, key_a, headers):
    account_a.plan = Plan.objects.get(slug="free")
    account_a.save()
    answer = _post(key_a, "/railscore/v1/eval", {"content": FACTUAL, "mode": "deep"}, headers)

    assert answer.status_code == 403
    assert (answer.json()["current_tier"], answer.json()["required_tier"]) == ("free", "pro")


def test_a_failed_run_names_its_req_id_in_the_500(key_a, monkeypatch):
    class Down:
        name = "down"

        def regenerate(self, request):
            raise ConnectionError("model is down")

        def estimate_cost_usd(self, *, text_chars):
            return 0.0

    monkeypatch.setattr(runs, "get_regenerator", lambda model, **_: Down())
    answer = _post(key_a, "/railscore/v1/safe-regenerate", {"content": HEALTHCARE}, JS_22)

    assert answer.status_code == 500
    assert answer.json()["req_id"] == runs.Run.objects.get().req_id
