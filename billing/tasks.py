"""Billing's periodic work: thin Celery tasks that call ``billing.ledger``."""

from datetime import timedelta

from celery import shared_task

from billing import ledger


@shared_task(name="billing.release_orphaned_holds")
def release_orphaned_holds(older_than_minutes: int = 60) -> int:
    """Release holds left open by crashed workers (schedule it every few minutes)."""
    return ledger.release_orphaned_holds(timedelta(minutes=older_than_minutes))
