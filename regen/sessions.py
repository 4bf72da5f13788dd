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
from django.utils import timezone

from billing import provider_keys
from railsite.errors import RequestValidationError
from regen import runs
from regen.api.bodies import run_answer, session_answer
from regen.engine.loop import Iteration, Loop, evaluate
from regen.engine.pricing import Prices
from regen.engine.requests import CONTENT_MAX, CONTENT_MIN, RegenerateRequest
from regen.engine.types import ImprovementPrompt
from regen.engines import get_evaluator, get_prices
from regen.errors import (
    CriticalContent,
    RegenerationFailed,
    SessionBusy,
    SessionExpired,
    SessionNotFound,
)
from regen.models import Run
from regen.prompt_templates import current_template
from regen.runs import Caller, enqueue_review

SESSION_TTL = timedelta(minutes=15)
EXTERNAL_MODEL = "external"


def _prices() -> Prices:
    return dataclasses.replace(get_prices(), regeneration=Decimal(0))


def start_session(*, caller: Caller, request: RegenerateRequest) -> Run:
    """Score the original and open a session, unless it passes or is critical."""
    loop = Loop(request, prices=_prices(), template=lambda: current_template(caller.project))
    session = (f"sr_{secrets.token_urlsafe(18)}", timezone.now() + SESSION_TTL)
    run = runs.open_run(caller=caller, request=request, hold=loop.eval_price, session=session)
    return _score_and_save(run, loop, request.content, prompt=None)


def _get_for(caller: Caller, session_id: str) -> Run:
    run = Run.objects.filter(session_id=session_id, account=caller.account, external=True).first()
    if run is None:
        raise SessionNotFound()
    return run


def _check_content(content: Any) -> str:
    if (
        not isinstance(content, str)
        or not len(content.strip()) >= CONTENT_MIN
        or len(content) > CONTENT_MAX
    ):
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
        runs.expire(run)
        raise SessionExpired()
    if not runs.claim_step(run):
        raise SessionBusy()
    loop = Loop.from_state(run.session_state, prices=_prices())
    loop.template = lambda: current_template(run.project)
    prompt = ImprovementPrompt.from_dict(run.session_state["pending_prompt"])
    same_as = loop.scored_as(content)
    if same_as is not None:
        return _stop_at_repeat(run, loop, same_as)
    runs.hold_step(run, amount=loop.eval_price, memo="external session evaluation")
    return _score_and_save(run, loop, content, prompt=prompt)


def _score_and_save(run: Run, loop: Loop, content: str, *, prompt: ImprovementPrompt | None) -> Run:
    try:
        evaluation, latency = evaluate(
            get_evaluator(account=run.account, project=run.project), content, loop
        )
    except Exception as error:
        provider_keys.flush_usage()
        runs.undo_step(run, error, memo=f"session {run.session_id}: evaluation failed")
        raise RegenerationFailed(
            "The evaluation failed; the credits held for it were released.", req_id=run.req_id
        ) from error
    provider_keys.flush_usage()
    iteration = loop.record(
        content=content,
        evaluation=evaluation,
        eval_latency_ms=latency,
        rail_prompt=prompt,
        regeneration_model=EXTERNAL_MODEL if prompt else None,
    )
    critical = _critical_stop(loop, iteration) if prompt is not None else None
    with transaction.atomic():
        _apply_loop(run, loop, critical=critical)
        runs.save_step(run, iteration=iteration, used=loop.eval_price)
    return _final(run)


def _stop_at_repeat(run: Run, loop: Loop, same_as: int) -> Run:
    """End the session at a version identical to scored version ``same_as``, as the
    server's loop stops: not scored, nothing held or charged, ``no_improvement`` with
    ``metadata.stop_reason: "identical_version"``."""
    loop.stop_at_repeat(same_as=same_as, regeneration_model=EXTERNAL_MODEL)
    with transaction.atomic():
        _apply_loop(run, loop)
        runs.save_step(run)
    return run


def _final(run: Run) -> Run:
    """Answer with a session's stored result; critical content is the 422 every time."""
    if run.status == Run.Status.CRITICAL:
        raise CriticalContent(run.answer)
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
    """Apply the loop to the run (``regen.runs``), then the session's own rules: the
    prompt it waits with, and its body; a critical version ends it as the first call's 422."""
    runs.apply_loop(run, loop)
    state = loop.to_state()
    if loop.status == "awaiting_regeneration" and critical is None:
        state["pending_prompt"] = loop.next_prompt().to_dict()
    run.loop_state = state
    if critical is not None:
        run.status, run.finished_at = Run.Status.CRITICAL, timezone.now()
        enqueue_review(run, critical)
        run.response = run_answer(run, critical)
        run.response["credits_consumed"] = run.credits_breakdown["total"]  # the session's, as ever
        return
    if loop.done:
        enqueue_review(run, loop)
    run.response = session_answer(run, loop)
