"""What a key can see of its own set-up: config, capabilities, dimensions (all free)."""

from __future__ import annotations

from typing import Any

from billing.accounts import stored_thresholds
from billing.models import Plan, Project
from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS, SCORE_BANDS


def config(project: Project) -> dict[str, Any]:
    """Describe the key's project and policy as the SDK's ``ApplicationConfig`` reads it."""
    account = project.account
    thresholds = stored_thresholds(project)
    enforcing = project.enforcing and project.enforcement != Project.Enforcement.LOG_ONLY
    return {
        "application": {
            "id": str(project.pk),
            "name": project.name,
            "environment": project.environment,
            "organization": account.name,
            "plan": account.plan.slug,
        },
        "policy": {
            "enforcement": project.enforcement,
            "evalMode": project.default_mode,
            "overallThreshold": thresholds.overall_score,
            "domain": project.domain,
            "dimensionThresholds": dict(thresholds.dimensions),
            "dimensionWeights": dict(project.weights or {}),
            "tradeoffMode": thresholds.tradeoff_mode,
            "safeRegenerate": {
                "enabled": project.regenerate_enabled,
                "maxAttempts": project.regenerate_max_attempts,
                "fallback": project.regenerate_fallback,
            },
            "locked": project.locked,
            "reviewByKey": project.review_by_key,
            "engines": engines_of(project),
        },
        "enforcement": {"active": enforcing, "mode": project.enforcement_mode},
    }


def engines_of(project: Project) -> dict[str, str]:
    """Name the project's evaluator, judge and regenerator (its own, else the server's)."""
    from django.conf import settings

    return {
        "evaluator": project.evaluator or settings.RAIL_EVALUATOR,
        "judgeModel": project.judge_model or settings.RAIL_JUDGE_MODEL or _default_model(),
        "regenerator": project.regenerator or settings.RAIL_REGENERATOR,
    }


def _default_model() -> str:
    from railsite.errors import ServiceError
    from regen.providers import default_model

    try:
        return default_model() or ""
    except ServiceError:
        return ""


def capabilities(plan: Plan) -> dict[str, Any]:
    """Describe what the plan allows, as the SDK's ``Capabilities`` reads it."""
    return {
        "plan": plan.slug,
        "evaluation": {
            "modes": list(plan.allowed_modes),
            "dimensions": list(DIMENSIONS),
            "max_regenerations": plan.max_regenerations,
            "safe_regenerate": True,
            "external_regeneration": True,
            "async_jobs": True,
        },
        "limits": {
            "requests_per_minute": plan.requests_per_minute,
            "requests_per_day": plan.requests_per_day,
            "credits_per_month": plan.credits_per_month,
        },
    }


def dimensions(project: Project) -> dict[str, Any]:
    """List the dimensions with the project's weights and thresholds, and the score bands."""
    thresholds = stored_thresholds(project)
    weights = project.weights or {}
    equal = round(100.0 / len(DIMENSIONS), 2)
    return {
        "dimensions": [
            {
                "key": key,
                "name": DIMENSION_INFO[key].name,
                "description": DIMENSION_INFO[key].description,
                "weight": float(weights.get(key, 0.0)) if weights else equal,
                "threshold": thresholds.threshold_for(key),
            }
            for key in DIMENSIONS
        ],
        "score_bands": [{"band": band.name, "min": band.min} for band in SCORE_BANDS],
    }
