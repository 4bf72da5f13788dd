"""The projects pages: the account's projects at a glance, and one project's policy editor.

Every policy change goes through ``billing.accounts.update_policy``, as the API's does.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from billing import accounts
from billing.accounts import update_policy
from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import Project
from billing.pages.forms import PolicyForm, ProjectForm
from railsite.errors import ServiceError
from railsite.rendering import render_page
from regen.introspection import config


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def projects_page(request: DashboardRequest) -> HttpResponse:
    """List the account's projects with their policy at a glance; create a project."""
    account = request.seat.account
    form = ProjectForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            project = accounts.create_project(account=account, **form.cleaned_data)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Project “{project.name}” created with the default policy.")
            return redirect("project-edit", pk=project.pk)
    projects = account.projects.annotate(
        active_keys=Count("api_keys", filter=Q(api_keys__revoked_at__isnull=True))
    ).order_by("name")
    return render(request, "billing/projects.html", {"form": form, "projects": projects})


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def project_edit(request: DashboardRequest, pk: int) -> HttpResponse:
    """Edit a project's policy; errors appear beside their fields."""
    account = request.seat.account
    project = get_object_or_404(
        Project.objects.select_related("account__plan"), pk=pk, account=account
    )
    form = PolicyForm.for_project(project, request.POST if request.method == "POST" else None)
    saved = False
    if form.is_bound and form.is_valid():
        try:
            update_policy(project=project, **form.policy())
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            if not request.htmx:
                messages.success(request, "Policy saved.")
                return redirect("project-edit", pk=project.pk)
            form, saved = PolicyForm.for_project(project), True
    context = {
        "project": project,
        "form": form,
        "saved": saved,
        "api_view": json.dumps(config(project)["policy"], indent=2),
        "deliveries": project.webhook_deliveries.all()[:10],
    }
    return render_page(request, "billing/project_edit.html", context, partial="policy-form")
