"""Evaluate content (``/railscore/v1/eval``): cache, charge once, enforce the policy."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from billing import ledger, provider_keys
from billing.plans import check_mode_allowed
from railsite.errors import RequestValidationError, ServiceError
from regen import evalcache
from regen.engine.report import eval_result
from regen.engine.requests import CONTEXT_MAX, EvalRequest, RequestInvalid, parse_eval_request
from regen.engine.scoring import Evaluation, aggregate
from regen.engine.thresholds import ThresholdsMet, decide
from regen.engine.types import EvalContext
from regen.engines import get_evaluator, get_prices
from regen.errors import invalid_request
from regen.policy import apply_policy
from regen.runs import Caller

logger = logging.getLogger(__name__)

AUTO_MIN_CONFIDENCE = 0.6
AUTO_MARGIN = 1.0


class EvaluationFailed(ServiceError):
    status = 500
    code = "EVALUATION_FAILED"
    default_message = "The evaluation failed; no credits were charged."


class PolicyBlocked(ServiceError):
    status = 422
    code = "POLICY_BLOCKED"

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("The content fails the project's policy and was blocked.")
        self._body = body

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self._body}


def parse_for(caller: Caller, data: Mapping[str, Any]) -> EvalRequest:
    """Apply the project's policy to ``data`` and validate it."""
    if not isinstance(data, Mapping):
        raise RequestValidationError("The body must be a JSON object.")
    try:
        return parse_eval_request(apply_policy(data, caller.project, for_regenerate=False))
    except RequestInvalid as error:
        raise invalid_request(error) from error


def _score(request: EvalRequest, mode: str, caller: Caller) -> tuple[Evaluation, ThresholdsMet]:
    ctx = EvalContext(
        mode="deep" if mode == "deep" else "basic",
        dimensions=request.dimensions,
        domain=request.domain,
        usecase=request.usecase,
        context=request.context,
        prompt=request.prompt,
        threshold=request.thresholds.overall_score,
        dimension_thresholds=tuple(request.thresholds.dimensions.items()),
    )
    evaluator = get_evaluator(account=caller.account, project=caller.project)
    evaluation = aggregate(evaluator.evaluate(request.content, ctx), request.weights)
    met = decide(
        scores=evaluation.pairs(),
        overall_score=evaluation.score,
        overall_confidence=evaluation.confidence,
        thresholds=request.thresholds,
        degraded=evaluation.degraded,
    )
    return evaluation, met


def _needs_deep(evaluation: Evaluation, request: EvalRequest) -> bool:
    """Say whether a basic result is unsure: low confidence, or close to the threshold."""
    # Rounded, so that 7.2 against 8.2 is 1.0 apart as shown, not 0.9999999999999991.
    distance = round(abs(evaluation.score - request.thresholds.overall_score), 6)
    close = distance < AUTO_MARGIN
    return evaluation.confidence < AUTO_MIN_CONFIDENCE or close


def _run(request: EvalRequest, caller: Caller) -> tuple[Evaluation, ThresholdsMet, str, bool]:
    if request.mode != "auto":
        return (*_score(request, request.mode, caller), request.mode, False)
    evaluation, met = _score(request, "basic", caller)
    if not _needs_deep(evaluation, request):
        return evaluation, met, "basic", False
    return (*_score(request, "deep", caller), "deep", True)


def _engines_key(caller: Caller) -> str:
    """What the cache must tell apart: a project's own evaluator and judge."""
    project = caller.project
    if project is None or not project.evaluator:
        return ""
    return f"|{project.evaluator}|{project.judge_model}"


def worst_case(request: EvalRequest) -> Decimal:
    """Price an evaluation at its worst (``auto`` may escalate to deep): what is held."""
    mode = "deep" if request.mode in ("deep", "auto") else "basic"
    return get_prices().evaluation(mode, len(request.dimensions))


def evaluate_content(*, caller: Caller, request: EvalRequest) -> dict[str, Any]:
    """Score the content for the caller, charging its price unless it is cached."""
    check_mode_allowed(caller.account.plan, request.mode)
    req_id = str(uuid.uuid4())
    engines = _engines_key(caller)
    cached = evalcache.get(
        account_id=caller.account.pk, request=request, req_id=req_id, engines=engines
    )
    if cached is not None:
        return _enforce(caller, request, cached)
    prices = get_prices()
    count = len(request.dimensions)
    hold = ledger.hold(
        account=caller.account,
        amount=worst_case(request),
        reference=req_id,
        memo="evaluation",
        request_bound=True,
        api_key=caller.api_key,
    )
    try:
        evaluation, met, resolved, escalated = _run(request, caller)
    except Exception as error:
        provider_keys.flush_usage()
        ledger.release(hold=hold, memo="evaluation failed")
        logger.exception("evaluation %s failed", req_id)
        raise EvaluationFailed() from error
    provider_keys.flush_usage()
    used: Decimal = prices.evaluation(resolved, count)
    ledger.settle(hold=hold, used=used)
    deep = resolved == "deep"
    body = {
        "result": eval_result(
            evaluation,
            met,
            explanations=request.include_explanations
            if request.include_explanations is not None
            else deep,
            issues=request.include_issues if request.include_issues is not None else deep,
            suggestions=request.include_suggestions,
            resolved_mode=resolved,
            escalated=escalated,
        ),
        "metadata": {
            "req_id": req_id,
            "mode": request.mode,
            "engine": evaluation.engine,
            "degraded": evaluation.degraded,
        },
        "credits_consumed": float(used),
    }
    evalcache.put(
        account_id=caller.account.pk,
        request=request,
        body=body,
        resolved_mode=resolved,
        engines=engines,
    )
    return _enforce(caller, request, body, evaluation)


