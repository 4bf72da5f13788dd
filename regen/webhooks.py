"""Webhooks: every review decision, every finished async job and every ended A/B is
POSTed, signed, to the project's URL, with retries.

A decision (``review.decided``), a job's end (``job.finished``, with the job's result) or
an A/B's (``comparison.finished``, with its report)
records a ``WebhookDelivery`` in the transaction that makes it, so an event is never lost
and never announced twice; the first attempt is made once the decision commits, and
the clean-up sweep (``regen.cleanups``) retries those that failed, with back-off, up to
``MAX_ATTEMPTS``. Each POST carries ``X-Railsite-Event``, ``X-Railsite-Delivery`` (the
delivery's id, stable across retries, so receivers can drop duplicates) and
``X-Railsite-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body with the
project's secret. URLs pass the same SSRF guard as the LLM endpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.models import Project
from regen.engine.llm.ssrf import UnsafeBaseURL, validate_base_url
from regen.models import Comparison, ReviewItem, Run, WebhookDelivery

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 6
BACKOFF: Final = (30, 120, 600, 1800, 3600)
"""Seconds before the 2nd, 3rd... attempt."""
TIMEOUT: Final = 5.0
EVENT: Final = "review.decided"
JOB_EVENT: Final = "job.finished"
COMPARISON_EVENT: Final = "comparison.finished"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Railsite-Signature`` of ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    """Refuse a webhook URL the server must not call (raises ``UnsafeBaseURL``)."""
    return validate_base_url(url, allow_private=False, allowlist=settings.RAIL_WEBHOOK_ALLOWLIST)


def decision_payload(item: ReviewItem) -> dict[str, Any]:
    return {
        "event": EVENT,
        "review": item.decision_block(),
        "run_id": str(item.run_id) if item.run_id else None,
        "project": item.project.slug if item.project else None,
        "decided_by": item.decided_by.get_username() if item.decided_by else None,
        "decided_by_key": f"rail_{item.decided_by_key.prefix}" if item.decided_by_key else None,
    }


def job_payload(run: Run) -> dict[str, Any]:
    """What ``job.finished`` carries: the job's id, status and result (the answer's body)."""
    return {
        "event": JOB_EVENT,
        "job_id": str(run.id),
        "status": run.status,
        "status_url": f"/railscore/v1/jobs/{run.id}",
        "project": run.project.slug if run.project else None,
        "result": run.response,
        "error": run.error or None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def comparison_payload(comparison: Comparison) -> dict[str, Any]:
    """What ``comparison.finished`` carries: the A/B's id, status and per-arm report."""
    return {
        "event": COMPARISON_EVENT,
        "comparison_id": str(comparison.id),
        "status": comparison.status,
        "status_url": f"/railscore/v1/comparisons/{comparison.id}",
        "project": comparison.project.slug,
        "champion": comparison.champion,
        "challenger": comparison.challenger,
        "report": comparison.report,
        "error": comparison.error or None,
        "finished_at": comparison.finished_at.isoformat() if comparison.finished_at else None,
    }


def announce_comparison(comparison: Comparison) -> WebhookDelivery | None:
    """Record an ended A/B's delivery (inside the transaction that ends it) and attempt it
    once that commits. None when the project has no webhook."""
    return _record(comparison.project, COMPARISON_EVENT, lambda: comparison_payload(comparison))


def announce_decision(item: ReviewItem) -> WebhookDelivery | None:
    """Record the decision's delivery (inside the caller's transaction) and attempt it once
    the transaction commits. None when the project has no webhook."""
    return _record(item.project, EVENT, lambda: decision_payload(item))


def announce_job(run: Run) -> WebhookDelivery | None:
    """Record a finished job's delivery (inside the transaction that finishes the run) and
    attempt it once that commits. None when the project has no webhook."""
    return _record(run.project, JOB_EVENT, lambda: job_payload(run))


def _record(
    project: Project | None, event: str, payload: Callable[[], dict[str, Any]]
) -> WebhookDelivery | None:
    if project is None or not project.webhook_url:
        return None
    delivery = WebhookDelivery.objects.create(
        project=project,
        event=event,
        url=project.webhook_url,
        payload=payload(),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: attempt(delivery.pk))
    return delivery


def attempt(delivery_id: Any) -> WebhookDelivery:
    """POST a pending delivery once; record the outcome and schedule a retry on failure."""
    delivery = WebhookDelivery.objects.select_related("project").get(pk=delivery_id)
    if delivery.state != WebhookDelivery.State.PENDING:
        return delivery
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "railsite-webhooks/1",
        "X-Railsite-Event": delivery.event,
        "X-Railsite-Delivery": str(delivery.pk),
        "X-Railsite-Signature": sign(delivery.project.webhook_secret, body),
    }
    status, error = None, ""
    try:
        check_url(delivery.url)
        response = httpx.post(delivery.url, content=body, headers=headers, timeout=TIMEOUT)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"the receiver answered {status}"
    except (UnsafeBaseURL, httpx.HTTPError) as exc:
        error = str(exc)[:300] or type(exc).__name__
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = status, error
    if not error:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
            WebhookDelivery.State.DELIVERED, now, None,
        )  # fmt: skip
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = WebhookDelivery.State.FAILED, None
        logger.warning("webhook delivery %s failed for good: %s", delivery.pk, error)
    else:
        wait = BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=wait)
    delivery.save()
    return delivery


def retry_due(batch: int = 100) -> int:
    """Attempt every pending delivery whose time has come; return how many were tried."""
    due = WebhookDelivery.objects.filter(
        state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now()
    ).order_by("next_attempt_at")[:batch]
    tried = 0
    for delivery_id in list(due.values_list("pk", flat=True)):
        attempt(delivery_id)
        tried += 1
    return tried
