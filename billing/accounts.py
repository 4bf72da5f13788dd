"""Accounts, members and projects: the only code that creates or changes them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from billing.models import Account, Membership, Plan, Project
from railsite.errors import RequestValidationError
from regen.engine.llm.ssrf import UnsafeBaseURL, validate_base_url
from regen.engine.requests import CONTENT_MIN, RequestInvalid, parse_regenerate_request
from regen.engine.thresholds import Thresholds


def create_account(*, name: str, plan: Plan, slug: str = "") -> Account:
    """Create an account (with its empty credit account) on the plan."""
    name, slug = _name_and_slug(name, slug, what="account")
    if Account.objects.filter(slug=slug).exists():
        raise _invalid("slug", f"An account with the slug {slug!r} already exists.")
    with transaction.atomic():
        return Account.objects.create(name=name, slug=slug, plan=plan)


def add_member(*, account: Account, user: Any, role: str = Membership.Role.VIEWER) -> Membership:
    """Make the user a member of the account with the role (or change their role)."""
    if role not in Membership.Role.values:
        raise _invalid(
            "role", f"Unknown role {role!r}; choose one of: {', '.join(Membership.Role.values)}."
        )
    membership, _ = Membership.objects.update_or_create(
        user=user, account=account, defaults={"role": role}
    )
    return membership


def create_project(
    *, account: Account, name: str, slug: str = "", environment: str = "production"
) -> Project:
    """Create a project of the account, with the default policy."""
    name, slug = _name_and_slug(name, slug, what="project")
    environment = (environment or "").strip()
    if not environment:
        raise _invalid("environment", "A project needs an environment name, e.g. production.")
    if account.projects.filter(slug=slug).exists():
        raise _invalid("slug", f"The account already has a project with the slug {slug!r}.")
    return Project.objects.create(
        account=account, name=name, slug=slug, environment=environment[:40]
    )


def _name_and_slug(name: str, slug: str, *, what: str) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", f"A {what} needs a name.")
    slug = slugify(slug or name)[:60]
    if not slug:
        raise _invalid(
            "name", f"The {what} name {name!r} gives no usable slug; add letters or digits."
        )
    return name[:120], slug


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})


POLICY_FIELDS = (
    "default_mode",
    "domain",
    "locked",
    "enforcement",
    "enforcement_mode",
    "regenerate_enabled",
    "regenerate_max_attempts",
    "regenerate_fallback",
    "review_by_key",
    "webhook_url",
    "evaluator",
    "judge_model",
    "regenerator",
)
"""The project fields a policy edit may set, besides thresholds and weights."""


def policy_probe(**fields: Any) -> dict[str, Any]:
    """A minimal request body carrying ``fields``, for the API's parser to validate."""
    return {"content": "x" * CONTENT_MIN, **{k: v for k, v in fields.items() if v is not None}}


def stored_thresholds(project: Project) -> Thresholds:
    """Read the project's thresholds: the one reader of the stored policy.

    ``update_policy`` (the only writer: the policy page, the admin's link to it, the
    API) stores them normalised; a row written before it existed is read in any shape
    the API accepts, and one that no longer parses reads as the defaults.
    """
    raw = project.thresholds if isinstance(project.thresholds, dict) else {}
    try:
        return parse_regenerate_request(policy_probe(thresholds=raw or None)).thresholds
    except RequestInvalid:
        return Thresholds()


def _engine_choices(values: Mapping[str, Any]) -> dict[str, str]:
    """Check the project's engine choices (blank: the server's); return them normalized."""
    from regen.engines import PROJECT_EVALUATORS, check_model

    checked = {}
    evaluator = (values.get("evaluator") or "").strip()
    if "evaluator" in values:
        if evaluator and evaluator not in PROJECT_EVALUATORS:
            raise _invalid(
                "evaluator", f"Choose one of: {', '.join(PROJECT_EVALUATORS)} (or blank)."
            )
        checked["evaluator"] = evaluator
    for name, embedded in (("judge_model", False), ("regenerator", True)):
        if name in values:
            model = (values.get(name) or "").strip()
            checked[name] = check_model(model, field=name, embedded=embedded) if model else ""
    return checked


def update_policy(
    *,
    project: Project,
    thresholds: Mapping[str, Any] | None = None,
    weights: Mapping[str, float] | None = None,
    **values: Any,
) -> Project:
    """Validate and save the project's policy; thresholds and weights obey the API's rules."""
    unknown = set(values) - set(POLICY_FIELDS)
    values = dict(values)
    if unknown:
        raise TypeError(f"Not policy fields: {', '.join(sorted(unknown))}")
    try:
        parsed = parse_regenerate_request(
            policy_probe(
                thresholds=thresholds or None,
                weights=weights or None,
                domain=values.get("domain"),
                max_regenerations=values.get("regenerate_max_attempts"),
            )
        )
    except RequestInvalid as exc:
        raise RequestValidationError("The policy is not valid.", details=exc.details) from exc
    normal = parsed.thresholds.to_dict()
    values |= _engine_choices(values)
    url = (values.get("webhook_url") or "").strip()
    if url:
        try:
            validate_base_url(url, allowlist=settings.RAIL_WEBHOOK_ALLOWLIST)
        except UnsafeBaseURL as exc:
            raise _invalid("webhook_url", f"This URL cannot receive webhooks: {exc}") from exc
        if not project.webhook_secret:
            project.webhook_secret = secrets.token_hex(32)
            values = {**values, "webhook_secret": project.webhook_secret}
    for name, value in values.items():
        setattr(project, name, value)
    project.thresholds = {} if normal == Thresholds().to_dict() else normal
    project.weights = dict(parsed.weights)
    try:
        project.full_clean(
            exclude=["account", "name", "slug", "environment"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        project.refresh_from_db()
        raise RequestValidationError("The policy is not valid.", details=exc.message_dict) from exc
    project.save(update_fields=[*values, "thresholds", "weights"])
    return project
