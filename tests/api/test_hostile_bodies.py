"""Bodies Python's json accepts but the service cannot keep: a 400, nothing charged (issue 11).

Before, deeply nested JSON exhausted the recursion limit (a 500); lone surrogates and NUL
characters were accepted by /eval and charged, and failed later where text is stored.
"""

import json

import pytest

from billing import ledger
from billing.models import LedgerEntry
from railsite.parsers import MAX_DEPTH, check
from regen.models import Run

CONTENT = "A perfectly ordinary answer about the weather in spring. "

ENDPOINTS = [
    "/railscore/v1/eval",
    "/railscore/v1/safe-regenerate",
    "/api/v1/evals/safe-regenerate",
]


def _post_raw(client, url, raw: str):
    return client.generic("POST", url, raw.encode("utf-8"), content_type="application/json")


def _assert_refused(response, account, before, fragment):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert fragment in body["error"]
    assert ledger.available_of(account) == before
    assert not LedgerEntry.objects.filter(account=account, kind="charge").exists()
    assert not Run.objects.exists()


@pytest.mark.parametrize("url", ENDPOINTS)
def test_deep_nesting_is_a_400_not_a_500(api_a, account_a, url):
    before = ledger.available_of(account_a)
    raw = '{"content": "' + CONTENT + '", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _assert_refused(_post_raw(api_a, url, raw), account_a, before, "nests deeper")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_lone_surrogate_is_a_400(api_a, account_a, url):
    before = ledger.available_of(account_a)
    raw = '{"content": "' + CONTENT + '\\ud800 and more"}'
    _assert_refused(_post_raw(api_a, url, raw), account_a, before, "surrogate")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_nul_character_is_a_400(api_a, account_a, url):
    before = ledger.available_of(account_a)
    raw = json.dumps({"content": CONTENT + "\x00 hidden"})
    _assert_refused(_post_raw(api_a, url, raw), account_a, before, "NUL")


def test_a_nul_in_a_key_or_a_nested_value_is_refused_too(api_a, account_a):
    before = ledger.available_of(account_a)
    raw = json.dumps({"content": CONTENT, "thresholds": {"dimensions": {"safety\x00": 8.0}}})
    _assert_refused(_post_raw(api_a, "/railscore/v1/eval", raw), account_a, before, "NUL")


def test_nan_is_not_json(api_a, account_a):
    before = ledger.available_of(account_a)
    raw = '{"content": "' + CONTENT + '", "threshold": NaN}'
    _assert_refused(_post_raw(api_a, "/railscore/v1/eval", raw), account_a, before, "NaN")


def test_nesting_up_to_the_limit_is_parsed():
    value: object = "leaf"
    for _ in range(MAX_DEPTH - 1):
        value = [value]
    check({"x": value})  # MAX_DEPTH levels: accepted
    with pytest.raises(Exception, match="nests deeper"):
        check({"x": [value]})


def test_ordinary_unicode_passes(api_a):
    response = api_a.post(
        "/railscore/v1/eval", {"content": CONTENT + "Ünïcödé, 日本語 and 🙂 emoji."}, format="json"
    )
    assert response.status_code == 200
