"""The SDK's helpers, unmodified, against a live server (issue 10): ``PolicyEngine``,
``RAILMiddleware`` around a fake generate function, and the ``RAILOpenAI`` wrapper around
a real OpenAI-compatible server on 127.0.0.1 (``tests/engine/llm/fakeserver.py``).

Each helper evaluates with ``/eval`` and, under its ``regenerate`` policy, rewrites with
``/safe-regenerate``; ``block`` raises the SDK's ``RAILBlockedError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("rail_score_sdk")
pytest.importorskip("openai")

from rail_score_sdk.async_client import AsyncRAILClient  # noqa: E402
from rail_score_sdk.integrations.openai_wrapper import RAILOpenAI  # noqa: E402
from rail_score_sdk.middleware import RAILMiddleware  # noqa: E402
from rail_score_sdk.policies import PolicyEngine, RAILBlockedError  # noqa: E402

from regen.models import Run  # noqa: E402
from tests.engine.llm.fakeserver import running_fake_llm  # noqa: E402
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory, default_plan  # noqa: E402

from .texts import FACTUAL, HIRING  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = [{"role": "user", "content": "How should I screen resumes for this role?"}]


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    # a thread of its own: the browser tests' sync Playwright keeps an event loop running
    # in the main thread, where asyncio.run refuses to start another
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def key():
    account = AccountFactory(plan=default_plan("pro"), credits=500)
    return APIKeyFactory(project=ProjectFactory(account=account)).raw


def _middleware(key: str, url: str, text: str, policy: str, **kwargs: Any) -> RAILMiddleware:
    async def generate(messages: list[dict[str, str]]) -> str:
        return text

    return RAILMiddleware(api_key=key, generate_fn=generate, policy=policy, base_url=url, **kwargs)


def test_policy_engine_regenerates_a_failing_text_through_safe_regenerate(live_server, key):
    async def go():
        async with AsyncRAILClient(api_key=key, base_url=live_server.url) as client:
            evaluation = await client.eval(content=HIRING, mode="basic")
            engine = PolicyEngine(policy="regenerate", threshold=7.0)
            return evaluation, await engine.enforce(HIRING, evaluation, client)

    evaluation, result = _run(go())
    assert evaluation["rail_score"]["score"] < 7.0
    assert result.was_regenerated is True
    assert result.original_content == HIRING
    assert result.content != HIRING
    assert Run.objects.filter(kind="safe_regenerate", status="passed").count() == 1


def test_the_middleware_serves_a_passing_answer_untouched(live_server, key):
    result = _run(_middleware(key, live_server.url, FACTUAL, "block").run(messages=QUESTION))
    assert result.threshold_met is True
    assert result.content == FACTUAL
    assert result.was_regenerated is False


def test_the_middleware_blocks_a_failing_answer(live_server, key):
    with pytest.raises(RAILBlockedError) as raised:
        _run(_middleware(key, live_server.url, HIRING, "block").run(messages=QUESTION))
    assert raised.value.score < 7.0


def test_the_middleware_regenerates_a_failing_answer(live_server, key):
    result = _run(_middleware(key, live_server.url, HIRING, "regenerate").run(messages=QUESTION))
    assert result.was_regenerated is True
    assert result.content != HIRING
    assert "Ivy League graduates" not in result.content


def test_the_middleware_gates_a_harmful_question_before_generating(live_server, key):
    harmful = [{"role": "user", "content": "Those people are vermin and we should kill them all."}]
    middleware = _middleware(
        key, live_server.url, FACTUAL, "log_only", eval_input=True, input_threshold=5.0
    )
    with pytest.raises(RAILBlockedError):
        _run(middleware.run(messages=harmful))


def test_the_openai_wrapper_scores_and_regenerates_a_model_answer(live_server, key):
    with running_fake_llm(rewrite=lambda _quoted: HIRING) as fake:

        async def go():
            wrapper = RAILOpenAI(
                openai_api_key="sk-test",
                openai_base_url=fake.base_url,
                rail_api_key=key,
                rail_base_url=live_server.url,
                rail_policy="regenerate",
                rail_threshold=7.0,
            )
            return await wrapper.chat_completion(model="gpt-4o-mini", messages=QUESTION)

        response = _run(go())
        assert fake.hits == 1  # the model was asked once; RAIL did the rest
    assert response.original_content == HIRING
    assert response.was_regenerated is True
    assert response.content != HIRING
    assert response.model == "gpt-4o-mini"
