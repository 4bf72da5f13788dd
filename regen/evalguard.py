"""The EvalGuard-compatible safe-regenerate call (seed 002), run through ``regen.runs``.

The request is camelCase and on a 0-1 scale; it becomes an ordinary ``RegenerateRequest``
whose gate is the worst of the selected dimensions: ``strict`` mode, every selected
dimension at ``threshold * 10``, no overall score or confidence floor. The loop stops
early on no improvement and on the USD budget (SPEC 3, step 6).

Decisions (SPEC 4 leaves them open):
- ``maxIterations`` is the number of regenerations (1-10); the plan's own cap on
  regenerations and on the mode still apply (403 ``INSUFFICIENT_TIER``), as on the RAIL
  endpoint.
- ``regeneratorModel``: a configured ``provider/model`` is used as named; the documented
  default ``openai/gpt-4o-mini``, when not configured here, means the server's own
  regenerator; any other unknown model is a 400 on ``regeneratorModel``.
- ``projectId`` (a project id as ``/railscore/v1/config`` shows it) may name any project
  of the caller's account; the run is recorded under it. Another account's or an unknown
  id is a 404. The project's ``domain`` is used; its thresholds, weights and lock are not:
  the request states its own gate.
- Pre-flight: ``estimatedWorstCaseUsd`` = evaluator x (n + 1) + regenerator x n, from the
  engines' estimates, before anything is held or stored; above ``maxCostUsd`` it is a 402
  ``BUDGET_EXCEEDED`` with the estimate in the body.
- Critical content answers the RAIL endpoint's 422 ``RAIL_CRITICAL_CONTENT`` (one
  evaluation charged, the item queued for review), not a 200: the loop never regenerates
  it, and both endpoints should treat the same text the same way.
- The best version is the passing one, else the one whose worst selected dimension is
  highest (``rank="worst"``), and ``no_improvement`` compares the same measure;
  ``finalScore`` is that worst selected dimension / 10.
- ``recordHistory: false`` (the default) keeps the run, its scores, the submitted text
  (``original_content`` and ``request``: the caller's own input) and the best content,
  but blanks every iteration's ``content`` and ``rail_prompt`` (which quotes the text
  being improved), so no intermediate version is kept. The run's stored ``response`` is
  always the EvalGuard body, which holds only the best content.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from billing.errors import InsufficientTier
from billing.models import Project
from billing.plans import check_max_regenerations, check_mode_allowed
from railsite.errors import NotFound, RequestValidationError
from regen import runs
from regen.api.bodies import evalguard_answer
from regen.engine.requests import (
    CONTENT_MAX,
    CONTENT_MIN,
    PROMPT_MAX,
    FieldErrors,
    RegenerateRequest,
    parse_dimensions,
    read_whole,
)
from regen.engine.thresholds import Thresholds
from regen.engines import EXTERNAL, SERVER_REGENERATOR, check_model, price
from regen.errors import BudgetExceeded
from regen.models import Run
from regen.runs import Caller

DEFAULT_MODEL = "openai/gpt-4o-mini"
DEFAULT_THRESHOLD = 0.8
DEFAULT_MAX_ITERATIONS = 3
MAX_ITERATIONS = (1, 10)
DEFAULT_MAX_COST_USD = 0.5
MAX_COST_USD = 100.0
SCORER_SETS = ("basic", "deep")
FIELDS = frozenset(
    {
        "content", "prompt", "threshold", "maxIterations", "dimensions", "scorerSet",
        "regeneratorModel", "maxCostUsd", "projectId", "recordHistory",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvalGuardRequest:
    """A valid EvalGuard request: the loop's request plus what only this endpoint uses."""

    regenerate: RegenerateRequest
    max_cost_usd: float
    project_id: str | None = None
    record_history: bool = False


def _number(
    data: Mapping[str, Any], name: str, default: float, high: float, errors: FieldErrors
) -> float:
    value = data.get(name)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= high
    ):
        errors.add(name, f"Must be a number from 0 to {high:g}.")
        return default
    return float(value)


def _max_iterations(data: Mapping[str, Any], errors: FieldErrors) -> int:
    return read_whole(data, "maxIterations", MAX_ITERATIONS, DEFAULT_MAX_ITERATIONS, errors)


def _text(data: Mapping[str, Any], name: str, low: int, high: int, errors: FieldErrors) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        errors.add(name, "This field is required and must be a string.")
        return ""
    if len(value.strip()) < low or len(value) > high:
        errors.add(name, f"Must be between {low:,} and {high:,} characters.")
    return value


def _scorer_set(data: Mapping[str, Any], errors: FieldErrors) -> str:
    value = data.get("scorerSet")
    if value is None:
        return "basic"
    if value not in SCORER_SETS:
        errors.add("scorerSet", f"Must be one of: {', '.join(SCORER_SETS)}.")
        return "basic"
    return str(value)


