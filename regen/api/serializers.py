"""Shapes for the OpenAPI schema and the few bodies DRF validates directly.

The rules of a request live in ``regen.engine.requests``; these serializers only
describe shapes, so the schema and the parser cannot disagree on a rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from billing.api.serializers import ErrorSerializer
from regen.agent import CHECKS as AGENT_CHECKS
from regen.engine.dimensions import DIMENSIONS
from regen.engine.requests import (
    CONTENT_MAX,
    CONTENT_MIN,
    CONTEXT_MAX,
    EVAL_CONTEXT_MAX,
    ON_FAILURE,
    POLICY_HINT_MAX,
)
from regen.engine.types import DOMAINS, USECASES
from regen.models import Iteration, ReviewItem, Run

ERROR = OpenApiResponse(ErrorSerializer, description="Error in the contract's shape.")
_DESCRIPTIONS = {
    200: "Success.",
    202: "Accepted: an async job; poll its status_url.",
    400: "VALIDATION_ERROR: bad input, with details per field.",
    401: "AUTHENTICATION_ERROR: missing, unknown or revoked key.",
    402: "INSUFFICIENT_CREDITS: with balance and required; or KEY_BUDGET_EXCEEDED: the key's "
    "monthly credit budget would be passed, with details (budget, spent, required, month).",
    403: "INSUFFICIENT_TIER: the plan does not include this mode or feature.",
    404: "NOT_FOUND: unknown id, or one of another account.",
    409: "IDEMPOTENCY_CONFLICT, SESSION_BUSY or REVIEW_ALREADY_DECIDED.",
    410: "SESSION_EXPIRED: the external session is older than 15 minutes.",
    422: "RAIL_CRITICAL_CONTENT (with review_id) or POLICY_BLOCKED.",
    429: "RATE_LIMIT_EXCEEDED: see Retry-After and X-RateLimit-* headers.",
    500: "REGENERATION_FAILED / EVALUATION_FAILED: credits held were released.",
    503: "SERVICE_UNAVAILABLE: database or broker down.",
}


def responses(*codes: int) -> dict[int, Any]:
    """Document the given statuses, plus those every keyed endpoint may answer: 401, 429,
    and 503 (SPEC 4: the database is down)."""
    out: dict[int, Any] = {}
    for code in sorted({*codes, 401, 429, 503}):
        if code < 300:
            out[code] = OpenApiResponse(OpenApiTypes.OBJECT, description=_DESCRIPTIONS[code])
        else:
            out[code] = OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
    return out


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    service = serializers.CharField()
    database = serializers.CharField()


# Shapes the request parser (regen.engine.requests) accepts, described exactly: a field
# the parser treats as absent when null is nullable here, so that neither a valid request
# is documented as invalid nor an accepted one as a schema violation.
# (OpenAPI 3.0 has no propertyNames: a map keyed by dimension lists the eight as properties.)
_SCORE = {"type": "number", "minimum": 0, "maximum": 10}


def _per_dimension(value: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {d: value for d in DIMENSIONS},
        "additionalProperties": False,
        "description": description,
    }


_DIMENSION_SCORES = _per_dimension(_SCORE, 'Per-dimension minimum scores, e.g. {"safety": 8.0}.')
_THRESHOLDS_OBJECT = {
    "type": "object",
    "properties": {
        "overall": {
            "oneOf": [
                _SCORE,
                {
                    "type": "object",
                    "properties": {
                        "score": _SCORE,
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "tradeoff_mode": {"type": "string", "enum": ["priority", "strict", "weighted"]},
        "max_dimension_failures": {"type": "integer", "minimum": 0, "maximum": len(DIMENSIONS)},
        "dimensions": _DIMENSION_SCORES,
        "min_fidelity": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Least fidelity to the original a regenerated version needs to "
            "pass (meaning and facts kept, 0-1); below it the version fails like a failing "
            "dimension. A refusal or an empty answer never passes, with or without it.",
        },
    },
    "additionalProperties": False,
}


@extend_schema_field(
    {
        "oneOf": [
            {**_SCORE, "description": "Shorthand for overall.score."},
            {
                **_DIMENSION_SCORES,
                "minProperties": 1,
                "description": "Shorthand: per-dimension thresholds only.",
            },
            _THRESHOLDS_OBJECT,
        ],
        "nullable": True,
        "description": "SPEC 2 thresholds: the object, a bare number (= overall.score), "
        "or a flat map of dimension thresholds.",
    }
)
class ThresholdsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        **_per_dimension(
            {"type": "number", "minimum": 0},
            "Dimension weights; they must sum to 100 (within 0.01). Dimensions not named weigh 0.",
        ),
        "minProperties": 1,
        "nullable": True,
    }
)
class WeightsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": POLICY_HINT_MAX},
            {
                "type": "object",
                "properties": {"on_failure": {"type": "string", "enum": list(ON_FAILURE)}},
                "additionalProperties": {},
            },
        ],
        "nullable": True,
        "description": 'A string for the improvement prompt, or {"on_failure": "human_review"}.',
    }
)
class PolicyHintField(serializers.JSONField):
    pass


def _dimensions_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(DIMENSIONS), min_length=1, required=False, allow_null=True,
        help_text="The dimensions to evaluate and gate on (default: all eight).",
    )  # fmt: skip


def _optional(field: type[serializers.Field], **kwargs: Any) -> serializers.Field:
    """An optional request field that the parser treats as absent when it is null."""
    return field(required=False, allow_null=True, **kwargs)


class _ScoredTextSerializer(serializers.Serializer):
    """The fields every scoring request shares: the text, its context, and how to judge it."""

    content = serializers.CharField(
        min_length=CONTENT_MIN, max_length=CONTENT_MAX, trim_whitespace=False
    )
    dimensions = _dimensions_field()
    weights = WeightsField(required=False, allow_null=True)
    # a contract field name; DRF's metaclass moves declared fields off the class
    context = _optional(serializers.CharField, max_length=CONTEXT_MAX, allow_blank=True)  # type: ignore[assignment]
    domain = _optional(serializers.ChoiceField, choices=DOMAINS)
    usecase = _optional(serializers.ChoiceField, choices=USECASES)
    prompt = _optional(serializers.CharField, max_length=10_000, allow_blank=True)
    user_query = _optional(
        serializers.CharField, max_length=10_000, allow_blank=True, help_text="Alias of prompt."
    )
    thresholds = ThresholdsField(required=False, allow_null=True)
    threshold = _optional(
        serializers.FloatField,
        min_value=0,
        max_value=10,
        help_text="Alias of thresholds.overall.score.",
    )


class EvalRequestSerializer(_ScoredTextSerializer):
    mode = _optional(serializers.ChoiceField, choices=["basic", "deep", "auto"])
    context = _optional(
        serializers.CharField,
        max_length=EVAL_CONTEXT_MAX,
        allow_blank=True,
        help_text="Up to 120,000 characters here (the SDK's RAILSession sends recent turns).",
    )
    include_explanations = _optional(serializers.BooleanField)
    include_issues = _optional(serializers.BooleanField)
    include_suggestions = _optional(serializers.BooleanField)
    dpdp = serializers.JSONField(
        required=False, allow_null=True, help_text="Sent by the official SDK; ignored."
    )


class SafeRegenerateRequestSerializer(_ScoredTextSerializer):
    mode = _optional(serializers.ChoiceField, choices=["basic", "deep"])
    max_regenerations = _optional(serializers.IntegerField, min_value=1, max_value=5)
    max_iterations = _optional(
        serializers.IntegerField, min_value=1, max_value=5, help_text="Alias of max_regenerations."
    )
    regeneration_model = _optional(
        serializers.CharField, max_length=200, allow_blank=True,
        help_text="RAIL_Safe_LLM (default), external, or a configured provider/model.",
    )  # fmt: skip
    policy_hint = PolicyHintField(required=False, allow_null=True)
    stop_on_no_improvement = serializers.BooleanField(required=False)
    max_cost_usd = _optional(serializers.FloatField, min_value=0, max_value=100)
    dry_run = serializers.BooleanField(
        required=False, help_text="Price the worst case without running."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # "async" is a Python keyword, so the field is added by name here
        fields["async"] = serializers.BooleanField(
            required=False, help_text="Run as a job: 202 with a status URL."
        )
        return fields


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """A request body that refuses fields it does not know, naming each (README)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(unknown, ["Unknown field."]))
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "minLength": CONTENT_MIN, "maxLength": CONTENT_MAX})
class _RegeneratedContentField(StrictCharField):
    """Documents the 10-character minimum, which ``sessions`` checks once the session is
    found, before its state (a finished session answers its final result to a valid body)."""


