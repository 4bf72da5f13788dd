"""Shapes of the billing endpoints' answers (output only: these endpoints take no body)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from billing.models import LedgerEntry


def _credits(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs
    )


class VerifySerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    plan = serializers.CharField(help_text="The account's plan slug, e.g. pro.")
    credits_remaining = _credits(help_text="Credits available now (balance minus open holds).")
    account = serializers.CharField()
    project = serializers.CharField()
    environment = serializers.CharField()


class CreditsSerializer(serializers.Serializer):
    balance = _credits(help_text="Credits owned; the ledger sums to it.")
    held = _credits(help_text="Part of the balance reserved by calls still running.")
    available = _credits(help_text="What a new call can spend: balance minus held.")
    plan = serializers.CharField()
    credits_per_month = serializers.IntegerField()


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = _credits(help_text="Signed change to the balance.")
    held_change = _credits(help_text="Signed change to the held part.")
    balance_after = _credits()
    held_after = _credits()

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "held_change",
            "balance_after",
            "held_after",
            "reference",
            "memo",
            "created_at",
        ]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    """The contract's error body (SPEC 4); some codes add fields, e.g. ``balance``."""

    error = serializers.CharField()
    code = serializers.CharField()
