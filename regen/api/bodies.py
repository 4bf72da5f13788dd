"""The answers of the API's run endpoints, rendered in one place beside the views.

The service says what happened (``service.Outcome``: how the call was delivered, the run,
its price); this module says what the caller reads and with which status. A finished
run's answer was rendered when it finished and is stored on it (``Run.answer``), so an
idempotent replay, a job poll and the synchronous answer are the same body.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from billing import ledger
from billing.models import Account
from regen.engine.estimate import Estimate
from regen.models import ReviewItem, Run
from regen.service import Outcome


def safe_regenerate(outcome: Outcome, account: Account) -> tuple[int, dict[str, Any]]:
    """Return the status and body of a safe-regenerate call: 202 and the job's status for
    a queued run, the price for a dry run, else the run's stored answer."""
    if outcome.delivery == "dry_run":
        return 200, dry_run(account, outcome.estimate)
    assert outcome.run is not None  # every other delivery made a run
    if outcome.delivery == "async":
        return 202, job_status(outcome.run)
    return 200, outcome.run.answer


def job_status(run: Run) -> dict[str, Any]:
    """Render an async job's state: progress per iteration, then its result."""
    iterations = list(
        run.iterations.order_by("index").values("index", "score", "passed", "failing_dimensions")
    )
    body: dict[str, Any] = {
        "job_id": str(run.id),
        "status": run.status,
        "status_url": reverse("api-job", args=[run.id]),
        "progress": {
            # counted from the rows read here: the run row was read a moment earlier, and a
            # worker may have stored another iteration in between
            "iterations_done": len(iterations),
            "max_iterations": run.max_regenerations + 1,
            "iterations": [
                {
                    "iteration": it["index"],
                    "score": it["score"],
                    "thresholds_met": it["passed"],
                    "failing_dimensions": it["failing_dimensions"],
                }
                for it in iterations
            ],
        },
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    if run.is_final:
        body["result"] = run.response
        body["error"] = run.error or None
    item = ReviewItem.objects.filter(run=run).first()
    if item is not None:  # the human decision flows back to the caller polling the job
        body["review"] = item.decision_block()
    return body


def dry_run(account: Account, estimate: Estimate) -> dict[str, Any]:
    """Report a request's worst case in credits and USD, without running or charging it."""
    available = ledger.available_of(account)
    return {
        "dry_run": True,
        "worst_case_credits": float(estimate.credits),
        "worst_case_usd": estimate.usd,
        "credits_available": float(available),
        "sufficient": available >= estimate.credits,
    }
