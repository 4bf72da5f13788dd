"""The EvalGuard-compatible endpoint (seed 002): parse, call ``regen.evalguard``, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import ErrorSerializer
from billing.authentication import APIKeyMixin
from regen import evalguard
from regen.api.serializers import responses
from regen.api.views import caller_of
from regen.engine.dimensions import DIMENSIONS
from regen.idempotency import idempotent

BUDGET_OR_CREDITS = OpenApiResponse(
    ErrorSerializer,
    description=(
        "BUDGET_EXCEEDED: the worst-case USD estimate (estimatedWorstCaseUsd) exceeds "
        "maxCostUsd; or INSUFFICIENT_CREDITS, with balance and required; or "
        "KEY_BUDGET_EXCEEDED, the key's monthly credit budget, with details."
    ),
)


class EvalGuardRequestSerializer(serializers.Serializer):
    """Shape only, for the schema: the rules live in ``regen.evalguard.parse_request``."""

    content = serializers.CharField(min_length=10, max_length=10_000)
    prompt = serializers.CharField(max_length=10_000, allow_blank=True)
    threshold = serializers.FloatField(min_value=0, max_value=1, default=0.8)
    maxIterations = serializers.IntegerField(min_value=1, max_value=10, default=3)
    dimensions = serializers.ListField(
        child=serializers.ChoiceField(DIMENSIONS), required=False, min_length=1
    )
    scorerSet = serializers.ChoiceField(["basic", "deep"], default="basic")
    regeneratorModel = serializers.CharField(default=evalguard.DEFAULT_MODEL)
    maxCostUsd = serializers.FloatField(min_value=0, max_value=100, default=0.5)
    projectId = serializers.CharField(required=False, allow_null=True, min_length=1, max_length=100)
    recordHistory = serializers.BooleanField(default=False)


class EvalGuardSafeRegenerateView(APIKeyMixin, APIView):
    @extend_schema(
        request=EvalGuardRequestSerializer,
        responses={**responses(200, 400, 403, 404, 409, 422, 500), 402: BUDGET_OR_CREDITS},
        tags=["evalguard"],
        summary="Eval -> regenerate loop with cost-budget enforcement (EvalGuard)",
        description=(
            "Scores the content on the selected dimensions (0-1 = score / 10) and regenerates "
            "while the worst one is below `threshold`, stopping on pass, `maxIterations`, no "
            "improvement or the USD budget. A worst-case estimate above `maxCostUsd` answers "
            "402 BUDGET_EXCEEDED before any work."
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        return Response(evalguard.safe_regenerate(caller=caller_of(request), data=request.data))
