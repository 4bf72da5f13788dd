"""The RAIL-compatible API: parse, call one domain function, render. Nothing more."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.authentication import APIKeyMixin, api_key_of
from railsite.errors import RequestValidationError, ServiceUnavailable
from railsite.params import read_filters
from regen import agent, comparisons, evals, introspection, reviews, service, sessions, whatif
from regen.api import bodies
from regen.api import serializers as s
from regen.api.shapes import shaped
from regen.engine.types import DOMAINS
from regen.errors import NotImplementedByServer, RunNotFound
from regen.idempotency import idempotent
from regen.models import ReviewItem, Run
from regen.runs import Caller

RUN_FILTER_VALUES = {
    "status": Run.Status.values,
    "kind": Run.Kind.values,
    "mode": ("basic", "deep"),
    "domain": DOMAINS,
}


def caller_of(request: Request) -> Caller:
    key = api_key_of(request)
    return Caller(account=key.project.account, project=key.project, api_key=key)


def _body(request: Request) -> Any:
    return request.data


class AgentInjectionView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.AgentInjectionRequestSerializer,
        responses=s.responses(200, 400, 402),
        tags=["agent"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = s.AgentInjectionRequestSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        return Response(
            agent.check_injection(caller=caller_of(request), content=data.validated_data["content"])
        )


class AgentToolResultView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.AgentToolResultRequestSerializer,
        responses=s.responses(200, 400, 402),
        tags=["agent"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = s.AgentToolResultRequestSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        valid = data.validated_data
        return Response(
            agent.tool_result(
                caller=caller_of(request),
                tool_name=valid["tool_name"],
                text=valid["tool_result"]["text"],
                checks=valid.get("checks") or agent.CHECKS,
            )
        )


@extend_schema(exclude=True)  # not part of the contract this server serves
class NotOfferedView(APIKeyMixin, APIView):
    """The RAIL API's compliance and agent features this server does not offer: 501 in the
    contract's error shape, after the key is checked, and nothing charged."""

    def _refuse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        feature = kwargs.get("feature", "This feature")
        raise NotImplementedByServer(
            f"{request.path} is not offered by this server ({feature} features are not "
            "implemented); use /railscore/v1/eval or /railscore/v1/safe-regenerate."
        )

    get = post = put = patch = delete = _refuse


class HealthView(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(responses={200: s.HealthSerializer, 503: s.ERROR}, tags=["service"], auth=[])
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:
            raise ServiceUnavailable("The database is not reachable.") from error
        return Response({"status": "healthy", "service": "railsite", "database": "ok"})


class EvalView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.EvalRequestSerializer,
        responses=s.responses(200, 400, 402, 403, 409, 422, 500),
        tags=["evaluation"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_of(request)
        parsed = evals.parse_for(caller, _body(request))
        return shaped(request, evals.evaluate_content(caller=caller, request=parsed))


class SafeRegenerateView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.SafeRegenerateRequestSerializer,
        responses=s.responses(200, 202, 400, 402, 403, 409, 422, 500),
        tags=["safe-regenerate"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_of(request)
        outcome = service.safe_regenerate(caller=caller, data=_body(request))
        status, body = bodies.safe_regenerate(outcome, caller.account)
        return shaped(request, body, status)


class ContinueView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.ContinueRequestSerializer,
        responses=s.responses(200, 400, 402, 404, 409, 410, 422, 500),
        tags=["safe-regenerate"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = s.ContinueRequestSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        run = sessions.continue_session(
            caller=caller_of(request),
            session_id=data.validated_data["session_id"],
            content=data.validated_data["regenerated_content"],
        )
        return shaped(request, run.answer)


class ConfigView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200), tags=["introspection"])
    def get(self, request: Request) -> Response:
        return Response(introspection.config(api_key_of(request).project))


class CapabilitiesView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200), tags=["introspection"])
    def get(self, request: Request) -> Response:
        return Response(introspection.capabilities(api_key_of(request).project.account.plan))