def _regenerator(data: Mapping[str, Any], errors: FieldErrors) -> str:
    """Return the regenerator name the loop will use for ``regeneratorModel``."""
    value = data.get("regeneratorModel")
    if value is None:
        value = DEFAULT_MODEL
    if not isinstance(value, str) or not value.strip():
        errors.add("regeneratorModel", "Must be a model name.")
        return SERVER_REGENERATOR
    try:
        if value == EXTERNAL:
            raise RequestValidationError("external regeneration is not offered here")
        if value != SERVER_REGENERATOR:
            check_model(value, field="regeneratorModel")  # not configured here: a 400
    except RequestValidationError:
        if value == DEFAULT_MODEL:
            return SERVER_REGENERATOR
        errors.add(
            "regeneratorModel",
            f"{value!r} is not configured on this server; use {DEFAULT_MODEL!r} (the server's regenerator) or a configured provider/model.",
        )
        return SERVER_REGENERATOR
    return value


def _project_id(data: Mapping[str, Any], errors: FieldErrors) -> str | None:
    value = data.get("projectId")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        errors.add("projectId", "Must be a project id.")
        return None
    return str(value).strip()


def _record_history(data: Mapping[str, Any], errors: FieldErrors) -> bool:
    value = data.get("recordHistory", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.add("recordHistory", "Must be true or false.")
        return False
    return value


def parse_request(data: Any) -> EvalGuardRequest:
    """Validate a seed-002 body and translate it, or raise a 400 naming every bad field."""
    if not isinstance(data, Mapping):
        raise RequestValidationError("The body must be a JSON object.")
    errors = FieldErrors()
    for key in sorted(set(data) - FIELDS):
        errors.add(key, "Unknown field.")
    threshold = _number(data, "threshold", DEFAULT_THRESHOLD, 1.0, errors)
    dimensions = parse_dimensions(data, errors)
    max_cost = _number(data, "maxCostUsd", DEFAULT_MAX_COST_USD, MAX_COST_USD, errors)
    request = RegenerateRequest(
        content=_text(data, "content", CONTENT_MIN, CONTENT_MAX, errors),
        prompt=_text(data, "prompt", 0, PROMPT_MAX, errors),
        mode="deep" if _scorer_set(data, errors) == "deep" else "basic",
        max_regenerations=_max_iterations(data, errors),
        dimensions=dimensions,
        # round: 0.7 * 10 is 7.000000000000001, which a score of 7.0 would fail
        thresholds=Thresholds(
            0.0, 0.0, "strict", 0, {d: round(threshold * 10, 6) for d in dimensions}
        ),
        regeneration_model=_regenerator(data, errors),
        stop_on_no_improvement=True,
        max_cost_usd=max_cost,
        rank="worst",  # versions compete on their worst selected dimension, as the gate does
    )
    project_id, record_history = _project_id(data, errors), _record_history(data, errors)
    if errors.details:
        name = next(iter(errors.details))
        raise RequestValidationError(f"{name}: {errors.details[name][0]}", details=errors.details)
    return EvalGuardRequest(request, max_cost, project_id, record_history)


def caller_for_project(caller: Caller, project_id: str | None) -> Caller:
    """Return the caller acting for ``project_id``, one of its account's projects, or 404."""
    if project_id is None:
        return caller
    project = None
    if project_id.isdigit():
        project = Project.objects.filter(pk=int(project_id), account=caller.account).first()
    if project is None:
        raise NotFound("Project not found.")
    return replace(caller, project=project)


def _within_plan(caller: Caller, request: RegenerateRequest) -> None:
    """Check the plan allows the call, as a 400 naming the field: EvalGuard documents 400,
    401, 402 and 429, not the RAIL API's 403 ``INSUFFICIENT_TIER``."""
    plan = caller.account.plan
    field = "scorerSet"
    try:
        check_mode_allowed(plan, request.mode)
        field = "maxIterations"
        check_max_regenerations(plan, request.max_regenerations)
    except InsufficientTier as error:
        raise RequestValidationError(
            f"{field}: {error.message}", details={field: [error.message]}
        ) from error


def safe_regenerate(*, caller: Caller, data: Any) -> dict[str, Any]:
    """Check, price, run and record an EvalGuard call; return its response body."""
    parsed = parse_request(data)
    caller = caller_for_project(caller, parsed.project_id)
    request = parsed.regenerate
    if caller.project is not None and caller.project.domain:
        request = replace(request, domain=caller.project.domain)
    _within_plan(caller, request)
    priced = price(request, account=caller.account, project=caller.project)
    estimate = priced.usd
    if estimate > parsed.max_cost_usd + 1e-9:
        raise BudgetExceeded(
            f"The estimated worst case (${estimate:g}) exceeds maxCostUsd (${parsed.max_cost_usd:g}).",
            estimatedWorstCaseUsd=estimate,
            maxCostUsd=parsed.max_cost_usd,
        )
    run = runs.run_safe_regenerate(
        caller=caller,
        request=request,
        kind=Run.Kind.EVALGUARD,
        render=lambda run, loop: evalguard_answer(run, loop, estimate=estimate),
        keep_history=parsed.record_history,
        priced=priced,
    )
    return run.answer
