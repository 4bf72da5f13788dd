"""A project's improvement-prompt templates: edit, preview on a stored run, save, roll back.

Every change goes through ``regen.prompt_templates`` (the only writer of the versions).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_http_methods, require_POST

from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import Project
from railsite.errors import ServiceError
from railsite.rendering import render_page
from regen import prompt_templates
from regen.engine.prompts import TEMPLATE_VARIABLES
from regen.errors import RunNotFound
from regen.pages.forms import PromptTemplateForm


def _project(request: DashboardRequest, pk: int) -> Project:
    return get_object_or_404(Project, pk=pk, account=request.seat.account)


def _initial(project: Project, version: Any) -> dict[str, str]:
    """The editor's text: the version asked for (``?from=``), else the current one."""
    template = prompt_templates.current_template(project)
    if str(version or "").isdigit():
        with contextlib.suppress(ServiceError):  # an unknown version: the current one
            template = prompt_templates.get_version(project, int(version))
    return {"system_template": template.system, "user_template": template.user}


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def prompt_templates_page(request: DashboardRequest, pk: int) -> HttpResponse:
    """Edit the templates; ``preview`` renders them on a stored run, ``save`` stores a version."""
    project = _project(request, pk)
    data = request.POST if request.method == "POST" else None
    form = PromptTemplateForm(
        data, project=project, initial=_initial(project, request.GET.get("from"))
    )
    preview = None
    if form.is_bound and form.is_valid():
        clean = form.cleaned_data
        try:
            template = prompt_templates.check(
                system=clean["system_template"], user=clean["user_template"]
            )
            if request.POST.get("action") == "save":
                saved = prompt_templates.save_template(
                    project=project, system=template.system, user=template.user, by=request.user
                )
                messages.success(request, f"Saved as version {saved.version}, now in use.")
                return redirect("project-prompts", pk=project.pk)
            preview = prompt_templates.preview(
                project=project, run_id=clean["run"] or None, template=template
            )
        except RunNotFound:
            form.add_error("run", "Choose one of this project's runs to preview on.")
        except ServiceError as exc:
            form.add_service_error(exc)
    context = {
        "project": project,
        "form": form,
        "preview": preview,
        "versions": prompt_templates.versions(project),
        "variables": TEMPLATE_VARIABLES,
    }
    return render_page(request, "regen/prompt_templates.html", context, partial="preview")


@require_POST
@member_required(ADMIN)
def prompt_template_rollback(request: DashboardRequest, pk: int) -> HttpResponse:
    """Make an earlier version (0: the built-in) the one the project uses."""
    project = _project(request, pk)
    version = request.POST.get("version", "")
    try:
        prompt_templates.roll_back(
            project=project, version=int(version) if version.isdigit() else -1
        )
    except (ServiceError, ValueError):
        messages.error(request, "There is no such version to roll back to.")
    else:
        messages.success(request, f"Version {version} is in use again.")
    return redirect("project-prompts", pk=project.pk)
