"""The playground: fill in a safe-regenerate request, queue it, watch it run."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import push_url

from billing.dashboard import ADMIN, REVIEWER, DashboardRequest, member_required
from railsite.errors import RequestValidationError, ServiceError
from railsite.rendering import render_page, wants_partial
from regen import runs, service
from regen.models import Run
from regen.pages.forms import EMBEDDED_REGENERATOR, PlaygroundForm
from regen.pages.runs import progress_context


def submit(request: DashboardRequest, form: PlaygroundForm) -> tuple[Run | None, str]:
    """Validate the form's body with the API's rules and queue the run; errors go on the form."""
    caller = runs.Caller(
        account=request.seat.account,
        project=form.cleaned_data["project"],
        user=request.user,
    )
    try:
        # exactly what the API does with this body: the playground always queues the run
        outcome = service.safe_regenerate(caller=caller, data={**form.body(), "async": True})
    except RequestValidationError as error:
        form.add_service_error(error)
        return None, ""
    except ServiceError as error:  # insufficient credits, plan limits: a message, not a 500
        return None, error.message
    return outcome.run, ""


@member_required(ADMIN, REVIEWER)
def playground(request: DashboardRequest) -> HttpResponse:
    """Show the form; on submit queue the run and show its progress (the htmx partial)."""
    account = request.seat.account
    form = PlaygroundForm(
        request.POST or None, account=account, initial={"regenerator": EMBEDDED_REGENERATOR}
    )
    run, notice = None, ""
    if request.method == "POST" and form.is_valid():
        run, notice = submit(request, form)
        if run is not None and not request.htmx:
            return redirect(f"{reverse('playground')}?run={run.id}")
    elif (wanted := _uuid_or_none(request.GET.get("run", ""))) is not None:
        run = Run.objects.of_account(account).filter(id=wanted).first()
    context: dict[str, Any] = {"form": form, "notice": notice, "run": run}
    if run is not None:
        context.update(progress_context(run))
    response = render_page(request, "regen/playground.html", context, partial="workspace")
    if run is not None and wants_partial(request):
        return push_url(response, f"{reverse('playground')}?run={run.id}")
    return response


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None