class ContinueRequestSerializer(StrictSerializer):
    session_id = StrictCharField(min_length=1, max_length=40)
    regenerated_content = _RegeneratedContentField(max_length=CONTENT_MAX, trim_whitespace=False)


NOT_BLANK = RegexValidator(r"\S", "Must not be blank.")
"""Non-blank, as the schema can say it (``pattern: "\\S"``): a blank text is refused
by the schema and by validation alike."""


def _not_blank(value: str) -> None:
    if not value.strip():
        raise serializers.ValidationError("Must not be blank.")


class AgentInjectionRequestSerializer(serializers.Serializer):
    content = StrictCharField(
        min_length=1, max_length=CONTENT_MAX, trim_whitespace=False, validators=[NOT_BLANK]
    )
    content_source = StrictCharField(
        max_length=200, required=False, allow_blank=True, help_text="e.g. web_search_result"
    )
    agent_context = serializers.DictField(required=False)


class ToolResultSerializer(serializers.Serializer):
    raw = StrictCharField(
        max_length=CONTENT_MAX,
        required=False,
        trim_whitespace=False,
        validators=[NOT_BLANK],
        help_text="The tool's text output (give raw or data).",
    )
    data = serializers.JSONField(  # type: ignore[assignment]  # a contract field name, as above
        required=False,
        allow_null=True,
        help_text="The tool's structured output (give raw or data).",
    )
    format = serializers.ChoiceField(["text", "json"], required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Keep the text to scan: ``raw``, else ``data`` as JSON; one is required."""
        if "raw" in attrs:
            text = attrs["raw"]
        elif attrs.get("data") is not None:
            text = json.dumps(attrs["data"], ensure_ascii=False)
        else:
            raise serializers.ValidationError("Give raw (text) or data (JSON).")
        if not text.strip() or len(text) > CONTENT_MAX:
            raise serializers.ValidationError(
                f"The result must have 1 to {CONTENT_MAX:,} non-blank characters."
            )
        return {**attrs, "text": text}


class AgentToolResultRequestSerializer(serializers.Serializer):
    tool_name = StrictCharField(min_length=1, max_length=200, validators=[_not_blank])
    tool_result = ToolResultSerializer(help_text="raw (text) or data (JSON); one is required.")
    tool_params = serializers.DictField(required=False)
    checks = serializers.ListField(
        child=serializers.ChoiceField(list(AGENT_CHECKS)), required=False, min_length=1
    )
    agent_context = serializers.DictField(required=False)


class WhatIfRequestSerializer(serializers.Serializer):
    """The shape of a what-if (the rules are the thresholds' and weights' own)."""

    thresholds = ThresholdsField(required=False, allow_null=True)
    weights = WeightsField(required=False, allow_null=True)
    days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=365, default=30,
        help_text="Replay the runs of the last this many days.",
    )  # fmt: skip


class ArmSerializer(serializers.Serializer):
    """One side of an A/B: a regenerator and a prompt template version."""

    regeneration_model = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=200,
        help_text="RAIL_Safe_LLM (the default: the project's or the server's regenerator), "
        "embedded, or a configured provider/model.",
    )  # fmt: skip
    prompt_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=0,
        help_text="A version of the project's prompt templates (0: the built-in; null or "
        "absent: the one the project uses now).",
    )  # fmt: skip


class ComparisonRequestSerializer(serializers.Serializer):
    """The shape of a regenerator A/B (the rules are ``regen.comparisons``'s)."""

    champion = ArmSerializer(required=False, allow_null=True)
    challenger = ArmSerializer(help_text="Must differ from the champion.")
    inputs = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=200, default=20,
        help_text="Replay the project's last this many failing inputs (fewer if it has fewer).",
    )  # fmt: skip
    dry_run = serializers.BooleanField(
        required=False, default=False,
        help_text="Answer the worst-case price without holding or running anything.",
    )  # fmt: skip


class DecisionSerializer(StrictSerializer):
    decision = serializers.ChoiceField(["approve", "reject", "rewrite"])
    reason = StrictCharField(max_length=5_000)
    content = StrictCharField(max_length=10_000, required=False, default="")
    override = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Save a rewrite that fails the run's thresholds (recorded on the item).",
    )


