"""External (client-side) regeneration sessions: the caller regenerates, we score.

A session is a ``Run`` with ``external=True`` and a ``sr_`` id. Each call scores one
version and charges one evaluation (the caller's model did the regeneration, so no
regeneration credits). Between calls the loop's state lives on the run; a continue
claims the run with a version check, so two concurrent continues never both count.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing import ledger
from billing.models import Hold
from railsite.errors import NotFound, RequestValidationError, ServiceError
from regen.engine.loop import Iteration, Loop, evaluate
from regen.engine.pricing import Prices
from regen.engine.report import credits_breakdown
from regen.engine.requests import CONTENT_MAX, CONTENT_MIN, RegenerateRequest
from regen.engine.types import ImprovementPrompt
from regen.engines import get_evaluator, get_prices
from regen.errors import CriticalContent, RegenerationFailed
from regen.models import Run
from regen.runs import Caller, enqueue_review, iteration_row, response_body

SESSION_TTL = timedelta(minutes=15)
EXTERNAL_MODEL = "external"


class SessionNotFound(NotFound):
    default_message = "Session not found."


class SessionExpired(ServiceError):
    status = 410
    code = "SESSION_EXPIRED"
    default_message = "Session expired. Please start a new safe-regenerate request."


class SessionBusy(ServiceError):
    status = 409
    code = "SESSION_BUSY"
    default_message = "Another continue call for this session is in progress; retry when it ends."


def _prices() -> Prices:
    return dataclasses.replace(get_prices(), regeneration=Decimal(0))


def _hold_one_evaluation(caller: Caller, loop: Loop, reference: str) -> Hold:
    return ledger.hold(
        account=caller.account, amount=loop.eval_price, reference=reference, memo="external session evaluation"
    )


def start_session(*, caller: Caller, request: RegenerateRequest) -> Run:
    """Score the original and open a session, unless it passes or is critical."""
    loop = Loop(request, prices=_prices())
    run = Run(
        account=caller.account,
        project=caller.project,
        api_key=caller.api_key,
        created_by=caller.user if getattr(caller.user, "pk", None) else None,
        mode=request.mode,
        domain=request.domain,
        regeneration_model=EXTERNAL_MODEL,
        external=True,
        session_id=f"sr_{secrets.token_urlsafe(18)}",
        expires_at=timezone.now() + SESSION_TTL,
        request=request.to_dict(),
        original_content=request.content,
        max_regenerations=request.max_regenerations,
        status=Run.Status.RUNNING,
        started_at=timezone.now(),
    )
    with transaction.atomic():
        run.hold = _hold_one_evaluation(caller, loop, run.req_id)
        run.save(force_insert=True)
    return _score_and_save(run, loop, request.content, prompt=None)


def _get_for(caller: Caller, session_id: str) -> Run:
    run = Run.objects.filter(session_id=session_id, account=caller.account, external=True).first()
    if run is None:
        raise SessionNotFound()
    return run


def _check_content(content: Any) -> str:
    if not isinstance(content, str) or not len(content.strip()) >= CONTENT_MIN or len(content) > CONTENT_MAX:
        message = f"Content must be between {CONTENT_MIN} and {CONTENT_MAX} characters"
        raise RequestValidationError(message, details={"regenerated_content": [message]})
    return content


def continue_session(*, caller: Caller, session_id: str, content: Any) -> Run:
    """Score the caller's regenerated version and move the session on."""
    run = _get_for(caller, session_id)
    content = _check_content(content)  # a body the schema refuses is a 400 in every state
    if run.is_final and run.status != Run.Status.EXPIRED:
        return _final(run)  # a finished session answers with its final result again
    if run.status == Run.Status.EXPIRED or (run.expires_at and run.expires_at <= timezone.now()):
        Run.objects.filter(id=run.id, status=Run.Status.AWAITING_REGENERATION).update(status=Run.Status.EXPIRED)
        raise SessionExpired()
    claimed = Run.objects.filter(
        id=run.id, version=run.version, status=Run.Status.AWAITING_REGENERATION
    ).update(status=Run.Status.RUNNING, version=F("version") + 1)
    if not claimed:
        raise SessionBusy()
    loop = Loop.from_state(run.loop_state, prices=_prices())
    prompt = ImprovementPrompt.from_dict(run.loop_state["pending_prompt"])
    same_as = loop.scored_as(content)
    if same_as is not None:
        return _stop_at_repeat(run, loop, same_as)
    try:
        with transaction.atomic():
            hold = _hold_one_evaluation(caller, loop, run.req_id)
            Run.objects.filter(id=run.id).update(hold=hold)
        run.hold = hold
    except Exception:
        Run.objects.filter(id=run.id).update(status=Run.Status.AWAITING_REGENERATION)
        raise
    return _score_and_save(run, loop, content, prompt=prompt)


