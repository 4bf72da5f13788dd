"""A regenerated version identical to one already scored stops the run, unscored and free."""

from decimal import Decimal

import pytest

from billing import ledger
from billing.models import LedgerEntry
from regen.engine.types import Regeneration, Usage

from .texts import HIRING

URL = "/railscore/v1/safe-regenerate"
CONTINUE = "/railscore/v1/safe-regenerate/continue"


class Parrot:
    """A regenerator that hands the text it was asked to improve back unchanged."""

    def __init__(self):
        self.calls = 0

    def regenerate(self, request):
        self.calls += 1
        return Regeneration(
            content=request.content + "\n", model="test/parrot", usage=Usage(llm_calls=1)
        )

    def estimate_cost_usd(self, *, text_chars):
        return 0.0


@pytest.fixture
def parrot(monkeypatch):
    fake = Parrot()
    monkeypatch.setattr("regen.runs.get_regenerator", lambda model, **_: fake)
    return fake


def _regenerate(client):
    response = client.post(URL, {"content": HIRING, "max_regenerations": 3}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_regenerator_returning_the_original_ends_the_run_with_no_improvement(api_a, parrot):
    body = _regenerate(api_a)
    assert body["result"]["status"] == "no_improvement"


def test_the_metadata_says_the_run_stopped_at_an_identical_version(api_a, parrot):
    metadata = _regenerate(api_a)["metadata"]
    assert metadata["stop_reason"] == "identical_version"
    assert metadata["identical_to_iteration"] == 0


def test_the_identical_version_is_neither_scored_nor_regenerated_again(api_a, parrot):
    body = _regenerate(api_a)
    assert len(body["result"]["iteration_history"]) == 1
    assert body["metadata"]["total_iterations"] == 1
    assert parrot.calls == 1


def test_the_identical_version_charges_only_the_original_evaluation(api_a, parrot):
    body = _regenerate(api_a)
    assert body["credits_consumed"] == 1.0
    assert body["credits_breakdown"] == {"evaluations": 1.0, "regenerations": 0.0, "total": 1.0}


def test_the_ledger_charges_what_the_answer_says_and_releases_the_rest(api_a, account_a, parrot):
    before = ledger.balance_of(account_a)
    body = _regenerate(api_a)
    entries = LedgerEntry.objects.filter(reference=body["metadata"]["req_id"])
    held = sum(e.held_change for e in entries.filter(kind="hold"))
    charged = -sum(e.amount for e in entries.filter(kind="charge"))
    released = -sum(e.held_change for e in entries.filter(kind="release"))
    assert charged == Decimal(str(body["credits_consumed"]))
    assert released == held - charged
    assert ledger.balance_of(account_a) == before - charged
    assert ledger.available_of(account_a) == before - charged


def test_the_stored_run_records_the_identical_stop(api_a, parrot):
    body = _regenerate(api_a)
    run = api_a.get(f"/railscore/v1/runs/{body['metadata']['req_id']}").json()
    assert run["status"] == "no_improvement"
    assert len(run["iterations"]) == 1


def test_an_answer_that_scored_new_versions_has_no_stop_reason(api_a):
    body = api_a.post(URL, {"content": HIRING, "max_regenerations": 1}, format="json").json()
    assert body["result"]["status"] != "no_improvement"
    assert "stop_reason" not in body["metadata"]


# -- external sessions: the caller posts a version already scored -----------------------
def _start(client):
    body = client.post(
        URL, {"content": HIRING, "regeneration_model": "external"}, format="json"
    ).json()
    assert body["result"]["status"] == "awaiting_regeneration"
    return body["result"]["session_id"]


def _continue(client, session, text):
    return client.post(
        CONTINUE, {"session_id": session, "regenerated_content": text}, format="json"
    )


def test_a_continue_posting_the_original_ends_the_session_at_the_identical_version(api_a):
    session = _start(api_a)
    body = _continue(api_a, session, "  " + HIRING + "\n").json()
    assert body["result"]["status"] == "no_improvement"
    assert body["metadata"]["stop_reason"] == "identical_version"
    assert body["metadata"]["identical_to_iteration"] == 0
    assert len(body["result"]["iteration_history"]) == 1


def test_a_continue_posting_a_scored_version_is_not_charged(api_a, account_a):
    session = _start(api_a)
    balance = ledger.balance_of(account_a)
    entries = LedgerEntry.objects.filter(account=account_a).count()
    body = _continue(api_a, session, HIRING).json()
    assert ledger.balance_of(account_a) == balance
    assert LedgerEntry.objects.filter(account=account_a).count() == entries  # nothing held either
    assert body["credits_consumed"] == 1.0  # the session's: the original's evaluation


def test_a_session_ended_at_an_identical_version_answers_the_same_again_for_free(api_a, account_a):
    session = _start(api_a)
    first = _continue(api_a, session, HIRING).json()
    balance = ledger.balance_of(account_a)
    again = _continue(api_a, session, "a different version, too late to be scored").json()
    assert again == first
    assert ledger.balance_of(account_a) == balance
