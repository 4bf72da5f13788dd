"""Run a safe-regenerate request end to end and store it: the only writer of runs.

Every write of a ``Run`` or an ``Iteration`` is decided here: open (with its hold), claim,
store an iteration, apply a loop, finish, fail, cancel while queued, expire, fail stale,
and the steps of an external session (``regen.sessions`` keeps only the session's own
rules and calls these). One write is carried out elsewhere on this module's behalf: a
finished offline run and its iterations, built here, are inserted by
``ledger.hold_settled`` in the statement that charges them (``_store_offline``). The API
views, the dashboard and the Celery tasks call ``run_safe_regenerate`` (hold, run, settle
in one call), or ``submit_run`` followed by ``execute_run`` on a worker. Credits are held
before any work that calls out (a model, a network), settled with what was used when it
ends, and released if it fails, so nothing is charged twice or lost; a synchronous loop
on offline engines runs first and is held, stored and settled at once (one statement on
PostgreSQL).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billing import ledger, provider_keys
from billing.models import Account, APIKey, Project
from regen import prompt_templates, webhooks
from regen.api.bodies import run_answer
from regen.engine import deadline as request_deadline
from regen.engine.estimate import Estimate
from regen.engine.loop import Iteration as LoopIteration
from regen.engine.loop import Loop, run_loop
from regen.engine.report import credits_breakdown
from regen.engine.requests import RegenerateRequest
from regen.engine.scoring import Evaluation
from regen.engine.types import Evaluator, Regenerator, is_offline
from regen.engines import EXTERNAL, get_evaluator, get_prices, get_regenerator, price
from regen.errors import CriticalContent, QueueUnavailable, RegenerationFailed
from regen.models import Iteration, ReviewItem, Run
from regen.whatif import first_columns

logger = logging.getLogger(__name__)

Render = Callable[[Run, Loop], dict[str, Any]]
"""Writes the answer stored on a finished run (and returned to its caller)."""

MAX_ATTEMPTS = 3
"""A run whose task was delivered this many times without finishing is failed."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the account that pays, and the project, key or user behind the call."""

    account: Account
    project: Project | None = None
    api_key: APIKey | None = None
    user: Any = None


def _new_run(
    *,
    caller: Caller,
    request: RegenerateRequest,
    kind: str,
    running: bool,
    session: tuple[str, datetime] | None = None,
    prompt_version: int | None = None,
) -> Run:
    """A run of ``request`` for ``caller``, not stored yet. ``prompt_version`` pins the
    prompt template version it regenerates with (an A/B arm's; None: the project's
    current one when it runs)."""
    running = running or session is not None
    run = Run(
        account=caller.account,
        project=caller.project,
        api_key=caller.api_key,
        created_by=caller.user if getattr(caller.user, "pk", None) else None,
        kind=kind,
        mode=request.mode,
        domain=request.domain,
        regeneration_model=EXTERNAL if session else request.regeneration_model,
        request=request.to_dict(),
        original_content=request.content,
        max_regenerations=request.max_regenerations,
        prompt_version=prompt_version,
        status=Run.Status.RUNNING if running else Run.Status.QUEUED,
        attempts=1 if running and session is None else 0,
        started_at=timezone.now() if running else None,
    )
    if session is not None:
        run.external, (run.session_id, run.expires_at) = True, session
    return run


def _hold(run: Run, amount: Decimal, *, memo: str, flush: bool = True) -> None:
    """Hold ``amount`` for ``run`` on its account and key (in the caller's transaction), or
    raise InsufficientCredits / KeyBudgetExceeded and hold nothing."""
    run.hold = ledger.hold(
        account=run.account,
        amount=amount,
        reference=run.req_id,
        memo=memo,
        api_key=run.api_key,
        flush=flush,
    )


