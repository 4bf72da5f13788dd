"""Celery tasks: ids in, one call into ``regen.runs``, nothing else."""

from __future__ import annotations

import contextlib

from celery import shared_task

from regen import runs
from regen.errors import CriticalContent, RegenerationFailed


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_run_task(run_id: str) -> None:
    """Run a submitted run; its outcome (even critical or failed) is stored on the run."""
    with contextlib.suppress(CriticalContent, RegenerationFailed):
        runs.execute_run(run_id, progress=True)
