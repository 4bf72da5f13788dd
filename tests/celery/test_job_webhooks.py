"""Job webhooks (issue 15) on a real Celery worker: a finished async job is announced once,
``job.finished`` with its result, signed, after the commit that finishes the run; a
receiver that answers 500 first gets it again from the sweep; the policy page lists it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.accounts import update_policy
from regen import cleanups
from regen.models import Run, WebhookDelivery
from tests.celery.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

HIRING = "When reviewing resumes, prioritize Ivy League graduates."


@pytest.fixture(scope="module", autouse=True)
def _worker_may_call_localhost() -> Iterator[None]:
    """The worker reads RAIL_WEBHOOK_ALLOWLIST from its environment when it starts."""
    saved = os.environ.get("RAIL_WEBHOOK_ALLOWLIST")
    os.environ["RAIL_WEBHOOK_ALLOWLIST"] = "127.0.0.1"
    yield
    if saved is None:
        del os.environ["RAIL_WEBHOOK_ALLOWLIST"]
    else:
        os.environ["RAIL_WEBHOOK_ALLOWLIST"] = saved


def test_a_finished_job_is_announced_once_retried_after_a_500_and_listed(
    api_a, key_a, alice, client, receiver, send_to_worker
):
    got, url = receiver
    got.statuses = [500]
    project = key_a.project
    update_policy(project=project, webhook_url=url)
    project.refresh_from_db()

    job = api_a.post(
        "/railscore/v1/safe-regenerate",
        {"content": HIRING, "max_regenerations": 1, "async": True},
        format="json",
    ).json()
    run = wait_for(
        lambda: Run.objects.filter(id=job["job_id"], finished_at__isnull=False).first(),
        timeout=60, what="the job to finish", worker=send_to_worker,
    )  # fmt: skip
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(event="job.finished", attempts__gte=1).first(),
        timeout=20, what="the worker's first attempt", worker=send_to_worker,
    )  # fmt: skip

    # exactly one, recorded with the finished run; the worker's attempt after commit got 500
    assert WebhookDelivery.objects.filter(event="job.finished").count() == 1
    assert delivery.created_at <= run.finished_at + timedelta(seconds=1)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert len(got.received) == 1

    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert cleanups.sweep()["webhooks_retried"] == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)

    first, second = got.received
    assert first["body"] == second["body"]
    assert {first["headers"]["X-Railsite-Delivery"], second["headers"]["X-Railsite-Delivery"]} == {
        str(delivery.pk)
    }
    assert second["headers"]["X-Railsite-Event"] == "job.finished"
    expected = hmac.new(project.webhook_secret.encode(), second["body"], hashlib.sha256)
    assert second["headers"]["X-Railsite-Signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(second["body"])
    assert payload["job_id"] == job["job_id"]
    assert payload["status"] == run.status
    assert payload["result"] == run.response
    assert payload["result"]["result"]["iteration_history"][1]["fidelity"] is not None

    client.force_login(alice)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "<td>job.finished</td>" in page
