"""Versioned improvement-prompt templates per project: the only writer of PromptTemplate.

Every save is a new version and becomes the one the project uses; a rollback makes any
earlier version (0: the built-in, never stored nor deleted) the current one again. The
loop gets the current template as plain text (``engine.prompts.PromptTemplate``), so the
engine stays free of Django; every regenerated iteration records the version it used.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from billing.models import Project
from railsite.errors import RequestValidationError
from regen.engine.prompts import BUILTIN_TEMPLATE, PromptTemplate, check_template
from regen.engine.types import ImprovementPrompt
from regen.errors import RunNotFound
from regen.models import PromptTemplate as StoredTemplate
from regen.models import Run


def current_template(project: Project | None) -> PromptTemplate:
    """The template the project's regenerations use now (the built-in without one)."""
    if project is None:
        return BUILTIN_TEMPLATE
    stored = StoredTemplate.objects.filter(project=project, current=True).first()
    return _engine(stored) if stored else BUILTIN_TEMPLATE


def template_for(run: Run) -> PromptTemplate:
    """The template a run regenerates with: the version it pins (an A/B arm's), else the
    project's current one."""
    if run.prompt_version is None or run.project is None:
        return current_template(run.project)
    return get_version(run.project, run.prompt_version)


def _engine(stored: StoredTemplate) -> PromptTemplate:
    return PromptTemplate(stored.system_template, stored.user_template, stored.version)


def versions(project: Project) -> list[dict[str, Any]]:
    """Every version of the project's templates, newest first, the built-in last."""
    rows = StoredTemplate.objects.filter(project=project).select_related("created_by")
    current = next((row.version for row in rows if row.current), 0)
    listed = [
        {
            "version": row.version,
            "template": _engine(row),
            "created_at": row.created_at,
            "created_by": row.created_by,
            "current": row.current,
        }
        for row in rows
    ]
    builtin = {"version": 0, "template": BUILTIN_TEMPLATE, "current": current == 0}
    return [*listed, {**builtin, "created_at": None, "created_by": None}]


def get_version(project: Project, version: int) -> PromptTemplate:
    """The project's template of that version (0: the built-in); 404 if there is none."""
    if version == 0:
        return BUILTIN_TEMPLATE
    stored = StoredTemplate.objects.filter(project=project, version=version).first()
    if stored is None:
        raise RequestValidationError(
            f"This project has no prompt template version {version}.",
            details={"version": [f"No version {version}."]},
        )
    return _engine(stored)


def check(*, system: str, user: str) -> PromptTemplate:
    """Validate both texts (known ``$variables`` only, ``$content`` in the user template)."""
    details = {
        name: errors
        for name, errors in (
            ("system_template", check_template(system)),
            ("user_template", check_template(user, needs_content=True)),
        )
        if errors
    }
    if details:
        raise RequestValidationError("The template is not valid.", details=details)
    return PromptTemplate(system, user)


def save_template(*, project: Project, system: str, user: str, by: Any = None) -> PromptTemplate:
    """Store the texts as the project's next version and make it the current one."""
    check(system=system, user=user)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()  # one saver at a time
        latest = StoredTemplate.objects.filter(project=project).aggregate(v=Max("version"))["v"]
        StoredTemplate.objects.filter(project=project, current=True).update(current=False)
        stored = StoredTemplate.objects.create(
            project=project,
            version=(latest or 0) + 1,
            system_template=system,
            user_template=user,
            current=True,
            created_by=by if getattr(by, "pk", None) else None,
        )
    return _engine(stored)


def roll_back(*, project: Project, version: int) -> PromptTemplate:
    """Make an earlier version (0: the built-in) the one the project uses."""
    template = get_version(project, version)
    with transaction.atomic():
        StoredTemplate.objects.filter(project=project, current=True).update(current=False)
        StoredTemplate.objects.filter(project=project, version=version).update(current=True)
    return template


def preview(*, project: Project, run_id: Any, template: PromptTemplate) -> ImprovementPrompt:
    """Render ``template`` on a stored run's first version, as its first regeneration
    would have been asked (nothing is run, nothing charged)."""
    from regen.engine.loop import Loop
    from regen.engine.requests import RegenerateRequest
    from regen.engine.scoring import Evaluation

    run = Run.objects.filter(project=project, id=run_id).first() if run_id else None
    first = run.iterations.filter(index=0).first() if run else None
    if run is None or first is None:
        raise RunNotFound()
    request = RegenerateRequest.from_dict(run.request)
    loop = Loop(request, template=template)
    loop.record(
        content=first.content or run.original_content,
        evaluation=Evaluation.from_state(first.evaluation),
        eval_latency_ms=0.0,
    )
    if loop.status != "awaiting_regeneration":
        # a run that passed at once was never regenerated: show the prompt all the same
        loop.status = "awaiting_regeneration"
    return loop.next_prompt()
