"""Celery tasks: ids in, one call into ``regen.runs``, nothing else."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models.signals import post_save

from regen import comparisons, runs
from regen.errors import CriticalContent, RegenerationFailed
from regen.models import Iteration


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_run_task(self: Any, run_id: str) -> None:
    """Run a submitted run; its outcome (even critical or failed) is stored on the run.

    A second delivery of a run another live executor holds (a visibility timeout shorter
    than the task) comes back when that lease would have expired, instead of running the
    run twice at once; a delivery whose lease was taken over stops without a trace.
    """
    try:
        with contextlib.suppress(CriticalContent, RegenerationFailed, runs.LeaseLost):
            runs.execute_run(run_id, progress=True)
    except runs.LeaseHeld as held:
        raise self.retry(countdown=held.retry_in, max_retries=None) from held


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_comparison_task(self: Any, comparison_id: str) -> None:
    """Replay a comparison's pairs through both arms and store its report (once).

    Safe to deliver again: each pair's runs are opened once and a finished run is not run
    again; while another live executor holds one of its runs, it comes back later.
    """
    try:
        comparisons.execute_comparison(comparison_id)
    except runs.LeaseHeld as held:
        raise self.retry(countdown=held.retry_in, max_retries=None) from held


@shared_task(name="railsite.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """Every periodic clean-up at once (regen.cleanups; beat runs it every minute)."""
    from regen.cleanups import sweep as run_sweep

    return run_sweep()


@shared_task(name="regen.fail_stale_runs", ignore_result=True)
def fail_stale_runs(older_than_minutes: int = 30) -> int:
    """Fail runs whose task was lost and release their holds (schedule every few minutes)."""
    return runs.fail_stale_runs(older_than=timedelta(minutes=older_than_minutes))


# Test hook, for tests/celery only: RAILSITE_TEST_TASK_DELAY=<seconds> in a worker's
# environment makes it pause after each stored progress iteration commits, so a test can
# watch progress and kill the worker mid-task. Unset (always, outside those tests) it
# registers nothing and costs nothing.
_TEST_TASK_DELAY = float(os.environ.get("RAILSITE_TEST_TASK_DELAY") or 0)
if _TEST_TASK_DELAY > 0:

    def _pause_after_iteration(**kwargs: object) -> None:
        transaction.on_commit(functools.partial(time.sleep, _TEST_TASK_DELAY))

    post_save.connect(_pause_after_iteration, sender=Iteration, dispatch_uid="railsite-test-delay")
