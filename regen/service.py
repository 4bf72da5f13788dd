"""What a safe-regenerate call does, for every interface (API, playground, tasks).

One check, one do: ``check_safe_regenerate`` applies the project's policy, validates the
body (the delivery flags included), checks the plan and prices the worst case once;
``do_safe_regenerate`` then runs it the way it asks: synchronously on the server, as an
async job, as an external session, or as a dry run that only reports the price.
``safe_regenerate`` is the two in turn, and the API view and the playground both call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing.plans import check_max_regenerations, check_mode_allowed
from railsite.errors import RequestValidationError
from regen import runs, sessions
from regen.engine.estimate import Estimate
from regen.engine.requests import (
    Delivery,
    RegenerateRequest,
    RequestInvalid,
    parse_delivery,
    parse_regenerate_request,
)
from regen.engine.scoring import Evaluation
from regen.engines import EXTERNAL, price
from regen.errors import invalid_request
from regen.models import Run
from regen.policy import apply_policy
from regen.runs import Caller

API_ONLY_FIELDS = frozenset({"async", "dry_run"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call did, for its caller to answer (``regen.api.bodies`` for the API): how it
    was delivered, the run it made (none for a dry run), and the price it was checked at."""

    delivery: Delivery
    estimate: Estimate
    run: Run | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A safe-regenerate call that passed every check: what to run, how, and its price."""

    request: RegenerateRequest
    delivery: Delivery
    estimate: Estimate
    original: Evaluation | None = None
    """The original's evaluation, when an enforced ``/eval`` already scored and charged it
    (a synchronous run then starts from it: see ``engine.loop.run_loop``)."""


def prepare(caller: Caller, data: Mapping[str, Any]) -> RegenerateRequest:
    """Apply the policy, validate the request, and check the caller's plan allows it."""
    if not isinstance(data, Mapping):
        raise RequestValidationError("The body must be a JSON object.")
    try:
        merged = apply_policy(data, caller.project, for_regenerate=True)
        request = parse_regenerate_request(merged, extra_fields=API_ONLY_FIELDS)
    except RequestInvalid as error:
        raise invalid_request(error) from error
    plan = caller.account.plan
    check_mode_allowed(plan, request.mode)
    check_max_regenerations(plan, request.max_regenerations)
    return request


def check_safe_regenerate(caller: Caller, data: Mapping[str, Any]) -> Checked:
    """Check a safe-regenerate body for ``caller``: policy, fields, plan, and price."""
    request = prepare(caller, data)
    try:
        delivery = parse_delivery(data, external=request.regeneration_model == EXTERNAL)
    except RequestInvalid as error:
        raise invalid_request(error) from error
    return Checked(
        request, delivery, price(request, account=caller.account, project=caller.project)
    )


def do_safe_regenerate(caller: Caller, checked: Checked) -> Outcome:
    """Run a checked call the way it asks; raise the contract's errors."""
    request, estimate = checked.request, checked.estimate
    if checked.delivery == "dry_run":
        return Outcome("dry_run", estimate)
    if checked.delivery == "external":
        run = sessions.start_session(caller=caller, request=request)
    elif checked.delivery == "async":
        run = runs.submit_async(caller=caller, request=request, priced=estimate)
        run.refresh_from_db()  # an eager worker may have finished it already
    else:
        run = runs.run_safe_regenerate(
            caller=caller, request=request, priced=estimate, original=checked.original
        )
    return Outcome(checked.delivery, estimate, run)


def safe_regenerate(*, caller: Caller, data: Mapping[str, Any]) -> Outcome:
    """Check a safe-regenerate body, then run it: the API's and the playground's entry."""
    return do_safe_regenerate(caller, check_safe_regenerate(caller, data))
