"""Every error leaves as JSON in the contract's shape, and bad input changes nothing."""

import re

import pytest
from django.test import Client

from billing.models import LedgerEntry
from regen.models import Run

from .texts import FACTUAL

URL = "/railscore/v1/safe-regenerate"
CODE = re.compile(r"^[A-Z][A-Z_]+$")


def _assert_envelope(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str)
    assert body["error"]
    assert CODE.match(body["code"])
    return body


def test_no_key_is_401_with_www_authenticate(client):
    response = client.post(URL, {"content": FACTUAL}, content_type="application/json")
    assert _assert_envelope(response, 401)["code"] == "AUTHENTICATION_ERROR"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_wrong_method_is_405_with_allow(api_a):
    response = api_a.get(URL)
    _assert_envelope(response, 405)
    assert "POST" in response["Allow"]


def test_an_unknown_api_path_is_a_json_404(api_a):
    _assert_envelope(api_a.get("/railscore/v1/nothing-here"), 404)


def test_a_wrong_content_type_is_415(api_a):
    _assert_envelope(
        api_a.post(URL, "content=x", content_type="application/x-www-form-urlencoded"), 415
    )


def test_malformed_json_is_400(api_a):
    _assert_envelope(api_a.post(URL, "{bad json", content_type="application/json"), 400)


def test_an_oversized_body_is_refused_before_parsing(api_a, settings):
    response = api_a.post(URL, {"content": "x" * 300_000}, format="json")
    assert _assert_envelope(response, 413)["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"content": "123456789"}, "content"),
        ({"content": "x" * 10_001}, "content"),
        ({"content": FACTUAL, "max_regenerations": 0}, "max_regenerations"),
        ({"content": FACTUAL, "max_regenerations": 6}, "max_regenerations"),
        ({"content": FACTUAL, "mode": "fast"}, "mode"),
        ({"content": FACTUAL, "context": "c" * 1001}, "context"),
        ({"content": FACTUAL, "weights": {"safety": 99.9}}, "weights"),
        ({"content": FACTUAL, "weights": {"safety": 100.1}}, "weights"),
        (
            {"content": FACTUAL, "thresholds": {"dimensions": {"honesty": 8}}},
            "thresholds.dimensions.honesty",
        ),
        (
            {"content": FACTUAL, "thresholds": {"overall": {"score": 11}}},
            "thresholds.overall.score",
        ),
        ({"content": FACTUAL, "max_regenerations": "3"}, "max_regenerations"),
        ({"content": FACTUAL, "contnet": "typo"}, "contnet"),
        ({"content": FACTUAL, "balance": 1000, "account_id": 2, "credits_consumed": 0}, "balance"),
    ],
)
def test_bad_input_is_400_with_field_details_and_changes_nothing(api_a, body, field):
    response = api_a.post(URL, body, format="json")
    details = _assert_envelope(response, 400)["details"]
    assert field in details
    assert not Run.objects.exists()
    assert not LedgerEntry.objects.filter(kind="hold").exists()


def test_content_of_exactly_ten_and_ten_thousand_characters_is_accepted(api_a):
    assert api_a.post(URL, {"content": "a" * 10}, format="json").status_code in (200, 422)
    assert (
        api_a.post(URL, {"content": ("All good here. " * 700)[:10_000]}, format="json").status_code
        == 200
    )


def test_an_internal_error_is_json_without_a_traceback(api_a, monkeypatch):
    from regen import service

    def boom(**kwargs):
        raise RuntimeError("secret detail /etc/passwd SELECT * FROM")

    monkeypatch.setattr(service, "safe_regenerate", boom)
    client = Client(raise_request_exception=False)
    response = client.post(
        URL,
        {"content": FACTUAL},
        content_type="application/json",
        HTTP_AUTHORIZATION=api_a._credentials["HTTP_AUTHORIZATION"],
    )
    body = _assert_envelope(response, 500)
    assert "secret" not in response.content.decode()
    assert "Traceback" not in body["error"]


def test_health_is_free_and_needs_no_key(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def test_config_capabilities_and_dimensions_are_free(api_a, account_a):
    from billing import ledger

    before = ledger.balance_of(account_a)
    config = api_a.get("/railscore/v1/config").json()
    assert config["application"]["organization"] == account_a.name
    assert config["policy"]["overallThreshold"] == 7.0
    assert config["enforcement"]["mode"] == "monitor"
    caps = api_a.get("/railscore/v1/capabilities").json()
    assert caps["plan"] == "pro"
    assert caps["limits"]["requests_per_minute"] == 60
    dims = api_a.get("/railscore/v1/dimensions").json()
    assert [d["key"] for d in dims["dimensions"]][:2] == ["fairness", "safety"]
    assert dims["score_bands"][0] == {"band": "Excellent", "min": 9.0}
    assert ledger.balance_of(account_a) == before
