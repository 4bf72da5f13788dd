"""The billing API: verify a key, read the credit balance and the ledger of the key's account."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import ledger
from billing.api.serializers import (
    CreditsSerializer,
    ErrorSerializer,
    LedgerEntrySerializer,
    VerifySerializer,
)
from billing.authentication import APIKeyMixin, api_key_of
from billing.models import LedgerEntry
from railsite.params import read_filters
from regen.idempotency import idempotent

KEY_ERRORS = {
    401: OpenApiResponse(
        ErrorSerializer, description="Missing, malformed, unknown or revoked key."
    ),
    429: OpenApiResponse(ErrorSerializer, description="Rate limit exceeded; see Retry-After."),
}


class LedgerPageSerializer(serializers.Serializer):
    """A page of the ledger, as the paginator renders it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LedgerEntrySerializer(many=True)


class LedgerPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(
    request=None,
    responses={
        200: VerifySerializer,
        **KEY_ERRORS,
        409: OpenApiResponse(ErrorSerializer, description="IDEMPOTENCY_CONFLICT."),
    },
    tags=["account"],
)
class VerifyView(APIKeyMixin, APIView):
    """Check the API key: its plan and the credits it can spend. Free."""

    @idempotent
    def post(self, request: Request) -> Response:
        key = api_key_of(request)
        account = key.project.account
        data = {
            "valid": True,
            "plan": account.plan.slug,
            "credits_remaining": ledger.available_of(account),
            "account": account.name,
            "project": key.project.slug,
            "environment": key.project.environment,
        }
        return Response(VerifySerializer(data).data)


@extend_schema(responses={200: CreditsSerializer, **KEY_ERRORS}, tags=["credits"])
class CreditsView(APIKeyMixin, APIView):
    """The credit balance of the key's account, and how much of it is held."""

    def get(self, request: Request) -> Response:
        account = api_key_of(request).project.account
        credits = account.credits
        data = {
            "balance": credits.balance,
            "held": credits.held,
            "available": credits.available,
            "plan": account.plan.slug,
            "credits_per_month": account.plan.credits_per_month,
        }
        return Response(CreditsSerializer(data).data)


@extend_schema(
    responses={200: LedgerPageSerializer, 400: ErrorSerializer, 404: ErrorSerializer, **KEY_ERRORS},
    parameters=[
        OpenApiParameter("kind", OpenApiTypes.STR, enum=LedgerEntry.Kind.values),
        OpenApiParameter("reference", OpenApiTypes.STR, description="e.g. a run's req_id"),
    ],
    tags=["credits"],
)
class LedgerView(APIKeyMixin, APIView):
    """The ledger of the key's account, newest first, paginated."""

    def get(self, request: Request) -> Response:
        entries = LedgerEntry.objects.filter(account_id=api_key_of(request).project.account_id)
        allowed = {"kind": LedgerEntry.Kind.values, "reference": None}
        entries = entries.filter(**read_filters(request.query_params, allowed))
        paginator = LedgerPagination()
        page = paginator.paginate_queryset(entries.order_by("-id"), request, view=self)
        return paginator.get_paginated_response(LedgerEntrySerializer(page, many=True).data)
