"""A project's policy: defaults for requests made with its keys, or overrides if locked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing.models import Project

_ALIASES = {"thresholds": ("threshold",), "max_regenerations": ("max_iterations",)}


def policy_values(project: Project, *, for_regenerate: bool) -> dict[str, Any]:
    """Return the request fields the project's policy sets."""
    mode = project.default_mode
    if for_regenerate and mode not in ("basic", "deep"):
        mode = "basic"
    values: dict[str, Any] = {"mode": mode, "domain": project.domain}
    # an empty policy value means "the defaults": a default, or enforced as such when locked
    if project.thresholds or project.locked:
        values["thresholds"] = project.thresholds or {}
    if project.weights or project.locked:
        values["weights"] = project.weights or None
    if for_regenerate:
        values["max_regenerations"] = project.regenerate_max_attempts
        if project.regenerate_fallback == Project.Fallback.HUMAN_REVIEW:
            values["policy_hint"] = {"on_failure": "human_review"}
    return values


def apply_policy(
    data: Mapping[str, Any], project: Project | None, *, for_regenerate: bool
) -> dict[str, Any]:
    """Fill what the request leaves out from the policy; a locked policy wins outright."""
    merged = dict(data)
    if project is None:
        return merged
    for name, value in policy_values(project, for_regenerate=for_regenerate).items():
        aliases = _ALIASES.get(name, ())
        given = merged.get(name) is not None or any(merged.get(a) is not None for a in aliases)
        if project.locked:
            for alias in aliases:
                merged.pop(alias, None)
            merged[name] = value
        elif not given:
            merged[name] = value
    return merged
