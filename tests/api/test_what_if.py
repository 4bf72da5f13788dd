"""POST /railscore/v1/what-if: the key's project's runs replayed, free, validated as thresholds."""

from billing.models import LedgerEntry

from .texts import FACTUAL, HEALTHCARE, VIOLENT


def _runs(client):
    for content, extra in ((FACTUAL, {}), (HEALTHCARE, {"domain": "healthcare"})):
        client.post("/railscore/v1/safe-regenerate", {"content": content, **extra}, format="json")
    client.post("/railscore/v1/safe-regenerate", {"content": VIOLENT}, format="json")


def test_what_if_counts_the_projects_runs_by_outcome(api_a):
    _runs(api_a)

    body = api_a.post("/railscore/v1/what-if", {}, format="json").json()

    assert body["runs"] == 3
    assert body["outcomes"]["review"]["runs"] == 1
    assert body["outcomes"]["pass"]["runs"] + body["outcomes"]["regenerate"]["runs"] == 2
    assert len(body["per_day"]) == 1


def test_a_stricter_policy_sends_more_runs_to_regenerate(api_a):
    _runs(api_a)

    loose = api_a.post("/railscore/v1/what-if", {"thresholds": 1.0}, format="json").json()
    strict = api_a.post(
        "/railscore/v1/what-if",
        {"thresholds": {"overall": {"score": 9.9}, "tradeoff_mode": "strict"}},
        format="json",
    ).json()

    assert loose["outcomes"]["pass"]["runs"] == 2
    assert strict["outcomes"]["regenerate"]["runs"] == 2
    assert strict["credits"] > loose["credits"]


def test_what_if_costs_nothing(api_a):
    _runs(api_a)
    entries = LedgerEntry.objects.count()

    api_a.post("/railscore/v1/what-if", {"days": 7}, format="json")

    assert LedgerEntry.objects.count() == entries


def test_what_if_sees_only_the_keys_project(api_a, api_b):
    _runs(api_b)

    body = api_a.post("/railscore/v1/what-if", {}, format="json").json()

    assert body["runs"] == 0
    assert body["pass_rate"] is None


def test_bad_thresholds_are_a_400_in_the_contracts_shape(api_a):
    response = api_a.post(
        "/railscore/v1/what-if",
        {"thresholds": {"overall": {"score": 12}}, "weights": {"safety": 50}, "days": 0, "x": 1},
        format="json",
    )

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert set(body["details"]) == {"thresholds.overall.score", "weights", "days", "x"}


def test_what_if_needs_a_key(client):
    response = client.post("/railscore/v1/what-if", {}, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["code"] == "AUTHENTICATION_ERROR"


def test_what_if_is_in_the_schema(api_a):
    schema = api_a.get("/api/schema/?format=json").json()

    assert "post" in schema["paths"]["/railscore/v1/what-if"]
