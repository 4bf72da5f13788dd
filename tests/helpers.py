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


def start_gunicorn(env: dict[str, str], log, *, workers: int = 2):  # type: ignore[no-untyped-def]
    """Start the app under gunicorn on a free port in its own session (so the test can
    signal every worker); return the process and its URL. Stop it with ``stop_gunicorn``."""
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "railsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--no-control-socket", "--log-level", "warning"],
        cwd=Path(__file__).resolve().parent.parent, env=env, stdout=log.open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def stop_gunicorn(process) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def answers(url: str) -> bool:
    """Tell whether the app at ``url`` answers its health check."""
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