def open_run(
    *,
    caller: Caller,
    request: RegenerateRequest,
    hold: Decimal,
    kind: str = Run.Kind.SAFE_REGENERATE,
    running: bool = False,
    session: tuple[str, datetime] | None = None,
    prompt_version: int | None = None,
) -> Run:
    """Store a new run with ``hold`` credits held for it, in one transaction.

    ``session`` (its id and expiry) opens an external session: the caller regenerates,
    so the run names the ``external`` model and is running from the start.
    ``prompt_version`` pins the prompt template version it regenerates with (an A/B
    arm's; None: the project's current one when it runs).
    """
    run = _new_run(
        caller=caller,
        request=request,
        kind=kind,
        running=running,
        session=session,
        prompt_version=prompt_version,
    )
    if session is None:
        run.credits_held = hold
    memo = "external session evaluation" if session else f"{kind} worst case"
    # A run this request executes at once is settled or failed by a later, flushed commit
    # of this same request, which makes this one durable too (ledger.hold's ``flush``);
    # a queued run or a session is answered now, so its opening must reach the disk.
    in_this_request = running and session is None
    with transaction.atomic():
        _hold(run, hold, memo=memo, flush=not in_this_request)
        run.save(force_insert=True)
    return run


def submit_run(
    *,
    caller: Caller,
    request: RegenerateRequest,
    kind: str = Run.Kind.SAFE_REGENERATE,
    running: bool = False,
    priced: Estimate | None = None,
    prompt_version: int | None = None,
) -> Run:
    """Hold the worst case and store the run, queued (or already running, for this
    process to run at once); raise InsufficientCredits if the balance is short."""
    worst = (
        priced or price(request, account=caller.account, project=caller.project)
    ).credits  # an unknown model is a 400, before any hold
    return open_run(
        caller=caller,
        request=request,
        hold=worst,
        kind=kind,
        running=running,
        prompt_version=prompt_version,
    )


class LeaseHeld(Exception):
    """Another executor holds the run's lease and is alive: come back in ``retry_in`` s."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"the run is leased for another {retry_in:.0f} s")
        self.retry_in = retry_in


class LeaseLost(Exception):
    """This executor's lease was taken over (it was presumed dead): stop, store nothing."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.RUN_LEASE_SECONDS)


def _claim(run_id: Any) -> Run | None:
    """Take a queued run, or a running one whose executor's lease expired, for this executor.

    One conditional UPDATE: of two deliveries of one run (a redelivery after a visibility
    timeout shorter than the task, or a crashed worker's), only one holds the lease at a
    time; the other gets ``LeaseHeld`` while the holder is alive (it renews the lease at
    every stored iteration) and takes the run over once the lease has expired. Returns
    None for a run that is final or out of attempts.
    """
    now = timezone.now()
    token = uuid.uuid4()
    free = Q(status=Run.Status.QUEUED) | Q(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now), status=Run.Status.RUNNING
    )
    claimed = Run.objects.filter(free, id=run_id, attempts__lt=MAX_ATTEMPTS).update(
        status=Run.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        lease_token=token,
        lease_expires_at=now + _lease(),
    )
    if not claimed:
        current = Run.objects.filter(id=run_id).values("status", "lease_expires_at").first()
        expires = current["lease_expires_at"] if current else None
        if current and current["status"] == Run.Status.RUNNING and expires and expires >= now:
            raise LeaseHeld((expires - now).total_seconds() + 1)
        return None
    run = Run.objects.select_related("hold", "account").get(id=run_id)
    run.iterations.all().delete()  # a re-delivered run starts again from iteration 0
    return run


def _renew(run: Run) -> None:
    """Extend this executor's lease, or raise LeaseLost if another executor took it."""
    renewed = Run.objects.filter(id=run.id, lease_token=run.lease_token).update(
        lease_expires_at=timezone.now() + _lease()
    )
    if not renewed:
        raise LeaseLost(f"run {run.id} was taken over by another executor")


def execute_run(run_id: Any, *, progress: bool = False) -> Run:
    """Run a submitted run's loop to its end, store it, and settle its credits.

    Raises ``LeaseHeld`` while another live executor holds the run (the task retries).
    """
    run = _claim(run_id)
    if run is None:
        run = Run.objects.get(id=run_id)
        if not run.is_final and run.attempts >= MAX_ATTEMPTS:
            fail_run(run, "gave up after repeated worker failures")
        return Run.objects.get(id=run_id)
    return _execute(run, progress=progress)


