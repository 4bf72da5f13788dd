"""Render a loop as the contract's ``result`` (seed 001 plus the seed-000 aliases)."""

from __future__ import annotations

from typing import Any

from .dimensions import DIMENSION_INFO
from .loop import Iteration, Loop
from .scoring import Evaluation
from .thresholds import ThresholdsMet


def money(value: Any) -> float:
    return float(round(value, 2))


def evaluation_block(it: Iteration, *, deep: bool) -> dict[str, Any]:
    """Render an iteration's ``rail_score``, ``dimension_scores`` and ``thresholds_met``."""
    block = it.evaluation.to_dict(explanations=deep, issues=deep)
    block["thresholds_met"] = it.thresholds_met.to_dict()
    return block


def iteration_record(it: Iteration, *, deep: bool) -> dict[str, Any]:
    return {
        "iteration": it.index,
        "content": it.content,
        "scores": it.evaluation.to_dict(explanations=deep, issues=deep),
        "thresholds_met": it.passed,
        "failing_dimensions": it.failing_dimensions,
        "improvement_from_previous": it.improvement_from_previous,
        "latency_ms": it.latency_ms,
        "rail_prompt": it.rail_prompt.to_dict() if it.rail_prompt else None,
        "regeneration_model": it.regeneration_model,
        "engine": it.evaluation.engine,
        "fidelity": it.fidelity.score,
        "fidelity_detail": it.fidelity.to_dict(),
    }


def credits_breakdown(loop: Loop) -> dict[str, float]:
    return {name: money(value) for name, value in loop.credits_breakdown.items()}


def loop_result(loop: Loop) -> dict[str, Any]:
    """Render the ``result`` object of a finished loop (or one awaiting regeneration)."""
    deep = loop.request.mode == "deep"
    best = loop.best
    result: dict[str, Any] = {
        "status": loop.status,
        "best_content": best.content,
        "best_iteration": best.index,
        "original_content": loop.request.content,
        "best_scores": {**evaluation_block(best, deep=deep), "fidelity": best.fidelity.score},
        "iteration_history": [iteration_record(it, deep=deep) for it in loop.iterations],
        # seed-000 aliases
        "content": best.content,
        "final_score": best.evaluation.score,
        "passed": best.passed,
        "iterations_taken": loop.regenerations,
    }
    if loop.status == "awaiting_regeneration":
        current = loop.iterations[-1]
        result.update(
            iteration=current.index,
            iterations_remaining=loop.request.max_regenerations - loop.regenerations,
            current_scores=evaluation_block(current, deep=deep),
        )
    return result


def stop_block(loop: Loop) -> dict[str, Any]:
    """Render why the loop stopped, for ``metadata``, when its status does not say it all.

    A loop that stopped at a regenerated version identical to one it had scored has
    status ``no_improvement``; this adds ``stop_reason: "identical_version"`` and the
    index of the scored version it repeats (``identical_to_iteration``). A loop stopped
    because its next step could not end before the request's deadline has status
    ``budget_exhausted`` and ``stop_reason: "request_deadline"``.
    """
    if loop.repeat is not None:
        return {"stop_reason": loop.stop_reason, "identical_to_iteration": loop.repeat.same_as}
    if loop.stop_reason is not None:
        return {"stop_reason": loop.stop_reason}
    return {}


def usage_block(loop: Loop) -> dict[str, Any]:
    usage = loop.usage
    return {
        "llm_calls": usage.llm_calls,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(usage.cost_usd, 6),
    }


def engine_counts(loop: Loop) -> dict[str, int]:
    """Count the versions each engine scored (``embedded``, ``llm``, ``embedded-fallback``)."""
    counts: dict[str, int] = {}
    for it in loop.iterations:
        counts[it.evaluation.engine] = counts.get(it.evaluation.engine, 0) + 1
    return counts


def suggestions_for(evaluation: Evaluation, failing: list[str]) -> list[str]:
    """Write one improvement suggestion per failing dimension, from its worst issue."""
    out = []
    for dimension in failing:
        score = evaluation.scores[dimension]
        worst = max(score.issues, key=lambda issue: issue.severity, default=None)
        name = DIMENSION_INFO[dimension].name
        if worst is not None:
            out.append(f"{name}: address this: {worst.description}.")
        else:
            out.append(f"{name}: {DIMENSION_INFO[dimension].description}")
    return out


def eval_result(
    evaluation: Evaluation,
    thresholds: ThresholdsMet,
    *,
    explanations: bool,
    issues: bool,
    suggestions: bool,
    resolved_mode: str,
    escalated: bool,
) -> dict[str, Any]:
    """Render the ``result`` of ``/railscore/v1/eval``."""
    failing = thresholds.failing_dimensions
    block = evaluation.to_dict(explanations=explanations, issues=issues)
    block.update(
        explanation=_overall_explanation(evaluation, failing),
        issues=[
            {"dimension": issue.dimension, "description": issue.description}
            for issue in evaluation.issues
        ]
        if issues
        else [],
        improvement_suggestions=suggestions_for(evaluation, failing) if suggestions else [],
        from_cache=False,
        resolved_mode=resolved_mode,
        escalated=escalated,
        thresholds_met=thresholds.to_dict(),
        failing_dimensions=failing,
    )
    return block


def _overall_explanation(evaluation: Evaluation, failing: list[str]) -> str:
    if not failing:
        return f"{evaluation.summary}. Every evaluated dimension meets its threshold."
    names = ", ".join(DIMENSION_INFO[d].name.lower() for d in failing)
    return f"{evaluation.summary}. Below threshold: {names}."