class RunSummarySerializer(serializers.ModelSerializer):
    req_id = serializers.CharField(read_only=True)
    credits_consumed = serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False
    )

    class Meta:
        model = Run
        fields = [
            "req_id", "kind", "status", "mode", "domain", "external", "session_id",
            "best_score", "best_iteration", "iterations_done", "credits_consumed",
            "total_latency_ms", "created_at", "finished_at",
        ]  # fmt: skip


class RunDetailSerializer(RunSummarySerializer):
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6, coerce_to_string=False)

    class Meta(RunSummarySerializer.Meta):
        fields = RunSummarySerializer.Meta.fields + [
            "request", "original_content", "best_content", "credits_breakdown", "cost_usd",
            "llm_calls", "input_tokens", "output_tokens", "error", "response",
        ]  # fmt: skip


class IterationSerializer(serializers.ModelSerializer):
    iteration = serializers.IntegerField(source="index")
    latency_ms = serializers.FloatField(read_only=True)
    engine = serializers.CharField(read_only=True)

    class Meta:
        model = Iteration
        fields = [
            "iteration", "content", "score", "confidence", "evaluation", "passed",
            "failing_dimensions", "improvement_from_previous", "rail_prompt",
            "prompt_version", "regeneration_model", "latency_ms", "engine", "cost_usd",
            "fidelity", "fidelity_detail",
        ]  # fmt: skip


