"""The SDK's ``RAILSession``, unmodified, for 20 turns against a live server (issue 10).

``RAILSession`` sends its last five turns as ``context`` on every ``/eval``: past the
third turn that is far more than the seed's 1,000 characters for safe-regenerate, which
``/eval`` accepts (up to 120,000 characters).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("rail_score_sdk")

from rail_score_sdk import RAILSession  # noqa: E402

from regen.engine.requests import CONTEXT_MAX  # noqa: E402
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory, default_plan  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = (
    "Photosynthesis turns sunlight, water and carbon dioxide into glucose and oxygen. "
    "It happens in the chloroplasts of leaves, where chlorophyll captures the light. "
) * 4


def test_a_rail_session_of_20_turns_evaluates_every_turn(live_server):
    account = AccountFactory(plan=default_plan("pro"), credits=500)
    key = APIKeyFactory(project=ProjectFactory(account=account))

    async def converse() -> list:
        results = []
        async with RAILSession(api_key=key.raw, base_url=live_server.url, threshold=7.0) as session:
            for turn in range(1, 21):
                question = f"Turn {turn}: how do plants make their food, in more detail?"
                results.append(await session.evaluate_turn(question, ANSWER + f"(turn {turn})"))
            contexts = [session._build_context("next")]  # what the 21st turn would send
        return results + contexts

    # a thread of its own: the browser tests' sync Playwright keeps an event loop running
    # in the main thread, where asyncio.run refuses to start another
    with ThreadPoolExecutor(max_workers=1) as pool:
        *results, next_context = pool.submit(asyncio.run, converse()).result()

    assert len(results) == 20
    assert all(result.score >= 7.0 for result in results)
    assert len(next_context) > CONTEXT_MAX  # the context really is past the seed's limit
