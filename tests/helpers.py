"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real PostgreSQL row locks and concurrent connections (set DATABASE_URL)",
)


def client_for(key) -> APIClient:
    """Return an API client sending the key as a Bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw}")
    return client