class ReviewItemSerializer(serializers.ModelSerializer):
    review_id = serializers.CharField(source="id", read_only=True)
    req_id = serializers.CharField(source="run_id", read_only=True)
    decided_by = serializers.SerializerMethodField()
    served_content = serializers.SerializerMethodField()

    class Meta:
        model = ReviewItem
        fields = [
            "review_id", "req_id", "state", "reason", "content", "score", "failing_dimensions",
            "evaluation", "decided_by", "decided_at", "decision_reason", "rewritten_content",
            "rewritten_evaluation", "rewrite_override", "served_content", "created_at",
        ]  # fmt: skip

    def get_decided_by(self, item: ReviewItem) -> str | None:
        if item.decided_by is not None:
            return item.decided_by.get_username()
        if item.decided_by_key is not None:
            return f"key rail_{item.decided_by_key.prefix}"
        return None

    def get_served_content(self, item: ReviewItem) -> str | None:
        """Say what the caller may serve now: the approved text, the rewrite, or nothing."""
        return item.served_content


RUN_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Run.Status.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Run.Kind.values),
    OpenApiParameter("mode", OpenApiTypes.STR, enum=["basic", "deep"]),
    OpenApiParameter("domain", OpenApiTypes.STR, enum=list(DOMAINS)),
    OpenApiParameter("page", {"type": "integer", "minimum": 1}),
    OpenApiParameter(
        "page_size", {"type": "integer", "minimum": 1, "maximum": 200}, description="1 to 200"
    ),
]
REVIEW_FILTERS = [
    OpenApiParameter("state", OpenApiTypes.STR, enum=ReviewItem.State.values),
    OpenApiParameter("page", {"type": "integer", "minimum": 1}),
]
