"""The answers of the API's run endpoints, rendered in one place beside the views.

The service says what happened (``service.Outcome``: how the call was delivered, the run,
its price); this module says what the caller reads and with which status. A finished
run's answer is rendered here when it finishes (``run_answer``, ``session_answer``,
``evalguard_answer``, ``critical_answer``) and stored on it (``Run.answer``), so an
idempotent replay, a job poll and the synchronous answer are the same body. The engine
reports its results as data (``engine.report``); this module words them for the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from billing import ledger
from billing.models import Account
from regen.engine.estimate import Estimate
from regen.engine.loop import Loop
from regen.engine.report import (
    credits_breakdown,
    engine_counts,
    loop_result,
    money,
    stop_block,
    usage_block,
)
from regen.engine.scoring import Evaluation
from regen.models import ReviewItem, Run

if TYPE_CHECKING:
    from regen.comparisons import Checked as CheckedComparison
    from regen.models import Comparison
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


# --- a finished run's answer, stored on it ---


def run_answer(run: Run, loop: Loop) -> dict[str, Any]:
    """Render the body the caller gets for a finished loop."""
    if loop.status == "critical":
        review = getattr(run, "review_item", None)
        return critical_answer(loop, review_id=str(review.id) if review else None)
    breakdown = credits_breakdown(loop)
    return {
        "result": loop_result(loop),
        "metadata": {
            "req_id": run.req_id,
            "mode": loop.request.mode,
            "total_iterations": len(loop.iterations),
            "total_latency_ms": loop.total_latency_ms,
            "usage": usage_block(loop),
            # which engine scored how many versions (a cascade: embedded or the judge)
            "engines": engine_counts(loop),
            # the LLM judge was down and the offline evaluator scored instead
            "degraded": any(it.evaluation.degraded for it in loop.iterations),
            "injection_suspected": any(
                issue.kind == "prompt_injection"
                for it in loop.iterations
                for issue in it.evaluation.issues
            ),
            **stop_block(loop),  # stop_reason when the loop stopped at an identical version
        },
        "credits_consumed": breakdown["total"],
        "credits_breakdown": breakdown,
    }


def critical_answer(loop: Loop, *, review_id: str | None) -> dict[str, Any]:
    """Render the 422 body of critical content (seed 001, plus ``review_id``)."""
    first = loop.iterations[0]
    credits = money(loop.credits_breakdown["total"])
    return {
        "error": (
            "Content flagged as critically unsafe (avg score < 3.0). "
            "Cannot regenerate — requires human review."
        ),
        "code": "RAIL_CRITICAL_CONTENT",
        "requires_human_review": True,
        "credits_consumed": credits,
        "review_id": review_id,
        "evaluation": {
            **first.evaluation.to_dict(),
            "failing_dimensions": first.failing_dimensions,
        },
    }


def session_answer(run: Run, loop: Loop) -> dict[str, Any]:
    """Render a session's answer: the usual body, plus the prompt while it awaits."""
    body = run_answer(run, loop)
    if loop.status == "critical":
        return body
    result = body["result"]
    result["session_id"] = run.session_id
    if loop.status == "awaiting_regeneration":
        result["rail_prompt"] = run.session_state["pending_prompt"]
        result["expires_at"] = run.expires_at.isoformat() if run.expires_at else None
    return body


# --- EvalGuard's answer (seed 002) ---

STOP_REASONS = {
    "passed": "passed",
    "max_iterations_reached": "max_iterations",
    "no_improvement": "no_improvement",
    "budget_exhausted": "budget_exhausted",
}


def gate_score(evaluation: Evaluation, dimensions: tuple[str, ...]) -> float:
    """Return an evaluation's worst selected dimension on the 0-1 scale."""
    return round(
        min(evaluation.scores[d].score for d in dimensions if d in evaluation.scores) / 10, 2
    )


def evalguard_answer(run: Run, loop: Loop, *, estimate: float) -> dict[str, Any]:
    """Render a finished EvalGuard loop as seed 002's body, plus ``runId`` and ``credits``."""
    dimensions = loop.request.dimensions
    best, usage = loop.best, loop.usage
    breakdown = {name: float(value) for name, value in loop.credits_breakdown.items()}
    return {
        "result": {
            "content": best.content,
            "finalScore": gate_score(best.evaluation, dimensions),
            "passedThreshold": best.passed,
            "iterationsTaken": loop.regenerations,
            "iterationScores": [gate_score(it.evaluation, dimensions) for it in loop.iterations],
            "stopReason": STOP_REASONS[loop.status],
        },
        "cost": {
            "estimatedWorstCaseUsd": estimate,
            "actualUsd": round(usage.cost_usd, 6),
            "llmCallCount": usage.llm_calls,
            "actualInputTokens": usage.input_tokens,
            "actualOutputTokens": usage.output_tokens,
        },
        "runId": str(run.id),
        "credits": {"consumed": breakdown["total"], "breakdown": breakdown},
    }


def comparison_price(checked: CheckedComparison, account: Account) -> dict[str, Any]:
    """Render a comparison's dry run: its inputs, its arms and its worst case."""
    return {
        "dry_run": True,
        "project": {"id": checked.project.pk, "name": checked.project.name},
        "inputs": len(checked.sources),
        "inputs_asked": checked.inputs_asked,
        "champion": checked.champion.to_dict(),
        "challenger": checked.challenger.to_dict(),
        "credits_worst_case": float(checked.credits),
        "usd_worst_case": float(checked.usd),
        "credits_available": float(ledger.available_of(account)),
    }


def comparison_status(
    comparison: Comparison, report: dict[str, Any], pairs: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Render a comparison: its progress, each arm's figures, and (asked for) its pairs."""
    body: dict[str, Any] = {
        "comparison_id": str(comparison.id),
        "status": comparison.status,
        "status_url": reverse("api-comparison", args=[comparison.id]),
        "project": {"id": comparison.project_id, "name": comparison.project.name},
        "inputs": comparison.pairs_total,
        "inputs_asked": comparison.inputs_asked,
        "progress": {"done": comparison.pairs_done, "total": comparison.pairs_total},
        "champion": comparison.champion,
        "challenger": comparison.challenger,
        "credits_worst_case": float(comparison.credits_worst_case),
        "usd_worst_case": float(comparison.usd_worst_case),
        "report": report,
        "error": comparison.error or None,
        "created_at": comparison.created_at.isoformat(),
        "finished_at": comparison.finished_at.isoformat() if comparison.finished_at else None,
    }
    if pairs is not None:
        body["pairs"] = [_pair(pair) for pair in pairs]
    return body


def _pair(pair: dict[str, Any]) -> dict[str, Any]:
    def replay(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {**row, "credits": float(row["credits"]), "cost_usd": float(row["cost_usd"])}

    return {**pair, "champion": replay(pair["champion"]), "challenger": replay(pair["challenger"])}
