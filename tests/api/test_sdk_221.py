"""The older Python SDK generation, rail-score-sdk 2.2.1 (``RailScoreClient``, on
``requests``), unmodified, against a live server (issue 10).

``make install-test`` puts 2.2.1 in ``.venv/sdk-2.2.1``, beside the venv's 2.6; a child
process imports it from there (the two share a package name), calls the server and prints
what it read, so the test sees exactly what a 2.2.1 user sees, typed errors included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory, default_plan

from .texts import FACTUAL, HIRING, VIOLENT

pytestmark = pytest.mark.django_db(transaction=True)

SDK = Path(sys.prefix) / "sdk-2.2.1"  # sys.prefix is the venv

SCRIPT = r"""
import json, sys
import rail_score_sdk
from rail_score_sdk import RailScoreClient
from rail_score_sdk.exceptions import ContentTooHarmfulError, NotImplementedByServerError

base_url, key, factual, hiring, violent = sys.argv[1:6]
client = RailScoreClient(api_key=key, base_url=base_url)
out = {"version": rail_score_sdk.__version__}
ev = client.eval(content=factual, mode="basic", include_issues=True)
out["eval"] = {"score": ev.rail_score.score, "confidence": ev.rail_score.confidence,
               "dimensions": sorted(ev.dimension_scores), "from_cache": ev.from_cache}
again = client.eval(content=factual, mode="basic", include_issues=True)
out["cached"] = again.from_cache
regen = client.safe_regenerate(content=hiring, max_regenerations=2)
out["regen"] = {"status": regen.status, "best": regen.best_content,
                "credits": regen.credits_consumed}
external = client.safe_regenerate(content=hiring, regeneration_model="external")
out["external"] = {"status": external.status, "session": external.session_id}
done = client.safe_regenerate_continue(
    session_id=external.session_id,
    regenerated_content="When reviewing resumes, judge each candidate on the skills and "
                        "experience the role needs, whatever school they attended.",
)
out["continued"] = done.status
try:
    client.safe_regenerate(content=violent)
    out["critical"] = "accepted"
except ContentTooHarmfulError as error:
    out["critical"] = error.status_code
try:
    client.compliance_check(content=factual, framework="gdpr")
    out["compliance"] = "served"
except NotImplementedByServerError as error:
    out["compliance"] = error.status_code
out["health"] = client.health().status
print(json.dumps(out))
"""


@pytest.fixture
def answers(live_server):
    if not (SDK / "rail_score_sdk").is_dir():
        pytest.fail(f"rail-score-sdk 2.2.1 is not installed in {SDK} (make install-test)")
    account = AccountFactory(plan=default_plan("pro"), credits=500)
    key = APIKeyFactory(project=ProjectFactory(account=account)).raw
    env = dict(os.environ, PYTHONPATH=str(SDK))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, live_server.url, key, FACTUAL, HIRING, VIOLENT],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_it_is_the_older_generation(answers):
    assert answers["version"] == "2.2.1"


def test_eval_reads_scores_for_every_dimension_and_the_cache(answers):
    assert answers["eval"]["score"] >= 7.0
    assert 0 < answers["eval"]["confidence"] <= 1
    assert len(answers["eval"]["dimensions"]) == 8
    assert answers["eval"]["from_cache"] is False
    assert answers["cached"] is True


def test_safe_regenerate_and_an_external_session(answers):
    assert answers["regen"]["status"] == "passed"
    assert answers["regen"]["best"] != HIRING
    assert answers["regen"]["credits"] > 0
    assert answers["external"]["status"] == "awaiting_regeneration"
    assert answers["external"]["session"]
    assert answers["continued"] == "passed"


def test_typed_errors_critical_content_and_what_the_server_does_not_offer(answers):
    assert answers["critical"] == 422
    assert answers["compliance"] == 501
    assert answers["health"] in ("ok", "healthy")
