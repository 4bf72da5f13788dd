"""Two fake OpenAI-compatible servers on 127.0.0.1, configured as providers alpha and beta."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from regen import engines
from tests.engine.llm.fakeserver import FakeLLM, running_fake_llm

ALPHA_KEY = "sk-alpha-server-0123456789"
BETA_KEY = "sk-beta-server-0123456789"
PRICES = {
    "alpha": {"judge-a": [1.0, 2.0]},
    "beta": {"judge-b": [0.5, 1.5], "writer-b": [3.0, 5.0]},
}


@dataclass
class Two:
    alpha: FakeLLM
    beta: FakeLLM


def provider_settings(alpha_url: str, beta_url: str) -> dict:
    fast = {"read_timeout": 2.0, "deadline": 4.0, "max_retries": 1, "backoff_base": 0.01}
    return {
        "alpha": {
            "base_url": alpha_url,
            "api_key_env": "RAIL_TEST_ALPHA_KEY",
            "models": PRICES["alpha"],
            **fast,
        },
        "beta": {
            "base_url": beta_url,
            "api_key_env": "RAIL_TEST_BETA_KEY",
            "models": PRICES["beta"],
            **fast,
        },
    }


@pytest.fixture
def two(settings, monkeypatch) -> Iterator[Two]:
    """Providers alpha (judge-a) and beta (judge-b, writer-b); the server's own engines
    stay embedded, so only a project's or a request's choice reaches them."""
    monkeypatch.setenv("RAIL_TEST_ALPHA_KEY", ALPHA_KEY)
    monkeypatch.setenv("RAIL_TEST_BETA_KEY", BETA_KEY)
    with running_fake_llm() as alpha, running_fake_llm() as beta:
        settings.RAIL_PROVIDERS = provider_settings(alpha.base_url, beta.base_url)
        settings.RAIL_LLM_BASE_URL = ""
        settings.RAIL_DEFAULT_MODEL = ""
        settings.RAIL_JUDGE_MODEL = ""
        engines.reset()
        versions = iter(range(1, 100))  # a new text each time: a repeat would stop the loop
        for fake in (alpha, beta):
            fake.rewrite = lambda text: f"{text} Version {next(versions)}."
        yield Two(alpha, beta)
    engines.reset()


@pytest.fixture
def login(client):
    def go(user):
        client.force_login(user)
        return client

    return go