class DimensionsView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200), tags=["introspection"])
    def get(self, request: Request) -> Response:
        return Response(introspection.dimensions(api_key_of(request).project))


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """Read ``page`` strictly: a whole number from 1, else a 400 (DRF reads ``page=`` as 1)."""
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw == "last" or (raw.isdigit() and int(raw) >= 1):
            return raw
        message = "Must be a whole number from 1."
        raise RequestValidationError(f"page: {message}", details={"page": [message]})

    def get_page_size(self, request: Request) -> int:
        """Read ``page_size`` strictly: a number from 1 to 200, else a 400 (DRF would
        silently fall back to 50 for ``page_size=null``)."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = f"Must be a whole number from 1 to {self.max_page_size}."
            raise RequestValidationError(f"page_size: {message}", details={"page_size": [message]})
        return int(raw)


class RunListView(APIKeyMixin, APIView):
    @extend_schema(
        responses=s.responses(200, 400, 404),
        parameters=s.RUN_FILTERS,
        tags=["runs"],
        operation_id="runs_list",
    )
    def get(self, request: Request) -> Response:
        runs = Run.objects.of_account(api_key_of(request).project.account_id).order_by(
            "-created_at"
        )
        runs = runs.filter(**read_filters(request.query_params, RUN_FILTER_VALUES))
        pages = Pages()
        page = pages.paginate_queryset(runs, request, view=self)
        return pages.get_paginated_response(s.RunSummarySerializer(page, many=True).data)


def _run_for(request: Request, run_id: Any) -> Run:
    try:
        return Run.objects.get(id=run_id, account_id=api_key_of(request).project.account_id)
    except (Run.DoesNotExist, ValueError, DjangoValidationError) as error:
        raise RunNotFound() from error


class RunDetailView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200, 404), tags=["runs"])
    def get(self, request: Request, run_id: str) -> Response:
        run = _run_for(request, run_id)
        data = s.RunDetailSerializer(run).data
        data["iterations"] = s.IterationSerializer(run.iterations.order_by("index"), many=True).data
        return Response(data)


class JobView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200, 404), tags=["jobs"])
    def get(self, request: Request, run_id: str) -> Response:
        return Response(bodies.job_status(_run_for(request, run_id)))


class ReviewListView(APIKeyMixin, APIView):
    @extend_schema(
        responses=s.responses(200, 400, 404),
        parameters=s.REVIEW_FILTERS,
        tags=["review"],
        operation_id="review_items_list",
    )
    def get(self, request: Request) -> Response:
        items = ReviewItem.objects.filter(
            account_id=api_key_of(request).project.account_id
        ).pending_first()
        items = items.filter(
            **read_filters(request.query_params, {"state": ReviewItem.State.values})
        )
        pages = Pages()
        page = pages.paginate_queryset(items, request, view=self)
        return pages.get_paginated_response(s.ReviewItemSerializer(page, many=True).data)


class ReviewDetailView(APIKeyMixin, APIView):
    @extend_schema(responses=s.responses(200, 404), tags=["review"])
    def get(self, request: Request, item_id: str) -> Response:
        item = reviews.get_item_for(api_key_of(request).project.account, item_id)
        return Response(s.ReviewItemSerializer(item).data)


class ReviewDecisionView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.DecisionSerializer,
        responses=s.responses(200, 400, 403, 404, 409),
        tags=["review"],
    )
    @idempotent
    def post(self, request: Request, item_id: str) -> Response:
        item = reviews.get_item_for(api_key_of(request).project.account, item_id)
        data = s.DecisionSerializer(data=_body(request))
        if not data.is_valid():
            raise RequestValidationError(
                "Invalid decision.",
                details={k: [str(m) for m in v] for k, v in data.errors.items()},
            )
        item = reviews.decide(item=item, api_key=api_key_of(request), **data.validated_data)
        return Response(s.ReviewItemSerializer(item).data)


class WhatIfView(APIKeyMixin, APIView):
    """Replay the key's project's past runs under other thresholds and weights: how many
    would pass at once, regenerate or go to review, and the credits, per day. Free."""

    @extend_schema(
        request=s.WhatIfRequestSerializer,
        responses=s.responses(200, 400),
        tags=["runs"],
        operation_id="what_if",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        policy = whatif.parse_policy(_body(request))
        return Response(whatif.replay_policy(project=api_key_of(request).project, policy=policy))


class ComparisonView(APIKeyMixin, APIView):
    @extend_schema(
        request=s.ComparisonRequestSerializer,
        responses=s.responses(200, 202, 400, 402, 403, 503),
        tags=["comparisons"],
        operation_id="comparison_start",
        description="Replay the key's project's last N failing inputs through a champion "
        "and a challenger (regenerator model or prompt template version) as an async job; "
        "`dry_run` answers the worst-case price without holding or running.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        caller = caller_of(request)
        checked = comparisons.check_comparison(caller, _body(request))
        comparison = comparisons.do_comparison(caller, checked)
        if comparison is None:
            return Response(bodies.comparison_price(checked, caller.account))
        report = comparisons.report_of(comparison)
        return Response(bodies.comparison_status(comparison, report, None), status=202)


class ComparisonDetailView(APIKeyMixin, APIView):
    @extend_schema(
        responses=s.responses(200, 404),
        tags=["comparisons"],
        operation_id="comparison_status",
        description="A comparison's progress, each arm's pass rate, mean iterations, "
        "credits, USD and mean fidelity, and every pair of outputs.",
    )
    def get(self, request: Request, comparison_id: str) -> Response:
        account = api_key_of(request).project.account
        found = comparisons.get_comparison_for(account=account, comparison_id=comparison_id)
        report, pairs = comparisons.report_of(found), comparisons.pairs_of(found)
        return Response(bodies.comparison_status(found, report, pairs))
