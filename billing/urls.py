"""Billing endpoints (filled in by the billing work)."""

urlpatterns: list = []