def _execute(
    run: Run,
    *,
    progress: bool,
    render: Render | None = None,
    keep_history: bool = True,
    priced: Estimate | None = None,
    request: RegenerateRequest | None = None,
    original: Evaluation | None = None,
) -> Run:
    """Run the loop of a run this process owns, then store and settle it (or fail it).

    ``request`` is the parsed request when this process has it (a worker reads it back
    from the run); the budget stop reads ``priced``, the estimate the hold was made from
    (on a worker, made again the same way from the stored request); ``original`` is the
    original's evaluation when it was already scored and charged (see ``run_loop``)."""
    request = request or RegenerateRequest.from_dict(run.request)
    on_iteration = (lambda loop, it: _store_progress(run, it)) if progress else None
    try:
        loop = run_loop(
            request,
            evaluator=get_evaluator(account=run.account, project=run.project),
            regenerator=get_regenerator(
                request.regeneration_model, account=run.account, project=run.project
            ),
            prices=get_prices(),
            on_iteration=on_iteration,
            priced=priced or price(request, account=run.account, project=run.project),
            original=original,
            deadline=request_deadline.current(),  # None on a worker
            template=lambda: prompt_templates.template_for(run),
        )
    except LeaseLost:
        raise  # another executor owns the run now: it stores and settles it
    except Exception as error:
        provider_keys.flush_usage()
        logger.exception("run %s failed", run.id)
        fail_run(run, str(error) or type(error).__name__)
        raise RegenerationFailed(req_id=run.req_id) from error
    provider_keys.flush_usage()
    return finish_run(run, loop, stored=progress, render=render, keep_history=keep_history)


def run_safe_regenerate(
    *,
    caller: Caller,
    request: RegenerateRequest,
    kind: str = Run.Kind.SAFE_REGENERATE,
    render: Render | None = None,
    keep_history: bool = True,
    priced: Estimate | None = None,
    original: Evaluation | None = None,
) -> Run:
    """Hold, run the whole loop, store and settle, in one call (the synchronous API);
    offline engines run first, then hold, store and settle at once (``_run_offline``).

    ``render`` writes the stored answer (the RAIL body by default); without
    ``keep_history`` the iterations keep their scores but not their texts or prompts;
    ``original`` is the original's evaluation when the caller already charged for it.
    """
    priced = priced or price(request, account=caller.account, project=caller.project)
    evaluator = get_evaluator(account=caller.account, project=caller.project)
    regenerator = get_regenerator(
        request.regeneration_model, account=caller.account, project=caller.project
    )
    if is_offline(evaluator) and is_offline(regenerator):
        return _run_offline(
            caller=caller,
            request=request,
            kind=kind,
            engines=(evaluator, regenerator),
            render=render,
            keep_history=keep_history,
            priced=priced,
            original=original,
        )
    run = submit_run(caller=caller, request=request, kind=kind, running=True, priced=priced)
    return _execute(
        run,
        progress=False,
        render=render,
        keep_history=keep_history,
        priced=priced,
        request=request,
        original=original,
    )


def _run_offline(
    *,
    caller: Caller,
    request: RegenerateRequest,
    kind: str,
    engines: tuple[Evaluator, Regenerator],
    render: Render | None,
    keep_history: bool,
    priced: Estimate,
    original: Evaluation | None,
) -> Run:
    """Run a loop whose engines are offline first, then hold, store and settle it at once.

    Offline engines call nothing outside this process and take milliseconds, so nothing
    is held while they work: the hold (which may still refuse, InsufficientCredits or
    KeyBudgetExceeded, and then nothing is stored) is taken in the one transaction that
    stores the finished run and settles it. A process that dies during the work leaves
    nothing behind: nothing was stored, held or charged, and nobody got an answer.
    """
    run = _new_run(caller=caller, request=request, kind=kind, running=True)
    evaluator, regenerator = engines
    try:
        loop = run_loop(
            request,
            evaluator=evaluator,
            regenerator=regenerator,
            prices=get_prices(),
            priced=priced,
            original=original,
            deadline=request_deadline.current(),
            template=lambda: prompt_templates.template_for(run),
        )
    except Exception as error:
        logger.exception("run %s failed", run.id)
        run.status, run.error, run.finished_at = (
            Run.Status.FAILED,
            (str(error) or type(error).__name__)[:2000],
            timezone.now(),
        )
        run.save(force_insert=True)  # nothing was held for it
        raise RegenerationFailed(req_id=run.req_id) from error
    return finish_run(run, loop, render=render, keep_history=keep_history, opening=priced.credits)