def policy_outcome(caller: Caller, request: EvalRequest, body: dict[str, Any]) -> dict[str, Any]:
    """Say what the project's policy makes of this evaluation (RAIL's applications).

    ``enforcement`` is the project's (``log_only`` without a project); ``enforced`` is
    true only when the project enforces (not ``monitor``) and the text fails; in monitor
    mode ``would_enforce`` still says what enforcing would have done. What an enforced
    ``block`` or ``regenerate`` then does is ``_enforce``'s.
    """
    project = caller.project
    passed = bool(body["result"]["thresholds_met"]["all_passed"])
    enforcement = project.enforcement if project is not None else "log_only"
    acts = not passed and enforcement != "log_only"
    return {
        "enforcement": enforcement,
        "mode": project.enforcement_mode if project is not None else "monitor",
        "threshold": request.thresholds.overall_score,
        "score": body["result"]["rail_score"]["score"],
        "passed": passed,
        "would_enforce": acts,
        "enforced": acts and project is not None and project.enforcing,
    }


def _enforce(
    caller: Caller,
    request: EvalRequest,
    body: dict[str, Any],
    evaluation: Evaluation | None = None,
) -> dict[str, Any]:
    """Add the policy outcome (not cached: the policy may change) and act on it when the
    project enforces: ``block`` answers 422, ``regenerate`` runs safe regeneration."""
    outcome = policy_outcome(caller, request, body)
    body = {**body, "policy_outcome": outcome}
    if outcome["enforced"] and outcome["enforcement"] == "block":
        raise PolicyBlocked(body)
    if outcome["enforced"] and outcome["enforcement"] == "regenerate":
        return _regenerate(caller, request, body, evaluation)
    return body


_FALLBACK_ACTION = {"log": "served_best", "block": "blocked", "human_review": "sent_to_review"}


def _regenerate(
    caller: Caller, request: EvalRequest, body: dict[str, Any], evaluation: Evaluation | None
) -> dict[str, Any]:
    """Route a failing evaluation through safe regeneration, then apply the fallback.

    The run is an ordinary synchronous safe-regenerate run (same check and do as the API,
    the project's ``regenerate_max_attempts``; none when ``regenerate_enabled`` is off, so
    the fallback applies to the original at once). The original's evaluation, just charged
    here, is its iteration 0 and is not charged again; only a cached answer is scored anew.
    A run that does not pass falls back by the project's ``regenerate_fallback``: ``log``
    serves the best version, ``block`` answers 422 ``POLICY_BLOCKED``, ``human_review``
    queues it. Critical content answers 422 ``RAIL_CRITICAL_CONTENT`` with its review item.
    """
    from regen import service  # the run machinery, which a plain evaluation does not need

    project = caller.project
    assert project is not None  # enforced implies a project
    resolved = body["result"].get("resolved_mode") or request.mode
    data: dict[str, Any] = {
        "content": request.content,
        "mode": resolved,
        "thresholds": request.thresholds.to_dict(),
        "dimensions": list(request.dimensions),
        "weights": dict(request.weights) or None,
        "domain": request.domain,
        "prompt": request.prompt,
        # safe regeneration takes the seed's 1,000 characters: the conversation's end
        "context": request.context[-CONTEXT_MAX:],
    }
    outcome = dict(body["policy_outcome"])
    try:
        checked = service.check_safe_regenerate(caller, data)
    except ServiceError as error:  # e.g. the plan allows fewer regenerations than the policy
        outcome.update(action="not_regenerated", regeneration={"error": error.message})
        return {**body, "policy_outcome": outcome}
    if not project.regenerate_enabled:
        checked = replace(checked, request=replace(checked.request, max_regenerations=0))
    checked = replace(checked, original=evaluation)
    run = service.do_safe_regenerate(caller, checked).run
    assert run is not None  # run synchronously, here and now
    answer = run.answer
    result = answer["result"]
    passed = result["status"] == "passed"
    fallback = project.regenerate_fallback
    outcome["regeneration"] = {
        "req_id": run.req_id,
        "status": result["status"],
        "best_content": result["best_content"],
        "best_score": result["best_scores"]["rail_score"]["score"],
        "iterations_taken": result["iterations_taken"],
        "credits_consumed": answer["credits_consumed"],
    }
    outcome["action"] = "regenerated" if passed else _FALLBACK_ACTION[fallback]
    review = getattr(run, "review_item", None) if not passed else None
    if review is not None:
        outcome["review_id"] = str(review.id)
    body = {**body, "policy_outcome": outcome}
    if not passed and fallback == "block":
        raise PolicyBlocked(body)
    return body
