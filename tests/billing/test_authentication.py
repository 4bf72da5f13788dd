"""The Bearer-key contract on every billing endpoint (T10): 401s, revocation, no URL keys."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from billing import keys

ENDPOINTS = [
    ("post", "/verify"),
    ("get", "/railscore/v1/credits"),
    ("get", "/railscore/v1/credits/ledger"),
]


def assert_401(response):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "AUTHENTICATION_ERROR"
    assert body["error"]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_a_request_without_a_key_gets_401_in_the_contract_shape(db, method, url):
    assert_401(getattr(APIClient(), method)(url))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token rail_x", "Bearer rail_nope", "rail_abc"],
)
def test_a_malformed_or_unknown_key_gets_401(key_a, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_401(client.post("/verify"))


def test_a_valid_key_is_accepted_and_marks_its_last_use(api_a, key_a):
    response = api_a.post("/verify")
    assert response.status_code == 200
    key_a.refresh_from_db()
    assert key_a.last_used_at is not None


def test_a_revoked_key_gets_401_on_its_next_request(api_a, key_a):
    assert api_a.get("/railscore/v1/credits").status_code == 200
    keys.revoke_key(key=key_a)
    assert_401(api_a.get("/railscore/v1/credits"))


@pytest.mark.parametrize("query", ["api_key={raw}", "key={raw}", "token={raw}", "q={raw}"])
def test_a_key_in_the_query_string_is_rejected(key_a, query):
    response = APIClient().get("/railscore/v1/credits?" + query.format(raw=key_a.raw))
    assert_401(response)
    assert "Authorization header" in response.json()["error"]


def test_a_key_in_the_query_string_is_rejected_even_with_a_valid_header(api_a, key_a):
    assert_401(api_a.get(f"/railscore/v1/credits/ledger?api_key={key_a.raw}"))


def test_failed_authentications_are_logged_with_the_prefix_never_the_key(key_a, caplog):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key_a.raw[:-1]}Z")
    with caplog.at_level("INFO", logger="billing.auth"):
        client.post("/verify")
    assert key_a.prefix in caplog.text
    assert key_a.raw[:-1] not in caplog.text
