"""The evaluate-and-regenerate loop (SPEC 3) as a step-wise state machine.

``Loop`` only records steps and decides what comes next, so the same code runs a whole
server-side loop in one call (``run_loop``) and an external session whose regenerations
arrive over several HTTP calls (``Loop.to_state`` / ``Loop.from_state`` between them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from .estimate import Estimate, estimate
from .fidelity import FULL, Fidelity, measure_fidelity
from .pricing import Prices
from .prompts import BUILTIN_TEMPLATE, PromptTemplate, build_improvement_prompt
from .requests import CONTENT_MAX, RegenerateRequest
from .scoring import Evaluation, aggregate
from .thresholds import ThresholdsMet, decide
from .types import (
    EngineError,
    EvalContext,
    Evaluator,
    ImprovementPrompt,
    RegenerationRequest,
    Regenerator,
    Span,
    Usage,
)

TemplateSource = PromptTemplate | Callable[[], PromptTemplate]

Status = Literal[
    "awaiting_regeneration",
    "passed",
    "max_iterations_reached",
    "no_improvement",
    "budget_exhausted",
    "critical",
]
IDENTICAL_VERSION = "identical_version"
"""``metadata.stop_reason`` of a loop that stopped at a version it had already scored."""
REQUEST_DEADLINE = "request_deadline"
"""``metadata.stop_reason`` of a loop whose next step could not end before the request's
deadline (status ``budget_exhausted``: time is the budget that ran out)."""
FINAL_STATUSES = (
    "passed",
    "max_iterations_reached",
    "no_improvement",
    "budget_exhausted",
    "critical",
)


@dataclass(frozen=True, slots=True)
class Iteration:
    """One scored version of the text, and what it took to get it."""

    index: int
    content: str
    evaluation: Evaluation
    thresholds_met: ThresholdsMet
    improvement_from_previous: float
    credits: Decimal
    eval_latency_ms: float
    regen_latency_ms: float = 0.0
    rail_prompt: ImprovementPrompt | None = None
    regeneration_model: str | None = None
    regen_usage: Usage = field(default_factory=Usage)
    fidelity: Fidelity = FULL
    """How much of the original this version keeps (the original keeps all of it)."""

    @property
    def passed(self) -> bool:
        return self.thresholds_met.all_passed

    @property
    def faithful(self) -> bool:
        """Say whether the version keeps the original's meaning (see ``Fidelity``)."""
        return self.thresholds_met.fidelity_passed is not False

    @property
    def failing_dimensions(self) -> list[str]:
        return self.thresholds_met.failing_dimensions

    @property
    def latency_ms(self) -> float:
        return round(self.eval_latency_ms + self.regen_latency_ms, 3)

    @property
    def usage(self) -> Usage:
        return self.evaluation.usage + self.regen_usage

    def to_state(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "content": self.content,
            "evaluation": self.evaluation.to_state(),
            "improvement_from_previous": self.improvement_from_previous,
            "credits": str(self.credits),
            "eval_latency_ms": self.eval_latency_ms,
            "regen_latency_ms": self.regen_latency_ms,
            "rail_prompt": self.rail_prompt.to_dict() if self.rail_prompt else None,
            "regeneration_model": self.regeneration_model,
            "regen_usage": self.regen_usage.to_dict(),
        }


def same_text(a: str, b: str) -> bool:
    """Whether two versions are the same text: equal once their outer whitespace is trimmed.

    The loop trims a regenerated text before scoring it, so only leading and trailing
    whitespace is ignored; any other difference (inner spaces, line breaks, case) makes
    another text, which is scored.
    """
    return a.strip() == b.strip()


@dataclass(frozen=True, slots=True)
class Repeat:
    """A regenerated version identical to one already scored: neither scored nor charged."""

    same_as: int
    regeneration_model: str | None = None
    regen_latency_ms: float = 0.0
    regen_usage: Usage = field(default_factory=Usage)

    def to_state(self) -> dict[str, Any]:
        return {
            "same_as": self.same_as,
            "regeneration_model": self.regeneration_model,
            "regen_latency_ms": self.regen_latency_ms,
            "regen_usage": self.regen_usage.to_dict(),
        }

    @classmethod
    def from_state(cls, raw: Mapping[str, Any]) -> Repeat:
        return cls(
            same_as=int(raw["same_as"]),
            regeneration_model=raw.get("regeneration_model"),
            regen_latency_ms=float(raw.get("regen_latency_ms", 0.0)),
            regen_usage=Usage.from_dict(raw.get("regen_usage", {})),
        )


