"""Evaluate content (``/railscore/v1/eval``): cache, charge once, enforce the policy."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from billing import ledger
from billing.plans import check_mode_allowed
from railsite.errors import RequestValidationError, ServiceError
from regen.engine.report import eval_result
from regen.engine.requests import EvalRequest, RequestInvalid, parse_eval_request
from regen.engine.scoring import Evaluation, aggregate
from regen.engine.thresholds import ThresholdsMet, decide
from regen.engine.types import EvalContext
from regen.engines import get_evaluator, get_prices
from regen.errors import invalid_request
from regen.policy import apply_policy
from regen.runs import Caller

logger = logging.getLogger(__name__)

CACHE_SECONDS = {"basic": 300, "deep": 180}
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


def _cache_key(caller: Caller, request: EvalRequest) -> str:
    canonical = json.dumps(request.to_dict(), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"eval:{caller.account.pk}:{digest}"


def _score(request: EvalRequest, mode: str) -> tuple[Evaluation, ThresholdsMet]:
    ctx = EvalContext(
        mode="deep" if mode == "deep" else "basic",
        dimensions=request.dimensions,
        domain=request.domain,
        usecase=request.usecase,
        context=request.context,
        prompt=request.prompt,
    )
    evaluation = aggregate(get_evaluator().evaluate(request.content, ctx), request.weights)
    met = decide(
        scores=evaluation.pairs(),
        overall_score=evaluation.score,
        overall_confidence=evaluation.confidence,
        thresholds=request.thresholds,
    )
    return evaluation, met


def _needs_deep(evaluation: Evaluation, request: EvalRequest) -> bool:
    close = abs(evaluation.score - request.thresholds.overall_score) < AUTO_MARGIN
    return evaluation.confidence < AUTO_MIN_CONFIDENCE or close


def _run(request: EvalRequest) -> tuple[Evaluation, ThresholdsMet, str, bool]:
    if request.mode != "auto":
        return (*_score(request, request.mode), request.mode, False)
    evaluation, met = _score(request, "basic")
    if not _needs_deep(evaluation, request):
        return evaluation, met, "basic", False
    return (*_score(request, "deep"), "deep", True)


def evaluate_content(*, caller: Caller, request: EvalRequest) -> dict[str, Any]:
    """Score the content for the caller, charging its price unless it is cached."""
    check_mode_allowed(caller.account.plan, request.mode)
    req_id = str(uuid.uuid4())
    key = _cache_key(caller, request)
    cached = cache.get(key)
    if cached is not None:
        body = copy.deepcopy(cached)
        body["result"]["from_cache"] = True
        body["metadata"]["req_id"] = req_id
        body["credits_consumed"] = 0.0
        _enforce(caller, body)
        return body
    prices = get_prices()
    count = len(request.dimensions)
    worst = prices.evaluation("deep" if request.mode in ("deep", "auto") else "basic", count)
    hold = ledger.hold(account=caller.account, amount=worst, reference=req_id, memo="evaluation")
    try:
        evaluation, met, resolved, escalated = _run(request)
    except Exception as error:
        ledger.release(hold=hold, memo="evaluation failed")
        logger.exception("evaluation %s failed", req_id)
        raise EvaluationFailed() from error
    used: Decimal = prices.evaluation(resolved, count)
    ledger.settle(hold=hold, used=used)
    deep = resolved == "deep"
    body = {
        "result": eval_result(
            evaluation,
            met,
            explanations=request.include_explanations if request.include_explanations is not None else deep,
            issues=request.include_issues if request.include_issues is not None else deep,
            suggestions=request.include_suggestions,
            resolved_mode=resolved,
            escalated=escalated,
        ),
        "metadata": {"req_id": req_id, "mode": request.mode, "engine": evaluation.engine},
        "credits_consumed": float(used),
    }
    cache.set(key, body, CACHE_SECONDS[resolved])
    _enforce(caller, body)
    return body


def _enforce(caller: Caller, body: dict[str, Any]) -> None:
    """Block a failing evaluation when the project's policy enforces ``block``."""
    project = caller.project
    if project is None or body["result"]["thresholds_met"]["all_passed"]:
        return
    if project.enforcing and project.enforcement == project.Enforcement.BLOCK:
        raise PolicyBlocked(body)
