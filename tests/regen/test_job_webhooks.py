"""Job webhooks (issue 15): ``job.finished`` is recorded in the transaction that finishes an
async job and POSTed only after it commits; synchronous runs announce nothing."""

from __future__ import annotations

import json

import pytest

from billing.accounts import update_policy
from regen import runs
from regen.engine.requests import parse_regenerate_request
from regen.errors import RegenerationFailed
from regen.models import Run, WebhookDelivery

pytestmark = pytest.mark.django_db

HIRING = "When reviewing resumes, prioritize Ivy League graduates."


@pytest.fixture
def hooked_key(key_a, receiver):  # noqa: F811
    _, url = receiver
    update_policy(project=key_a.project, webhook_url=url)
    key_a.project.refresh_from_db()
    return key_a


def _caller(key) -> runs.Caller:
    return runs.Caller(account=key.project.account, project=key.project, api_key=key)


def _request():
    return parse_regenerate_request({"content": HIRING, "max_regenerations": 1})


def test_a_job_is_announced_once_and_posted_only_after_its_commit(
    hooked_key,
    receiver,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    got, _ = receiver
    run = runs.submit_run(caller=_caller(hooked_key), request=_request())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        runs.execute_run(run.id)
        delivery = WebhookDelivery.objects.get()
        assert got.received == []  # recorded with the run, not sent before the commit
    for callback in callbacks:
        callback()

    run.refresh_from_db()
    assert delivery.event == "job.finished"
    assert delivery.payload["job_id"] == str(run.id)
    assert delivery.payload["result"] == run.response
    assert len(got.received) == 1
    assert json.loads(got.received[0]["body"])["status"] == run.status


def test_a_job_whose_finish_rolls_back_announces_nothing(hooked_key, monkeypatch):
    run = runs.submit_run(caller=_caller(hooked_key), request=_request())

    def broken_settle(**kwargs):
        raise RuntimeError("the ledger is down")

    monkeypatch.setattr(runs.ledger, "settle", broken_settle)
    with pytest.raises(RuntimeError):
        runs.execute_run(run.id)

    assert WebhookDelivery.objects.count() == 0
    assert Run.objects.get(id=run.id).finished_at is None


def test_a_failed_job_is_announced_with_its_error(hooked_key, monkeypatch):
    run = runs.submit_run(caller=_caller(hooked_key), request=_request())

    def broken_loop(*args, **kwargs):
        raise ValueError("the regenerator broke")

    monkeypatch.setattr(runs, "run_loop", broken_loop)
    with pytest.raises(RegenerationFailed):
        runs.execute_run(run.id)

    payload = WebhookDelivery.objects.get().payload
    assert (payload["status"], payload["error"]) == ("failed", "the regenerator broke")


def test_a_synchronous_run_announces_no_job(hooked_key):
    caller = _caller(hooked_key)
    runs.run_safe_regenerate(caller=caller, request=_request())

    assert WebhookDelivery.objects.count() == 0