def _score_and_save(run: Run, loop: Loop, content: str, *, prompt: ImprovementPrompt | None) -> Run:
    try:
        evaluation, latency = evaluate(get_evaluator(), content, loop)
    except Exception as error:
        _undo_step(run, error)
        raise RegenerationFailed("The evaluation failed; the credits held for it were released.") from error
    iteration = loop.record(
        content=content,
        evaluation=evaluation,
        eval_latency_ms=latency,
        rail_prompt=prompt,
        regeneration_model=EXTERNAL_MODEL if prompt else None,
    )
    critical = _critical_stop(loop, iteration) if prompt is not None else None
    with transaction.atomic():
        ledger.settle(hold=run.hold, used=loop.eval_price)
        iteration_row(run, iteration).save(force_insert=True)
        _apply_loop(run, loop, critical=critical)
        run.save()
    return _final(run)


def _stop_at_repeat(run: Run, loop: Loop, same_as: int) -> Run:
    """End the session at a version identical to scored version ``same_as``, as the
    server's loop stops: not scored, nothing held or charged, ``no_improvement`` with
    ``metadata.stop_reason: "identical_version"``."""
    loop.stop_at_repeat(same_as=same_as, regeneration_model=EXTERNAL_MODEL)
    with transaction.atomic():
        _apply_loop(run, loop)
        run.save()
    return run


def _final(run: Run) -> Run:
    """Answer with a session's stored result; critical content is the 422 every time."""
    if run.status == Run.Status.CRITICAL:
        raise CriticalContent(run.response)
    return run


def _critical_stop(loop: Loop, iteration: Iteration) -> Loop | None:
    """Stop the session at a critical continued version, as the first call stops at iteration 0.

    The loop stops only at a critical original (a critical regeneration of the server's own
    is never served, so it goes on); this version was written by the caller's model, which
    may serve it, so it ends the session. Return it alone, as a loop stopped at it: the
    first call's review item and 422 body are made from that loop.
    """
    if not iteration.evaluation.is_critical:
        return None
    alone = Loop(dataclasses.replace(loop.request, content=iteration.content), prices=loop.prices)
    alone.record(
        content=iteration.content,
        evaluation=iteration.evaluation,
        eval_latency_ms=iteration.eval_latency_ms,
    )
    return alone


def _apply_loop(run: Run, loop: Loop, *, critical: Loop | None = None) -> None:
    best, usage = loop.best, loop.usage
    breakdown = loop.credits_breakdown
    state = loop.to_state()
    if loop.status == "awaiting_regeneration" and critical is None:
        state["pending_prompt"] = loop.next_prompt().to_dict()
    run.loop_state = state
    run.status = loop.status if critical is None else Run.Status.CRITICAL
    run.best_content, run.best_iteration, run.best_score = best.content, best.index, best.evaluation.score
    run.iterations_done = len(loop.iterations)
    run.credits_consumed = breakdown["total"]
    run.cost_usd = Decimal(str(round(usage.cost_usd, 6)))
    run.total_latency_ms = loop.total_latency_ms
    if critical is not None:
        run.finished_at = timezone.now()
        enqueue_review(run, critical)
        run.response = response_body(run, critical)
        run.credits_breakdown = credits_breakdown(loop)
        run.response["credits_consumed"] = run.credits_breakdown["total"]  # the session's, as ever
        return
    if loop.done:
        run.finished_at = timezone.now()
        enqueue_review(run, loop)
    run.response = session_body(run, loop)
    run.credits_breakdown = run.response.get("credits_breakdown", {})


def session_body(run: Run, loop: Loop) -> dict[str, Any]:
    """Render a session's answer: the usual body, plus the prompt while it awaits."""
    body = response_body(run, loop)
    if loop.status == "critical":
        return body
    result = body["result"]
    result["session_id"] = run.session_id
    if loop.status == "awaiting_regeneration":
        result["rail_prompt"] = run.loop_state["pending_prompt"]
        result["expires_at"] = run.expires_at.isoformat() if run.expires_at else None
    return body


def _undo_step(run: Run, error: Exception) -> None:
    with transaction.atomic():
        ledger.release(hold=run.hold, memo=f"session {run.session_id}: evaluation failed")
        status = Run.Status.AWAITING_REGENERATION if run.iterations_done else Run.Status.FAILED
        Run.objects.filter(id=run.id).update(status=status, error=str(error)[:2000])


def loop_of(run: Run) -> Loop:
    """Rebuild a session's loop (for rendering and tests)."""
    return Loop.from_state(run.loop_state, prices=_prices())