def iteration_row(run: Run, it: LoopIteration, *, keep_history: bool = True) -> Iteration:
    return Iteration(
        run=run,
        index=it.index,
        content=it.content if keep_history else "",
        score=it.evaluation.score,
        confidence=it.evaluation.confidence,
        evaluation=it.evaluation.to_state(),
        thresholds_met=it.thresholds_met.to_dict(),
        passed=it.passed,
        failing_dimensions=it.failing_dimensions,
        improvement_from_previous=it.improvement_from_previous,
        rail_prompt=it.rail_prompt.to_dict() if it.rail_prompt and keep_history else None,
        prompt_version=it.rail_prompt.template_version if it.rail_prompt else None,
        regeneration_model=it.regeneration_model or "",
        eval_latency_ms=it.eval_latency_ms,
        regen_latency_ms=it.regen_latency_ms,
        credits=it.credits,
        cost_usd=Decimal(str(round(it.usage.cost_usd, 6))),
        fidelity=it.fidelity.score,
        fidelity_detail=it.fidelity.to_dict(),
    )


def _store_progress(run: Run, it: LoopIteration) -> None:
    """Store one iteration as it arrives, so pages and job status can show progress, and
    renew the executor's lease (or stop, storing nothing, if it was taken over)."""
    with transaction.atomic():
        if run.lease_token is not None:
            _renew(run)
        store_iteration(run, it)
        Run.objects.filter(id=run.id).update(iterations_done=it.index + 1)


def store_iteration(run: Run, it: LoopIteration) -> None:
    """Store one scored version of a run (a server loop's or a session's)."""
    iteration_row(run, it).save(force_insert=True)


def apply_loop(run: Run, loop: Loop) -> None:
    """Copy a loop's outcome onto its run (saved by the caller, in its transaction)."""
    breakdown, usage, best = loop.credits_breakdown, loop.usage, loop.best
    run.status = loop.status
    run.best_content, run.best_iteration, run.best_score = (
        best.content,
        best.index,
        best.evaluation.score,
    )
    run.iterations_done = len(loop.iterations)
    run.credits_consumed = breakdown["total"]
    run.credits_breakdown = credits_breakdown(loop)
    run.cost_usd = Decimal(str(round(usage.cost_usd, 6)))
    run.llm_calls, run.input_tokens, run.output_tokens = (
        usage.llm_calls,
        usage.input_tokens,
        usage.output_tokens,
    )
    run.total_latency_ms = loop.total_latency_ms
    for column, value in first_columns(loop.iterations[0].evaluation).items():
        setattr(run, column, value)  # iteration 0, flattened for the threshold what-if
    if loop.done:
        run.finished_at = timezone.now()


def enqueue_review(run: Run, loop: Loop) -> ReviewItem | None:
    critical = loop.status == "critical"
    if not critical and (loop.status == "passed" or loop.request.on_failure != "human_review"):
        return None
    shown = loop.iterations[0] if critical else loop.best
    item, _ = ReviewItem.objects.get_or_create(
        run=run,
        defaults={
            "account": run.account,
            "project": run.project,
            "api_key": run.api_key,
            "reason": ReviewItem.Reason.CRITICAL if critical else ReviewItem.Reason.ON_FAILURE,
            "content": shown.content,
            "score": shown.evaluation.score,
            "evaluation": shown.evaluation.to_state(),
            "failing_dimensions": shown.failing_dimensions,
        },
    )
    return item