class Loop:
    """Record each scored version and decide whether to stop, and why."""

    def __init__(
        self,
        request: RegenerateRequest,
        *,
        prices: Prices | None = None,
        eval_cost_usd: float = 0.0,
        regen_cost_usd: float = 0.0,
        max_credits: Decimal | None = None,
        template: TemplateSource = BUILTIN_TEMPLATE,
    ) -> None:
        self.request = request
        self.template = template
        """The project's improvement-prompt template, or what reads it when the first
        prompt is due (a text that passes at once never reads it). Not part of a session's
        state: a session reads the project's current one at each step."""
        self.prices = prices or Prices()
        self.eval_cost_usd = eval_cost_usd
        self.regen_cost_usd = regen_cost_usd
        self.max_credits = max_credits
        self.iterations: list[Iteration] = []
        self.status: Status = "awaiting_regeneration"
        self.repeat: Repeat | None = None
        self.deadline_stop = False
        self.prepaid = False
        """The original came already scored and paid for (an enforced ``/eval``): its
        evaluation is not charged again."""

    # -- what the loop knows -------------------------------------------------------
    @property
    def eval_price(self) -> Decimal:
        return self.prices.evaluation(self.request.mode, len(self.request.dimensions))

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def regenerations(self) -> int:
        return max(0, len(self.iterations) - 1)

    def merit(self, it: Iteration) -> float:
        """Rank a version: its overall score, or its worst dimension if the request says so."""
        if self.request.rank == "worst":
            return min(s.score for s in it.evaluation.scores.values())
        return it.evaluation.score

    @property
    def best(self) -> Iteration:
        """Return the passing version if any, else the highest merit (earliest on a tie).

        Without a passing version, only versions that keep the original's meaning compete
        (the original always does): a refusal never outranks the answer it refused.
        """
        passing = [it for it in self.iterations if it.passed]
        if passing:
            return passing[0]
        faithful = [it for it in self.iterations if it.faithful] or self.iterations
        return max(faithful, key=lambda it: (self.merit(it), -it.index))

    def removed_spans(self) -> tuple[Span, ...]:
        """Return the spans of the original its failing dimensions required removing."""
        if not self.iterations:
            return ()
        original = self.iterations[0]
        failing = set(original.failing_dimensions)
        return tuple(
            issue.span
            for issue in original.evaluation.issues
            if issue.span is not None and issue.dimension in failing
        )

    @property
    def credits_breakdown(self) -> dict[str, Decimal]:
        scored = len(self.iterations) - (1 if self.prepaid and self.iterations else 0)
        evaluations = self.eval_price * scored
        regenerations = self.prices.regeneration * self.regenerations
        return {
            "evaluations": evaluations,
            "regenerations": regenerations,
            "total": evaluations + regenerations,
        }

    @property
    def stop_reason(self) -> str | None:
        """Why the loop stopped when its status alone does not say it (else None)."""
        if self.repeat is not None:
            return IDENTICAL_VERSION
        return REQUEST_DEADLINE if self.deadline_stop else None

    @property
    def usage(self) -> Usage:
        """What the loop's model calls cost, the unscored repeat's regeneration included."""
        total = self.repeat.regen_usage if self.repeat is not None else Usage()
        for it in self.iterations:
            total = total + it.usage
        return total

    @property
    def total_latency_ms(self) -> float:
        repeat_ms = self.repeat.regen_latency_ms if self.repeat is not None else 0.0
        return round(sum(it.latency_ms for it in self.iterations) + repeat_ms, 3)

    def eval_context(self) -> EvalContext:
        return self.request.eval_context()

    # -- steps ---------------------------------------------------------------------
    def record(
        self,
        *,
        content: str,
        evaluation: Evaluation,
        eval_latency_ms: float,
        rail_prompt: ImprovementPrompt | None = None,
        regeneration_model: str | None = None,
        regen_latency_ms: float = 0.0,
        regen_usage: Usage | None = None,
        prepaid: bool = False,
    ) -> Iteration:
        """Record a scored version (the original first) and decide what comes next.

        ``prepaid`` marks an original scored and charged before the loop began: it costs
        the loop nothing.
        """
        if self.done:
            raise EngineError(f"the loop has already ended ({self.status})")
        index = len(self.iterations)
        if index > 0 and rail_prompt is None:
            raise EngineError("a regenerated version needs the prompt that produced it")
        if prepaid and index > 0:
            raise EngineError("only the original can come already scored")
        self.prepaid = self.prepaid or prepaid
        previous = self.iterations[-1].evaluation.score if self.iterations else evaluation.score
        best_before = self.merit(self.best) if self.iterations else None
        met = decide(
            scores=evaluation.pairs(),
            overall_score=evaluation.score,
            overall_confidence=evaluation.confidence,
            thresholds=self.request.thresholds,
            degraded=evaluation.degraded,
        )
        fidelity = FULL
        if index > 0:
            fidelity = measure_fidelity(self.request.content, content, removed=self.removed_spans())
            kept = fidelity.keeps_meaning(self.request.thresholds.min_fidelity)
            met = replace(met, all_passed=met.all_passed and kept, fidelity_passed=kept)
        iteration = Iteration(
            index=index,
            content=content,
            evaluation=evaluation,
            thresholds_met=met,
            fidelity=fidelity,
            improvement_from_previous=round(evaluation.score - previous, 1),
            credits=(Decimal(0) if prepaid else self.eval_price)
            + (self.prices.regeneration if index else Decimal(0)),
            eval_latency_ms=round(eval_latency_ms, 3),
            regen_latency_ms=round(regen_latency_ms, 3),
            rail_prompt=rail_prompt,
            regeneration_model=regeneration_model,
            regen_usage=regen_usage or Usage(),
        )
        self.iterations.append(iteration)
        self.status = self._next_status(iteration, best_before)
        return iteration

    def stop_for_deadline(self) -> None:
        """End the loop with what it has: its next step could not end before the deadline."""
        if self.done:
            raise EngineError(f"the loop has already ended ({self.status})")
        if not self.iterations:
            raise EngineError("the original must be scored before the loop can stop")
        self.status, self.deadline_stop = "budget_exhausted", True

    def scored_as(self, content: str) -> int | None:
        """Return the index of the scored version ``content`` repeats (see ``same_text``)."""
        for it in self.iterations:
            if same_text(it.content, content):
                return it.index
        return None

    def stop_at_repeat(
        self,
        *,
        same_as: int,
        regeneration_model: str | None = None,
        regen_latency_ms: float = 0.0,
        regen_usage: Usage | None = None,
    ) -> Repeat:
        """Stop at a regenerated version identical to scored version ``same_as``.

        It would score as that version did, so it is neither scored nor charged (neither
        its evaluation nor its regeneration): the loop ends ``no_improvement``, with
        ``stop_reason`` saying why, and its credits stay those of the versions it scored.
        """
        if self.status != "awaiting_regeneration":
            raise EngineError(f"no regeneration is due ({self.status})")
        if not 0 <= same_as < len(self.iterations):
            raise EngineError(f"no scored version {same_as} to repeat")
        self.repeat = Repeat(
            same_as=same_as,
            regeneration_model=regeneration_model,
            regen_latency_ms=round(regen_latency_ms, 3),
            regen_usage=regen_usage or Usage(),
        )
        self.status = "no_improvement"
        return self.repeat

    def _next_status(self, it: Iteration, best_before: float | None) -> Status:
        if it.index == 0 and it.evaluation.is_critical:
            return "critical"
        if it.passed:
            return "passed"
        if self.regenerations >= self.request.max_regenerations:
            return "max_iterations_reached"
        if (
            self.request.stop_on_no_improvement
            and best_before is not None
            and self.merit(it) <= best_before
        ):
            return "no_improvement"
        if self._next_step_over_budget():
            return "budget_exhausted"
        return "awaiting_regeneration"

    def _next_step_over_budget(self) -> bool:
        if self.max_credits is not None:
            next_credits = self.prices.regeneration + self.eval_price
            if self.credits_breakdown["total"] + next_credits > self.max_credits:
                return True
        if self.request.max_cost_usd is not None:
            spent = self.usage.cost_usd
            return (
                spent + self.regen_cost_usd + self.eval_cost_usd > self.request.max_cost_usd + 1e-9
            )
        return False

    def next_prompt(self, *, nonce: str | None = None) -> ImprovementPrompt:
        """Build the improvement prompt from the best version so far."""
        if self.status != "awaiting_regeneration":
            raise EngineError(f"no regeneration is due ({self.status})")
        best, last = self.best, self.iterations[-1]
        results = best.thresholds_met.dimension_results
        minimum = self.request.thresholds.min_fidelity
        return build_improvement_prompt(
            content=best.content,
            failing_dimensions=best.failing_dimensions,
            issues=best.evaluation.issues,
            scores={d: r.score for d, r in results.items()},
            thresholds={d: r.threshold for d, r in results.items()},
            domain=self.request.domain,
            context=self.request.context,
            prompt=self.request.prompt,
            policy_hint=self.request.policy_hint,
            attempt=self.regenerations + 1,
            nonce=nonce,
            template=self._template(),
            lost_meaning=None if last.fidelity.keeps_meaning(minimum) else last.fidelity,
            min_fidelity=minimum,
        )

    def _template(self) -> PromptTemplate:
        if callable(self.template):
            self.template = self.template()
        return self.template

    def regeneration_request(self, prompt: ImprovementPrompt) -> RegenerationRequest:
        """Describe the next regeneration: the best version and what it must fix."""
        best = self.best
        failing = tuple(best.failing_dimensions)
        return RegenerationRequest(
            content=best.content,
            prompt=prompt,
            failing_dimensions=failing,
            issues=best.evaluation.issues,
            domain=self.request.domain,
            context=self.request.context,
            policy_hint=self.request.policy_hint,
        )

    # -- persistence of an external session ------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "request": self.request.to_dict(),
            "status": self.status,
            "eval_cost_usd": self.eval_cost_usd,
            "regen_cost_usd": self.regen_cost_usd,
            "max_credits": None if self.max_credits is None else str(self.max_credits),
            "iterations": [it.to_state() for it in self.iterations],
            **({"prepaid": True} if self.prepaid else {}),
            **({"deadline_stop": True} if self.deadline_stop else {}),
            **({"repeat": self.repeat.to_state()} if self.repeat is not None else {}),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, prices: Prices | None = None) -> Loop:
        loop = cls(
            RegenerateRequest.from_dict(state["request"]),
            prices=prices,
            eval_cost_usd=float(state.get("eval_cost_usd", 0.0)),
            regen_cost_usd=float(state.get("regen_cost_usd", 0.0)),
            max_credits=None if state.get("max_credits") is None else Decimal(state["max_credits"]),
        )
        for index, raw in enumerate(state["iterations"]):
            prompt = raw.get("rail_prompt")
            loop.record(
                prepaid=index == 0 and bool(state.get("prepaid")),
                content=raw["content"],
                evaluation=Evaluation.from_state(raw["evaluation"]),
                eval_latency_ms=float(raw["eval_latency_ms"]),
                rail_prompt=ImprovementPrompt.from_dict(prompt) if prompt else None,
                regeneration_model=raw.get("regeneration_model"),
                regen_latency_ms=float(raw.get("regen_latency_ms", 0.0)),
                regen_usage=Usage.from_dict(raw.get("regen_usage", {})),
            )
        if state.get("deadline_stop"):
            loop.stop_for_deadline()
        if state.get("repeat"):
            repeat = Repeat.from_state(state["repeat"])
            loop.stop_at_repeat(
                same_as=repeat.same_as,
                regeneration_model=repeat.regeneration_model,
                regen_latency_ms=repeat.regen_latency_ms,
                regen_usage=repeat.regen_usage,
            )
        return loop


