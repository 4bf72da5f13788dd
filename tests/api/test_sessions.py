"""External sessions: sr_ ids, continue to the end, expiry, ownership, races."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from billing import ledger
from regen.models import Run
from tests.helpers import postgres_only

from .texts import HIRING

START = "/railscore/v1/safe-regenerate"
CONTINUE = "/railscore/v1/safe-regenerate/continue"
FIXED = "When reviewing resumes, focus on the skills and experience the role requires."


def _start(client, **extra):
    body = client.post(
        START, {"content": HIRING, "regeneration_model": "external", **extra}, format="json"
    ).json()
    return body["result"]


def test_an_external_session_awaits_regeneration_with_a_prompt(api_a):
    result = _start(api_a)
    assert result["status"] == "awaiting_regeneration"
    assert result["session_id"].startswith("sr_")
    assert result["iteration"] == 0
    assert result["iterations_remaining"] == 3
    assert HIRING in result["rail_prompt"]["user_prompt"]
    assert set(result["current_scores"]) == {"rail_score", "dimension_scores", "thresholds_met"}


def test_continue_scores_the_callers_version_and_charges_evaluations_only(api_a, account_a):
    before = ledger.balance_of(account_a)
    session = _start(api_a)["session_id"]
    body = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    ).json()
    assert body["result"]["status"] == "passed"
    assert body["result"]["best_content"] == FIXED
    assert body["result"]["iteration_history"][1]["regeneration_model"] == "external"
    assert body["credits_breakdown"] == {"evaluations": 2.0, "regenerations": 0.0, "total": 2.0}
    assert ledger.balance_of(account_a) == before - 2


def test_a_session_ends_at_max_iterations_with_the_best_version(api_a):
    session = _start(api_a, max_regenerations=2)["session_id"]
    for n in range(2):  # two different versions: an identical one would end it (no_improvement)
        body = api_a.post(
            CONTINUE,
            {"session_id": session, "regenerated_content": HIRING + " Also hire fast." * (n + 1)},
            format="json",
        ).json()
    assert body["result"]["status"] == "max_iterations_reached"
    assert len(body["result"]["iteration_history"]) == 3


def test_a_finished_session_answers_its_final_result_again_without_charging(api_a, account_a):
    session = _start(api_a)["session_id"]
    first = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    ).json()
    balance = ledger.balance_of(account_a)
    again = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    ).json()
    assert again == first
    assert ledger.balance_of(account_a) == balance


def test_a_session_expires_after_fifteen_minutes(api_a, account_a):
    session = _start(api_a)["session_id"]
    Run.objects.filter(session_id=session).update(expires_at=timezone.now() + timedelta(seconds=1))
    assert (
        api_a.post(
            CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
        ).status_code
        == 200
    )
    session = _start(api_a)["session_id"]
    Run.objects.filter(session_id=session).update(expires_at=timezone.now() - timedelta(seconds=1))
    balance = ledger.balance_of(account_a)
    response = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    )
    assert response.status_code == 410
    assert response.json()["code"] == "SESSION_EXPIRED"
    assert ledger.balance_of(account_a) == balance


def test_another_accounts_session_is_not_found(api_a, api_b):
    session = _start(api_a)["session_id"]
    response = api_b.post(
        CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
    )
    missing = api_b.post(
        CONTINUE, {"session_id": "sr_nope", "regenerated_content": FIXED}, format="json"
    )
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_a_short_regenerated_content_is_400_and_keeps_the_session(api_a):
    session = _start(api_a)["session_id"]
    response = api_a.post(
        CONTINUE, {"session_id": session, "regenerated_content": "short"}, format="json"
    )
    assert response.status_code == 400
    assert Run.objects.get(session_id=session).status == "awaiting_regeneration"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_continues_never_both_count(key_a, account_a):
    from tests.helpers import client_for

    session = _start(client_for(key_a))["session_id"]
    statuses, barrier = [], threading.Barrier(2)

    def go():
        client = client_for(key_a)
        barrier.wait()
        statuses.append(
            client.post(
                CONTINUE, {"session_id": session, "regenerated_content": FIXED}, format="json"
            ).status_code
        )
        connection.close()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run = Run.objects.get(session_id=session)
    assert run.iterations.count() == 2  # the original and exactly one continue
    assert sorted(statuses) in ([200, 409], [200, 200])  # the loser is busy, or replays the end
    assert run.credits_consumed == 2