def finish_run(
    run: Run,
    loop: Loop,
    *,
    stored: bool = False,
    render: Render | None = None,
    keep_history: bool = True,
    opening: Decimal | None = None,
) -> Run:
    """Store a finished loop and settle the hold with what it used, in one transaction.

    A leased run (a worker's) is finished only by the executor that still holds its lease:
    a presumed-dead executor that comes back late raises ``LeaseLost`` and changes nothing.
    ``opening`` (the worst case to hold) is for a run not stored yet (an offline loop, see
    ``_run_offline``): it is held and stored in the same transaction.
    """
    critical = loop.status == "critical"
    answer = render if render and not critical else run_answer
    with transaction.atomic():
        if opening is not None:  # a critical answer names its review item, rendered below
            _store_offline(run, loop, opening, None if critical else answer, keep_history)
        else:
            if run.lease_token is not None:
                owned = Run.objects.select_for_update().filter(
                    id=run.id, lease_token=run.lease_token
                )
                if not owned.exists():
                    raise LeaseLost(f"run {run.id} was taken over by another executor")
            apply_loop(run, loop)
            if not stored:
                Iteration.objects.bulk_create(
                    [iteration_row(run, it, keep_history=keep_history) for it in loop.iterations]
                )
        enqueue_review(run, loop)
        body: dict[str, Any] = run.response or {}
        if opening is None or critical:
            body = run.response = answer(run, loop)
            if opening is None:
                run.save()
            else:
                run.save(update_fields=["response"])
        if run.lease_token is not None and run.kind != Run.Kind.COMPARISON:
            webhooks.announce_job(run)  # an async job, run by a worker: tell its project
        # last, just before the commit: the account's row lock is held as briefly as it can
        if run.hold is not None and opening is None:
            ledger.settle(hold=run.hold, used=loop.credits_breakdown["total"])
    if run.status == Run.Status.CRITICAL:
        raise CriticalContent(body)
    return run


def _store_offline(
    run: Run, loop: Loop, opening: Decimal, answer: Render | None, keep_history: bool
) -> None:
    """Hold ``opening`` for a finished offline loop, settle it, and insert the run (with
    its answer, when ``answer`` renders one) and its iterations, all or nothing: on
    PostgreSQL one statement (``ledger.hold_settled``). Raises InsufficientCredits or
    KeyBudgetExceeded, storing nothing, when the worst case was not available."""
    apply_loop(run, loop)
    run.credits_held = opening
    run.response = answer(run, loop) if answer else {}
    ledger.hold_settled(
        account=run.account,
        amount=opening,
        used=loop.credits_breakdown["total"],
        reference=run.req_id,
        memo=f"{run.kind} worst case",
        api_key=run.api_key,
        rows=[run, *(iteration_row(run, it, keep_history=keep_history) for it in loop.iterations)],
        hold_on=run,
    )


def fail_run(run: Run, error: str) -> Run:
    """Mark a run failed and give back every credit held for it."""
    return _fail(run.id, error, memo=f"run {run.id} failed", only_queued=False)


def cancel_queued_run(run_id: Any, *, by: str) -> Run:
    """Cancel a run no worker has taken yet and give back its hold; return the run as it is.

    Safe against a worker claiming it at the same moment: the row lock makes the worker's
    conditional claim (``_claim``) wait and then find the run no longer queued, so it runs
    nothing; a run a worker claimed first is left to that worker. Idempotent: a run that is
    not queued (already cancelled, running or finished) is returned unchanged.
    """
    error = f"Cancelled by {by} before a worker took it."
    return _fail(run_id, error, memo=f"run {run_id} cancelled", only_queued=True)


def _fail(run_id: Any, error: str, *, memo: str, only_queued: bool) -> Run:
    """Fail a run under its row lock (if still open, or still queued) and release its hold."""
    with transaction.atomic():
        locked = Run.objects.select_for_update(of=("self",)).select_related("hold").get(id=run_id)
        if locked.is_final or (only_queued and locked.status != Run.Status.QUEUED):
            return locked
        if locked.hold is not None and locked.hold.state == locked.hold.State.OPEN:
            ledger.release(hold=locked.hold, memo=memo)
        locked.status, locked.error, locked.finished_at = (
            Run.Status.FAILED,
            error[:2000],
            timezone.now(),
        )
        locked.save(update_fields=["status", "error", "finished_at"])
        if locked.lease_token is not None and locked.kind != Run.Kind.COMPARISON:
            webhooks.announce_job(locked)  # a job a worker had taken: it ended too
    return locked