Clock = Callable[[], float]
OnIteration = Callable[[Loop, Iteration], None]


def evaluate(
    evaluator: Evaluator, text: str, loop: Loop, clock: Clock = time.perf_counter
) -> tuple[Evaluation, float]:
    """Score ``text`` for ``loop``'s request; return the evaluation and its latency (ms)."""
    started = clock()
    raw = evaluator.evaluate(text, loop.eval_context())
    evaluation = aggregate(raw, loop.request.weights)
    return evaluation, (clock() - started) * 1000.0


def step(
    loop: Loop, evaluator: Evaluator, regenerator: Regenerator, clock: Clock = time.perf_counter
) -> Iteration | None:
    """Run one regeneration and score it (or score the original if nothing is recorded).

    A regenerated text identical to a scored version is not scored: the loop stops at it
    and this returns None.
    """
    if not loop.iterations:
        evaluation, latency = evaluate(evaluator, loop.request.content, loop, clock)
        return loop.record(
            content=loop.request.content, evaluation=evaluation, eval_latency_ms=latency
        )
    prompt = loop.next_prompt()
    started = clock()
    regeneration = regenerator.regenerate(loop.regeneration_request(prompt))
    regen_ms = (clock() - started) * 1000.0
    text = regeneration.content.strip()[:CONTENT_MAX]
    if not text:
        raise EngineError("the regenerator returned an empty text")
    same_as = loop.scored_as(text)
    if same_as is not None:
        loop.stop_at_repeat(
            same_as=same_as,
            regeneration_model=regeneration.model,
            regen_latency_ms=regen_ms,
            regen_usage=regeneration.usage,
        )
        return None
    evaluation, eval_ms = evaluate(evaluator, text, loop, clock)
    return loop.record(
        content=text,
        evaluation=evaluation,
        eval_latency_ms=eval_ms,
        rail_prompt=prompt,
        regeneration_model=regeneration.model,
        regen_latency_ms=regen_ms,
        regen_usage=regeneration.usage,
    )


