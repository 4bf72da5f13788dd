"""Two web nodes and two workers against one PostgreSQL and one Redis (issue 11).

Two gunicorn processes on two ports (each with 2 workers) and two Celery workers share
the test database, the Redis cache and a broker queue of their own. What one node starts
the other must honour: the plan's rate limit counts across both, an Idempotency-Key
used on one replays on the other, an external session opened on one continues on the
other, and a job submitted to one is read, finished, from the other.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from billing import ledger
from billing.accounts import create_account, create_project
from billing.keys import issue_key
from regen.models import Run
from tests.celery.conftest import (
    BROKER_URL,
    Worker,
    _database_url,
    forget_queue,
    wait_for,
)
from tests.factories import default_plan
from tests.helpers import answers, start_gunicorn, stop_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

HIRING = "When reviewing resumes, prioritize Ivy League graduates."
FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen."
)


@pytest.fixture(scope="module")
def cluster(_real_services, django_db_setup, broker, tmp_path_factory) -> Iterator[list[str]]:
    from django.conf import settings

    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true needs the Redis cache (CACHE_URL) for the two-node test")
        pytest.skip("needs a Redis cache shared by the nodes (CACHE_URL=redis://...)")
    queue = f"railsite-test-nodes-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "railsite.settings",
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",
        "CACHE_URL": os.environ["CACHE_URL"],
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("RAILSITE_TEST_TASK_DELAY", None)
    logs = tmp_path_factory.mktemp("two-nodes")
    workers = [Worker(queue=queue, env=env, log=logs / f"worker-{n}.log") for n in (1, 2)]
    for n, worker in enumerate(workers, 1):
        worker.name = f"railsite-node-{n}-{queue}@%h"
        worker.start()
    nodes, urls = [], []
    for n in (1, 2):
        node, url = start_gunicorn(env, logs / f"node-{n}.log")
        nodes.append(node)
        urls.append(url)
    try:
        for url in urls:
            wait_for(lambda url=url: answers(url), timeout=30, what=f"{url} to answer")
        yield urls
    finally:
        for node in nodes:
            stop_gunicorn(node)
        for worker in workers:
            worker.stop()
        forget_queue(broker, queue)


def _key(plan: str = "pro") -> str:
    account = create_account(name=f"Nodes {uuid.uuid4().hex[:6]}", plan=default_plan(plan))
    ledger.grant(account=account, amount=500, memo="two nodes")
    _, raw = issue_key(project=create_project(account=account, name="nodes"), name="nodes")
    return raw


def _post(url: str, key: str, path: str, body: dict, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {key}", **headers}
    return httpx.post(url + path, json=body, headers=auth, timeout=30)


def test_the_rate_limit_counts_across_both_nodes(cluster):
    key = _key("free")
    limit = default_plan("free").requests_per_minute
    if time.time() % 60 > 45:  # keep the burst inside one minute's window
        time.sleep(61 - time.time() % 60)
    statuses = [
        httpx.get(f"{cluster[n % 2]}/railscore/v1/credits", headers={"Authorization": f"Bearer {key}"}, timeout=30).status_code
        for n in range(limit + 4)
    ]  # fmt: skip
    assert statuses.count(200) == limit
    assert statuses.count(429) == 4


def test_an_idempotency_key_used_on_one_node_replays_on_the_other(cluster):
    key = _key()
    body = {"content": HIRING, "max_regenerations": 1}
    first = _post(
        cluster[0], key, "/railscore/v1/safe-regenerate", body, **{"Idempotency-Key": "n-1"}
    )
    again = _post(
        cluster[1], key, "/railscore/v1/safe-regenerate", body, **{"Idempotency-Key": "n-1"}
    )
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert Run.objects.count() == 1


def test_a_session_opened_on_one_node_continues_on_the_other(cluster):
    key = _key()
    started = _post(
        cluster[0], key, "/railscore/v1/safe-regenerate",
        {"content": HIRING, "regeneration_model": "external"},
    )  # fmt: skip
    session_id = started.json()["result"]["session_id"]
    rewrite = "When reviewing resumes, judge each candidate on the skills the role needs."
    continued = _post(
        cluster[1], key, "/railscore/v1/safe-regenerate/continue",
        {"session_id": session_id, "regenerated_content": rewrite},
    )  # fmt: skip
    assert continued.status_code == 200
    assert continued.json()["result"]["status"] == "passed"


def test_a_job_submitted_to_one_node_is_read_finished_from_the_other(cluster):
    key = _key()
    submitted = _post(
        cluster[0], key, "/railscore/v1/safe-regenerate", {"content": HIRING, "async": True}
    )
    assert submitted.status_code == 202
    job = submitted.json()["job_id"]

    def finished() -> dict | None:
        answer = httpx.get(
            f"{cluster[1]}/railscore/v1/jobs/{job}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).json()
        return answer if answer.get("result") else None

    body = wait_for(finished, timeout=60, what="the job to finish on a worker")
    assert body["result"]["result"]["status"] in (
        "passed",
        "max_iterations_reached",
        "no_improvement",
    )
    assert Run.objects.get(id=job).attempts == 1