def expire(run: Run) -> None:
    """Mark an external session that waited too long expired (if it still waits)."""
    Run.objects.filter(id=run.id, status=Run.Status.AWAITING_REGENERATION).update(
        status=Run.Status.EXPIRED
    )


def claim_step(run: Run) -> bool:
    """Take a waiting session for one continue call; False if another call holds it.

    The version check makes two concurrent continues never both count.
    """
    claimed = Run.objects.filter(
        id=run.id, version=run.version, status=Run.Status.AWAITING_REGENERATION
    ).update(status=Run.Status.RUNNING, version=F("version") + 1)
    return bool(claimed)


def hold_step(run: Run, *, amount: Decimal, memo: str) -> None:
    """Hold ``amount`` for a session's next evaluation; on failure it waits again."""
    try:
        with transaction.atomic():
            _hold(run, amount, memo=memo)
            Run.objects.filter(id=run.id).update(hold=run.hold)
    except Exception:
        Run.objects.filter(id=run.id).update(status=Run.Status.AWAITING_REGENERATION)
        raise


def save_step(
    run: Run, *, iteration: LoopIteration | None = None, used: Decimal | None = None
) -> None:
    """Save a session step in one transaction: settle its hold with ``used``, store the
    version it scored, save the run (its loop applied by ``apply_loop``)."""
    with transaction.atomic():
        if used is not None and run.hold is not None:
            ledger.settle(hold=run.hold, used=used)
        if iteration is not None:
            store_iteration(run, iteration)
        run.save()


def undo_step(run: Run, error: Exception, *, memo: str) -> None:
    """Give back a failed session step's hold: it waits again, or fails if nothing was scored."""
    if run.hold is None:
        raise ValueError(f"Session {run.id} holds no credits to give back.")
    with transaction.atomic():
        ledger.release(hold=run.hold, memo=memo)
        status = Run.Status.AWAITING_REGENERATION if run.iterations_done else Run.Status.FAILED
        Run.objects.filter(id=run.id).update(status=status, error=str(error)[:2000])


def submit_async(
    *, caller: Caller, request: RegenerateRequest, priced: Estimate | None = None
) -> Run:
    """Hold and queue a run, then hand it to a worker once the transaction commits.

    Enqueue or release: if the broker refuses the task (down, or hung past its timeout),
    the run is failed and its hold released at once, and the caller gets a 503; no hold is
    ever left behind a task that was not queued.
    """
    with transaction.atomic():
        run = submit_run(caller=caller, request=request, priced=priced)
        transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run: Run) -> None:
    from regen.tasks import execute_run_task  # the task module imports this one

    try:
        execute_run_task.delay(str(run.id))
    except Exception as error:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            raise  # an eager "queue" ran the task here: its failure is the run's own
        logger.exception("could not queue run %s", run.id)
        fail_run(run, f"the job queue refused the run: {error}")
        raise QueueUnavailable() from error


STALE_AFTER = timedelta(minutes=30)
"""A queued run older than this has lost its task (it never reached a worker)."""


def _lease_lost_after() -> timedelta:
    """How long after its lease expired a running run's task is lost for good: by then the
    broker has redelivered it (visibility timeout) and a worker would have taken it over."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return timedelta(seconds=int(visibility) + 60)


def fail_stale_runs(*, older_than: timedelta = STALE_AFTER, batch: int = 500) -> int:
    """Fail runs whose task was lost, giving back their credits; return how many.

    A running run whose executor renews its lease is never stale, however long it runs. A
    running run without a lease is a synchronous request's: once no request could still be
    alive (the idempotency lease: the web timeout plus a margin), its request was killed.
    """
    now = timezone.now()
    cutoff = now - older_than
    request_gone = now - timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    lost = (
        Q(status=Run.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=Run.Status.RUNNING, lease_token__isnull=True, created_at__lt=request_gone)
        | Q(status=Run.Status.RUNNING, lease_expires_at__lt=now - _lease_lost_after())
    )
    stale = Run.objects.filter(lost, external=False).order_by("created_at")
    failed = 0
    for run in stale[:batch]:
        if fail_run(run, "no worker finished this run in time").status == Run.Status.FAILED:
            failed += 1
    if failed:
        logger.warning("failed %d stale runs and released their holds", failed)
    return failed