def run_loop(
    request: RegenerateRequest,
    *,
    evaluator: Evaluator,
    regenerator: Regenerator,
    prices: Prices | None = None,
    max_credits: Decimal | None = None,
    on_iteration: OnIteration | None = None,
    clock: Clock = time.perf_counter,
    priced: Estimate | None = None,
    original: Evaluation | None = None,
    deadline: float | None = None,
    template: TemplateSource = BUILTIN_TEMPLATE,
) -> Loop:
    """Run the whole server-side loop to a final status.

    The budget stop reads ``priced`` (the estimate the caller held credits for), made here
    the same way when it is not given. ``original`` is the original's evaluation when the
    caller already scored (and charged) it: it becomes iteration 0 without being scored or
    charged again. ``deadline`` (``time.monotonic()`` seconds, see ``engine.deadline``)
    stops the loop with the best version so far when its longest step yet would not end
    before it, or when a step failed because the deadline passed (status
    ``budget_exhausted``, ``stop_reason`` ``request_deadline``).
    """
    prices = prices or Prices()
    if priced is None:
        priced = estimate(request, evaluator=evaluator, regenerator=regenerator, prices=prices)
    loop = Loop(
        request,
        prices=prices,
        eval_cost_usd=priced.eval_usd,
        regen_cost_usd=priced.regen_usd,
        max_credits=max_credits,
        template=template,
    )
    if original is not None:
        first = loop.record(
            content=request.content, evaluation=original, eval_latency_ms=0.0, prepaid=True
        )
        if on_iteration is not None:
            on_iteration(loop, first)
    longest = 0.0
    while not loop.done:
        started = time.monotonic()
        if deadline is not None and loop.iterations and started + longest > deadline:
            loop.stop_for_deadline()
            break
        try:
            iteration = step(loop, evaluator, regenerator, clock)
        except EngineError:
            # a model call cut short by the request's deadline: end with the best so far
            if deadline is None or not loop.iterations or time.monotonic() < deadline:
                raise
            loop.stop_for_deadline()
            break
        longest = max(longest, time.monotonic() - started)
        if on_iteration is not None and iteration is not None:
            on_iteration(loop, iteration)
    return loop
