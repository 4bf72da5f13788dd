"""POST /railscore/v1/comparisons and GET /railscore/v1/comparisons/{id}: a regenerator
A/B on the key's project's failing runs, priced, held, run and reported."""

from decimal import Decimal

import pytest

from billing.models import Hold, LedgerEntry
from regen import prompt_templates
from regen.models import Comparison, Run
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory
from tests.helpers import client_for

from .texts import FACTUAL, HEALTHCARE, HIRING

URL = "/railscore/v1/comparisons"
CHALLENGER = {"challenger": {"regeneration_model": "embedded"}}


def _failing_runs(client):
    """Two failing inputs (regenerated) and one that passes at once (not replayed)."""
    for body in (
        {"content": HIRING},
        {"content": HEALTHCARE, "domain": "healthcare"},
        {"content": FACTUAL},
    ):
        response = client.post("/railscore/v1/safe-regenerate", body, format="json")
        assert response.status_code == 200, response.content


def _start(client, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the eager worker runs the job
        return client.post(URL, body, format="json")


def test_a_dry_run_prices_the_replays_and_holds_nothing(api_a, key_a):
    _failing_runs(api_a)
    entries = LedgerEntry.objects.count()

    response = api_a.post(URL, {**CHALLENGER, "dry_run": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is True
    assert body["inputs"] == 2
    # each replay may run 4 evaluations and 3 regenerations: 4 + 6 = 10 credits; 2 x 2 replays
    assert body["credits_worst_case"] == 40.0
    assert LedgerEntry.objects.count() == entries
    assert not Comparison.objects.exists()


def test_a_comparison_holds_what_its_dry_run_priced_and_reports_both_arms(
    api_a, key_a, django_capture_on_commit_callbacks
):
    _failing_runs(api_a)
    priced = api_a.post(URL, {**CHALLENGER, "dry_run": True}, format="json").json()

    response = _start(api_a, CHALLENGER, django_capture_on_commit_callbacks)

    assert response.status_code == 202, response.content
    started = response.json()
    held = Hold.objects.filter(
        reference__in=[str(r.id) for r in Run.objects.filter(kind=Run.Kind.COMPARISON)]
    )
    assert sum(h.amount for h in held) == Decimal(str(priced["credits_worst_case"]))
    body = api_a.get(started["status_url"]).json()
    assert body["status"] == "finished"
    assert body["progress"] == {"done": 2, "total": 2}
    assert body["champion"] == {"regeneration_model": "RAIL_Safe_LLM", "prompt_version": 0}
    assert body["challenger"] == {"regeneration_model": "embedded", "prompt_version": 0}
    assert body["report"]["champion"]["replays"] == 2
    assert body["report"]["challenger"]["replays"] == 2
    assert len(body["pairs"]) == 2


def test_each_arm_is_charged_what_its_replays_used(
    api_a, key_a, django_capture_on_commit_callbacks
):
    _failing_runs(api_a)

    body = _start(api_a, CHALLENGER, django_capture_on_commit_callbacks).json()

    report = api_a.get(body["status_url"]).json()["report"]
    for arm in ("champion", "challenger"):
        runs = Run.objects.filter(
            kind=Run.Kind.COMPARISON,
            id__in=[p[arm]["run_id"] for p in api_a.get(body["status_url"]).json()["pairs"]],
        )
        charged = LedgerEntry.objects.filter(kind="charge", reference__in=[str(r.id) for r in runs])
        assert report[arm]["credits"] == float(-sum(e.amount for e in charged))


def test_a_template_version_arm_regenerates_with_that_version(
    api_a, key_a, django_capture_on_commit_callbacks
):
    _failing_runs(api_a)
    builtin = prompt_templates.current_template(None)
    prompt_templates.save_template(
        project=key_a.project, system=builtin.system + " Be brief.", user=builtin.user
    )
    body = {"champion": {"prompt_version": 0}, "challenger": {"prompt_version": 1}}

    started = _start(api_a, body, django_capture_on_commit_callbacks).json()

    pairs = api_a.get(started["status_url"]).json()["pairs"]
    champion = Run.objects.get(id=pairs[0]["champion"]["run_id"])
    challenger = Run.objects.get(id=pairs[0]["challenger"]["run_id"])
    assert set(champion.iterations.exclude(index=0).values_list("prompt_version", flat=True)) == {0}
    assert set(challenger.iterations.exclude(index=0).values_list("prompt_version", flat=True)) == {
        1
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHALLENGER, "inputs": 0}, "inputs"),
        ({**CHALLENGER, "inputs": 201}, "inputs"),
        ({**CHALLENGER, "inputs": "ten"}, "inputs"),
        ({**CHALLENGER, "colour": "red"}, "colour"),
        ({}, "challenger"),
        ({"challenger": {}}, "challenger"),
        ({"challenger": {"regeneration_model": "nowhere/model"}}, "challenger.regeneration_model"),
        ({"challenger": {"regeneration_model": "external"}}, "challenger.regeneration_model"),
        ({"challenger": {"prompt_version": 7}}, "challenger.prompt_version"),
        ({"challenger": {"prompt_version": -1}}, "challenger.prompt_version"),
        ({"challenger": {"temperature": 1}}, "challenger.temperature"),
        ({"challenger": "embedded"}, "challenger"),
        ({**CHALLENGER, "dry_run": "yes"}, "dry_run"),
    ],
)
def test_a_bad_comparison_is_a_400_naming_the_field(api_a, body, field):
    _failing_runs(api_a)

    response = api_a.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert field in response.json()["details"]


