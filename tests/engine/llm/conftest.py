"""A fake OpenAI-compatible server per test, and clients with small, fast timeouts."""

from collections.abc import Iterator
from typing import Any

import pytest

from regen.engine.llm import LLMClient

from .fakeserver import FakeLLM, running_fake_llm

FAST = {
    "connect_timeout": 0.3,
    "read_timeout": 0.3,
    "total_deadline": 2.0,
    "max_retries": 2,
    "backoff_base": 0.05,
}


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with running_fake_llm() as fake:
        yield fake


def make_client(base_url: str, **overrides: Any) -> LLMClient:
    """Build a client for ``gpt-4o-mini`` with the test suite's small timeouts."""
    return LLMClient(base_url, "sk-test", "gpt-4o-mini", **{**FAST, **overrides})


@pytest.fixture
def client(fake_llm: FakeLLM) -> Iterator[LLMClient]:
    with make_client(fake_llm.base_url) as llm:
        yield llm
