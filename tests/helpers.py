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


def let_another_key_have_made(review_id) -> None:
    """Make a review item as if another key of its project had sent the content, and let
    the project's keys decide items: a key may decide only what it did not send."""
    from regen.models import ReviewItem
    from tests.factories import APIKeyFactory

    item = ReviewItem.objects.select_related("project").get(id=review_id)
    item.project.review_by_key = True
    item.project.save(update_fields=["review_by_key"])
    ReviewItem.objects.filter(pk=item.pk).update(api_key=APIKeyFactory(project=item.project))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