def test_a_project_without_failing_runs_has_nothing_to_compare(api_a):
    response = api_a.post(URL, {**CHALLENGER, "dry_run": True}, format="json")

    assert response.status_code == 400
    assert "no failing runs" in response.json()["error"]


def test_a_comparison_costing_more_than_the_balance_is_a_402_and_holds_nothing(db):
    poor = AccountFactory(name="Poor", credits=30)
    api = client_for(APIKeyFactory(project=ProjectFactory(account=poor, name="Poor")))
    _failing_runs(api)  # leaves less than the 40 credits two inputs' replays may cost
    holds = Hold.objects.count()

    response = api.post(URL, CHALLENGER, format="json")

    assert response.status_code == 402, response.content
    assert response.json()["code"] == "INSUFFICIENT_CREDITS"
    assert response.json()["required"] == 40.0
    assert Hold.objects.count() == holds
    assert not Comparison.objects.exists()


def test_another_accounts_comparison_is_not_found(
    api_a, api_b, key_a, django_capture_on_commit_callbacks
):
    _failing_runs(api_a)
    started = _start(api_a, CHALLENGER, django_capture_on_commit_callbacks).json()

    theirs = api_b.get(started["status_url"])
    unknown = api_a.get(f"{URL}/not-a-uuid")

    assert theirs.status_code == 404
    assert theirs.json()["code"] == "NOT_FOUND"
    assert unknown.status_code == 404


def test_fewer_failing_runs_than_asked_replays_those_there_are(api_a):
    _failing_runs(api_a)

    body = api_a.post(URL, {**CHALLENGER, "inputs": 50, "dry_run": True}, format="json").json()

    assert body["inputs"] == 2
    assert body["inputs_asked"] == 50


def test_the_what_if_does_not_count_an_ab_s_replays(
    api_a, key_a, django_capture_on_commit_callbacks
):
    _failing_runs(api_a)
    before = api_a.post("/railscore/v1/what-if", {}, format="json").json()["runs"]

    _start(api_a, CHALLENGER, django_capture_on_commit_callbacks)

    assert api_a.post("/railscore/v1/what-if", {}, format="json").json()["runs"] == before


def test_replays_obey_the_plan_of_today_a_mode_it_no_longer_has_is_a_403(api_a, key_a):
    response = api_a.post(
        "/railscore/v1/safe-regenerate", {"content": HIRING, "mode": "deep"}, format="json"
    )
    assert response.status_code == 200, response.content
    plan = key_a.project.account.plan
    plan.allowed_modes = ["basic"]
    plan.save(update_fields=["allowed_modes"])

    response = api_a.post(URL, {**CHALLENGER, "dry_run": True}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "INSUFFICIENT_TIER"
