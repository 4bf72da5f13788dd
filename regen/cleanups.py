"""The periodic clean-ups, in one call: ``sweep()``.

Run by ``manage.py run_cleanups`` (``make run`` starts it beside the web server, every
minute) and by the ``railsite.sweep`` Celery beat task (start one worker with ``-B``, as
the README's production commands do). Each step is idempotent and safe to run from
several processes at once.

- runs whose task was lost are failed and their holds released (``runs.fail_stale_runs``);
- A/B comparisons whose job was lost are ended (``comparisons.fail_stale_comparisons``);
- holds nobody will close are released: a killed request's after the idempotency lease,
  a lost worker's after an hour (``ledger.release_orphaned_holds``);
- external sessions past their lifetime are marked expired;
- idempotency records past their 24 hours are deleted;
- review webhooks that failed are retried when their back-off has passed.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from billing import ledger
from regen import comparisons, idempotency, runs, webhooks
from regen.models import IdempotencyRecord, Run

logger = logging.getLogger(__name__)


def expire_sessions() -> int:
    """Mark external sessions whose lifetime has passed expired; return how many."""
    return Run.objects.filter(
        external=True, status=Run.Status.AWAITING_REGENERATION, expires_at__lt=timezone.now()
    ).update(status=Run.Status.EXPIRED)


def forget_idempotency_keys() -> int:
    """Delete idempotency records older than their 24-hour lifetime; return how many."""
    cutoff = timezone.now() - idempotency.LIFETIME
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def sweep() -> dict[str, int]:
    """Run every clean-up once; return what each did."""
    done = {
        "stale_runs_failed": runs.fail_stale_runs(),
        "stale_comparisons_ended": comparisons.fail_stale_comparisons(),
        "orphaned_holds_released": ledger.release_orphaned_holds(),
        "sessions_expired": expire_sessions(),
        "idempotency_keys_forgotten": forget_idempotency_keys(),
        "webhooks_retried": webhooks.retry_due(),
    }
    if any(done.values()):
        logger.info("clean-up: %s", done)
    return done
