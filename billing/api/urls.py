"""Billing endpoints: key verification, credit balance and ledger."""

from django.urls import path

from billing.api import views as api

urlpatterns = [
    path("verify", api.VerifyView.as_view(), name="api-verify"),
    path("railscore/v1/credits", api.CreditsView.as_view(), name="api-credits"),
    path("railscore/v1/credits/ledger", api.LedgerView.as_view(), name="api-credits-ledger"),
]
