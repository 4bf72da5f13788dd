"""The playground: fill in a request, price it, evaluate it or queue a run and watch it."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from railsite.errors import RequestValidationError, ServiceError
from railsite.rendering import render_page, wants_partial
from regen import charts, evals, runs, service
from regen.api import bodies
from regen.engine.dimensions import DIMENSION_INFO
from regen.errors import CriticalContent
from regen.models import Run
from regen.pages.forms import EMBEDDED_REGENERATOR, PlaygroundForm
from regen.pages.runs import progress_context

EVALUATE = "evaluate"


def caller_for(request: DashboardRequest, form: PlaygroundForm) -> runs.Caller:
    return runs.Caller(
        account=request.seat.account, project=form.cleaned_data["project"], user=request.user
    )


def submit(request: DashboardRequest, form: PlaygroundForm) -> tuple[Run | None, str]:
    """Validate the form's body with the API's rules and queue the run; errors go on the form."""
    try:
        # exactly what the API does with this body: the playground always queues the run
        outcome = service.safe_regenerate(
            caller=caller_for(request, form), data={**form.body(), "async": True}
        )
    except RequestValidationError as error:
        form.add_service_error(error)
        return None, ""
    except ServiceError as error:  # insufficient credits, plan limits: a message, not a 500
        return None, error.message
    return outcome.run, ""


def evaluate(request: DashboardRequest, form: PlaygroundForm) -> tuple[dict[str, Any] | None, str]:
    """Score the form's content as ``/railscore/v1/eval`` does (same checks, price, cache)."""
    caller = caller_for(request, form)
    try:
        body = evals.evaluate_content(
            caller=caller, request=evals.parse_for(caller, form.eval_body())
        )
    except RequestValidationError as error:
        form.add_service_error(error)
        return None, ""
    except evals.PolicyBlocked as error:  # the project blocks failing content: say so, show why
        return error.body(), error.message
    except CriticalContent as error:  # an enforced regeneration met critical content
        return None, error.message
    except ServiceError as error:
        return None, error.message
    return body, ""


def evaluation_view(body: dict[str, Any]) -> dict[str, Any]:
    """One evaluation answer as the playground shows it: the verdict, rows and a chart."""
    result = body["result"]
    met = result["thresholds_met"]["dimension_results"]
    scores = {d: s["score"] for d, s in result["dimension_scores"].items()}
    limits = {d: r["threshold"] for d, r in met.items()}
    rows = [
        {"name": DIMENSION_INFO[d].name, "score": scores[d], **met[d]} for d in scores if d in met
    ]
    return {
        "result": result,
        "passed": result["thresholds_met"]["all_passed"],
        "rows": rows,
        "credits": body.get("credits_consumed"),
        "outcome": body.get("policy_outcome") or {},
        "figure": charts.threshold_bars(scores, limits, title="Dimension scores"),
    }


@member_required(ADMIN, REVIEWER)
def playground(request: DashboardRequest) -> HttpResponse:
    """Show the form; on submit evaluate it, or queue the run and show its progress."""
    account = request.seat.account
    form = PlaygroundForm(
        request.POST or None, account=account, initial={"regenerator": EMBEDDED_REGENERATOR}
    )
    run, notice, evaluation = None, "", None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == EVALUATE:
            body, notice = evaluate(request, form)
            evaluation = evaluation_view(body) if body else None
        else:
            run, notice = submit(request, form)
            if run is not None and not request.htmx:
                return redirect(f"{reverse('playground')}?run={run.id}")
    elif (wanted := _uuid_or_none(request.GET.get("run", ""))) is not None:
        run = Run.objects.of_account(account).filter(id=wanted).first()
    context: dict[str, Any] = {
        "form": form,
        "notice": notice,
        "run": run,
        "evaluation": evaluation,
    }
    if run is not None:
        context.update(progress_context(run))
    response = render_page(request, "regen/playground.html", context, partial="workspace")
    if run is not None and wants_partial(request):
        return push_url(response, f"{reverse('playground')}?run={run.id}")
    return response


@require_POST
@member_required(ADMIN, REVIEWER)
def estimate(request: DashboardRequest) -> HttpResponse:
    """Price the form's request before it is sent: the API's dry run, and the evaluation."""
    form = PlaygroundForm(request.POST, account=request.seat.account)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        caller = caller_for(request, form)
        try:
            dry = service.safe_regenerate(caller=caller, data={**form.body(), "dry_run": True})
            one_eval = evals.worst_case(evals.parse_for(caller, form.eval_body()))
        except ServiceError as error:
            context["estimate_error"] = error.message
        else:
            _, priced = bodies.safe_regenerate(dry, caller.account)  # the API's dry-run answer
            context["estimate"] = {**priced, "eval_credits": float(one_eval)}
    else:
        context["estimate_error"] = "Fill in the form to see the price."
    return render_page(request, "regen/playground.html", context, partial="estimate-body")


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
