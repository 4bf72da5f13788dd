"""Review webhooks (issue 12): each decision is POSTed, signed, to the project's URL, and
retried after a failure; a receiver on 127.0.0.1 checks the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.accounts import update_policy
from railsite.errors import RequestValidationError
from regen import cleanups, reviews, webhooks
from regen.models import WebhookDelivery
from tests.pages.test_review_pages import make_item


@pytest.fixture
def project_a(account_a):
    from tests.factories import ProjectFactory

    return ProjectFactory(account=account_a, name="Patient portal")


@pytest.fixture
def hooked(project_a, receiver):
    _, url = receiver
    update_policy(project=project_a, webhook_url=url)
    project_a.refresh_from_db()
    return project_a


def _decide(item, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return reviews.decide(item=item, decision="reject", reason="Incites violence.", user=bob)


def test_a_decision_is_posted_signed_to_the_projects_webhook(
    hooked, receiver, account_a, bob, django_capture_on_commit_callbacks
):
    got, _ = receiver
    item = make_item(account_a, project=hooked, content="Something a reviewer rejects.")
    _decide(item, bob, django_capture_on_commit_callbacks)

    assert len(got.received) == 1
    request = got.received[0]
    expected = (
        "sha256="
        + hmac.new(hooked.webhook_secret.encode(), request["body"], hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(request["headers"]["X-Railsite-Signature"], expected)
    assert request["headers"]["X-Railsite-Event"] == "review.decided"
    payload = json.loads(request["body"])
    assert payload["review"]["review_id"] == str(item.id)
    assert payload["review"]["state"] == "rejected"
    assert payload["decided_by"] == "bob"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)


def test_a_failed_delivery_is_retried_by_the_sweep_with_the_same_id(
    hooked, receiver, account_a, bob, django_capture_on_commit_callbacks
):
    got, _ = receiver
    got.statuses = [500]
    item = make_item(account_a, project=hooked, content="Something a reviewer rejects.")
    _decide(item, bob, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)

    assert cleanups.sweep()["webhooks_retried"] == 0  # its back-off has not passed
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert cleanups.sweep()["webhooks_retried"] == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    ids = {r["headers"]["X-Railsite-Delivery"] for r in got.received}
    assert ids == {str(delivery.pk)}  # one event, delivered twice under one id
    assert got.received[0]["body"] == got.received[1]["body"]


def test_a_delivery_that_keeps_failing_gives_up(
    hooked, receiver, account_a, bob, django_capture_on_commit_callbacks
):
    got, _ = receiver
    got.statuses = [503] * webhooks.MAX_ATTEMPTS
    item = make_item(account_a, project=hooked, content="Something a reviewer rejects.")
    _decide(item, bob, django_capture_on_commit_callbacks)
    for _ in range(webhooks.MAX_ATTEMPTS):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        webhooks.retry_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)


def test_a_project_without_a_webhook_records_nothing(
    project_a, account_a, bob, django_capture_on_commit_callbacks
):
    item = make_item(account_a, project=project_a, content="Something a reviewer rejects.")
    _decide(item, bob, django_capture_on_commit_callbacks)
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data", "http://127.0.0.1:9/hook", "ftp://example.org/x"],
)
def test_a_webhook_url_the_server_must_not_call_is_refused(project_a, url):
    with pytest.raises(RequestValidationError) as refused:
        update_policy(project=project_a, webhook_url=url)
    assert "webhook_url" in refused.value.extra["details"]
    project_a.refresh_from_db()
    assert project_a.webhook_url == ""
