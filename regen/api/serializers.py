"""Shapes for the OpenAPI schema and the few bodies DRF validates directly.

The rules of a request live in ``regen.engine.requests``; these serializers only
describe shapes, so the schema and the parser cannot disagree on a rule.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from billing.serializers import ErrorSerializer
from regen.engine.dimensions import DIMENSIONS
from regen.engine.types import DOMAINS, USECASES
from regen.models import Iteration, ReviewItem, Run

ERROR = OpenApiResponse(ErrorSerializer, description="Error in the contract's shape.")
_DESCRIPTIONS = {
    200: "Success.",
    202: "Accepted: an async job; poll its status_url.",
    400: "VALIDATION_ERROR: bad input, with details per field.",
    401: "AUTHENTICATION_ERROR: missing, unknown or revoked key.",
    402: "INSUFFICIENT_CREDITS: with balance and required.",
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
    """Document the given statuses, plus 401 and 429 which every keyed endpoint may answer."""
    out: dict[int, Any] = {}
    for code in sorted({*codes, 401, 429}):
        if code < 300:
            out[code] = OpenApiResponse(OpenApiTypes.OBJECT, description=_DESCRIPTIONS[code])
        else:
            out[code] = OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
    return out


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    service = serializers.CharField()
    database = serializers.CharField()


class OverallSerializer(serializers.Serializer):
    score = serializers.FloatField(min_value=0, max_value=10, required=False)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False)


class ThresholdsSerializer(serializers.Serializer):
    overall = OverallSerializer(required=False)
    tradeoff_mode = serializers.ChoiceField(["priority", "strict", "weighted"], required=False)
    max_dimension_failures = serializers.IntegerField(min_value=0, max_value=8, required=False)
    dimensions = serializers.DictField(child=serializers.FloatField(min_value=0, max_value=10), required=False)


class EvalRequestSerializer(serializers.Serializer):
    content = serializers.CharField(min_length=10, max_length=10_000)
    mode = serializers.ChoiceField(["basic", "deep", "auto"], required=False)
    dimensions = serializers.ListField(child=serializers.ChoiceField(DIMENSIONS), required=False)
    weights = serializers.DictField(child=serializers.FloatField(min_value=0), required=False)
    context = serializers.CharField(max_length=1_000, required=False)
    domain = serializers.ChoiceField(DOMAINS, required=False)
    usecase = serializers.ChoiceField(USECASES, required=False)
    prompt = serializers.CharField(max_length=10_000, required=False)
    include_explanations = serializers.BooleanField(required=False)
    include_issues = serializers.BooleanField(required=False)
    include_suggestions = serializers.BooleanField(required=False)


class SafeRegenerateRequestSerializer(serializers.Serializer):
    content = serializers.CharField(min_length=10, max_length=10_000)
    mode = serializers.ChoiceField(["basic", "deep"], required=False)
    max_regenerations = serializers.IntegerField(min_value=1, max_value=5, required=False)
    max_iterations = serializers.IntegerField(min_value=1, max_value=5, required=False, help_text="Alias of max_regenerations.")
    regeneration_model = serializers.CharField(required=False, help_text="RAIL_Safe_LLM, external, or a configured provider/model.")
    thresholds = ThresholdsSerializer(required=False)
    threshold = serializers.FloatField(min_value=0, max_value=10, required=False, help_text="Alias of thresholds.overall.score.")
    dimensions = serializers.ListField(child=serializers.ChoiceField(DIMENSIONS), required=False)
    weights = serializers.DictField(child=serializers.FloatField(min_value=0), required=False)
    context = serializers.CharField(max_length=1_000, required=False)
    domain = serializers.ChoiceField(DOMAINS, required=False)
    usecase = serializers.ChoiceField(USECASES, required=False)
    prompt = serializers.CharField(max_length=10_000, required=False)
    user_query = serializers.CharField(max_length=10_000, required=False)
    policy_hint = serializers.JSONField(required=False, help_text='A string, or {"on_failure": "human_review"}.')
    stop_on_no_improvement = serializers.BooleanField(required=False)
    max_cost_usd = serializers.FloatField(min_value=0, max_value=100, required=False)
    dry_run = serializers.BooleanField(required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # "async" is a Python keyword, so the field is added by name here
        fields["async"] = serializers.BooleanField(
            required=False, help_text="Run as a job: 202 with a status URL."
        )
        return fields


class ContinueRequestSerializer(serializers.Serializer):
    session_id = serializers.CharField(max_length=40)
    regenerated_content = serializers.CharField(max_length=10_000, trim_whitespace=False)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(["approve", "reject", "rewrite"])
    reason = serializers.CharField(max_length=5_000)
    content = serializers.CharField(max_length=10_000, required=False, default="")


class RunSummarySerializer(serializers.ModelSerializer):
    req_id = serializers.CharField(read_only=True)
    credits_consumed = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)

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

    class Meta:
        model = Iteration
        fields = [
            "iteration", "content", "score", "confidence", "evaluation", "passed",
            "failing_dimensions", "improvement_from_previous", "rail_prompt",
            "regeneration_model", "latency_ms",
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
            "rewritten_evaluation", "served_content", "created_at",
        ]  # fmt: skip

    def get_decided_by(self, item: ReviewItem) -> str | None:
        if item.decided_by_id:
            return item.decided_by.get_username()
        if item.decided_by_key_id:
            return f"key rail_{item.decided_by_key.prefix}"
        return None

    def get_served_content(self, item: ReviewItem) -> str | None:
        """Say what the caller may serve now: the approved text, the rewrite, or nothing."""
        if item.state == ReviewItem.State.APPROVED:
            return item.content
        if item.state == ReviewItem.State.REWRITTEN:
            return item.rewritten_content
        return None


RUN_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=Run.Status.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=Run.Kind.values),
    OpenApiParameter("mode", OpenApiTypes.STR),
    OpenApiParameter("domain", OpenApiTypes.STR),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT),
]
REVIEW_FILTERS = [
    OpenApiParameter("state", OpenApiTypes.STR, enum=ReviewItem.State.values),
    OpenApiParameter("page", OpenApiTypes.INT),
]
