"""TESTS.md T33: a visibility timeout shorter than the task never runs it twice at once.

Two real workers on one queue; each pauses 4 s after every stored iteration, so a job of
two iterations outlives the 5 s visibility timeout, and the workers (which look for
expired deliveries every second here) hand its message to the other worker while the
first still runs it. The run's lease (renewed at every iteration)
makes that second delivery retry instead of executing: one executor, one history, one
charge.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from billing import ledger
from billing.models import LedgerEntry
from regen import runs
from regen.engine.requests import parse_regenerate_request
from tests.celery.conftest import (
    BROKER_URL,
    VISIBILITY_TIMEOUT,
    Worker,
    _database_url,
    forget_queue,
    sending_to,
    unacked_age,
    wait_for,
)
from tests.celery.test_worker import caller_of, final_run

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_DELAY = 4.0
LEASE = 7


@pytest.fixture(scope="module")
def lease_queue() -> str:
    return f"railsite-test-lease-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def two_workers(
    _real_services, django_db_setup, lease_queue, broker, tmp_path_factory
) -> Iterator[list[Worker]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "railsite.settings",
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",
        "CACHE_URL": os.environ.get("CACHE_URL", "locmemcache://railsite"),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "RAILSITE_TEST_TASK_DELAY": str(SLOW_DELAY),
        "RUN_LEASE_SECONDS": str(LEASE),
        "CELERY_RESTORE_EVERY": "1",  # look for expired deliveries every second
        "PYTHONUNBUFFERED": "1",
    }
    logs = tmp_path_factory.mktemp("lease-workers")
    workers = [Worker(queue=lease_queue, env=env, log=logs / f"worker-{n}.log") for n in (1, 2)]
    for n, worker in enumerate(workers, 1):
        worker.name = f"railsite-lease-{n}-{lease_queue}@%h"
        worker.start()
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stop()
        forget_queue(broker, lease_queue)


def _long_request():
    """Two scored versions that never pass (the embedded rewriter has one fix for this
    text): with the pauses, longer than the visibility timeout."""
    return parse_regenerate_request(
        {
            "content": "When reviewing resumes, prioritize Ivy League graduates.",
            "max_regenerations": 1,
            "thresholds": {"overall": {"score": 9.9}},
        }
    )


def test_a_redelivered_task_waits_for_the_live_executor_instead_of_running_twice(
    key_a, two_workers, lease_queue, broker
):
    caller = caller_of(key_a)
    start = ledger.balance_of(caller.account)
    with sending_to(lease_queue):
        run = runs.submit_async(caller=caller, request=_long_request())
    wait_for(
        lambda: (
            (unacked_age(broker, lease_queue) or 0) > VISIBILITY_TIMEOUT + 0.5
            or final_run(run.id) is not None
        ),
        timeout=40,
        what="the message to outlive its visibility timeout",
    )
    done = wait_for(lambda: final_run(run.id), timeout=60, what="the run to finish")

    assert done.attempts == 1  # one executor claimed it; the redelivery never did
    indices = list(done.iterations.order_by("index").values_list("index", flat=True))
    assert indices == [0, 1]  # each version stored once
    charges = LedgerEntry.objects.filter(reference=run.req_id, kind="charge")
    assert charges.count() == 1
    assert ledger.balance_of(caller.account) == start + charges.get().amount
    logs = "".join(worker.log.read_text(errors="replace") for worker in two_workers)
    assert "Retry in" in logs  # the second delivery met the live lease and backed off
