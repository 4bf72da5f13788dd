"""A claimed run carries a lease; the clean-ups run without a separate beat (issue 11,
defect 3). Worker processes are in tests/celery; these drive regen.runs directly."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing import ledger
from billing.models import Hold
from regen import cleanups, runs, tasks
from regen.engine.requests import parse_regenerate_request
from regen.models import IdempotencyRecord, Run
from tests.api.texts import HIRING


def _caller(key):
    return runs.Caller(account=key.project.account, project=key.project, api_key=key)


def _queued(key):
    return runs.submit_run(
        caller=_caller(key), request=parse_regenerate_request({"content": HIRING})
    )


def test_a_second_delivery_is_refused_while_the_first_executor_holds_the_lease(key_a):
    run = _queued(key_a)
    first = runs._claim(run.id)
    assert first is not None
    assert first.lease_token is not None
    with pytest.raises(runs.LeaseHeld) as held:
        runs._claim(run.id)
    assert 0 < held.value.retry_in <= 301
    assert Run.objects.get(id=run.id).attempts == 1


def test_a_dead_executors_run_is_taken_over_once_its_lease_expires(key_a):
    run = _queued(key_a)
    first = runs._claim(run.id)
    Run.objects.filter(id=run.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = runs._claim(run.id)
    assert second is not None
    assert second.lease_token != first.lease_token
    assert Run.objects.get(id=run.id).attempts == 2


def test_the_presumed_dead_executor_stops_and_changes_nothing(key_a):
    run = _queued(key_a)
    first = runs._claim(run.id)
    Run.objects.filter(id=run.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = runs._claim(run.id)
    with pytest.raises(runs.LeaseLost):
        runs._renew(first)
    runs._renew(second)  # the new owner renews fine
    assert Run.objects.get(id=run.id).lease_token == second.lease_token


def test_a_late_executor_cannot_settle_a_run_it_no_longer_owns(key_a, account_a):
    run = _queued(key_a)
    first = runs._claim(run.id)
    Run.objects.filter(id=run.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    runs._claim(run.id)
    with pytest.raises(runs.LeaseLost):
        runs._execute(first, progress=True)
    assert Hold.objects.get(reference=run.req_id).state == "open"  # the owner settles it
    assert Run.objects.get(id=run.id).status == "running"


def test_the_owner_renews_its_lease_at_every_stored_iteration(key_a, settings):
    settings.RUN_LEASE_SECONDS = 300
    run = _queued(key_a)
    done = runs.execute_run(run.id, progress=True)
    assert done.is_final
    assert done.lease_expires_at > timezone.now() + timedelta(seconds=250)


def test_the_task_retries_when_it_meets_a_live_lease(key_a, monkeypatch):
    run = _queued(key_a)
    runs._claim(run.id)
    retried = {}

    def retry(*, countdown, max_retries, **kwargs):
        retried.update(countdown=countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.execute_run_task, "retry", retry)
    with pytest.raises(RuntimeError, match="retry"):
        tasks.execute_run_task.run(str(run.id))
    assert 0 < retried["countdown"] <= 301


def test_a_running_run_with_a_live_lease_is_never_stale_however_old(key_a):
    run = _queued(key_a)
    runs._claim(run.id)
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(hours=3))
    assert runs.fail_stale_runs() == 0


def test_a_running_run_whose_lease_expired_past_redelivery_is_failed(key_a, account_a, settings):
    balance = ledger.balance_of(account_a)
    run = _queued(key_a)
    runs._claim(run.id)
    lost_for = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 61
    Run.objects.filter(id=run.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=lost_for)
    )
    assert runs.fail_stale_runs() == 1
    assert Run.objects.get(id=run.id).status == "failed"
    assert ledger.available_of(account_a) == balance


def test_a_killed_sync_requests_run_is_failed_after_the_request_lease(key_a, settings):
    settings.IDEMPOTENCY_LEASE_SECONDS = 40
    run = runs.submit_run(
        caller=_caller(key_a), request=parse_regenerate_request({"content": HIRING}), running=True
    )
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(seconds=30))
    assert runs.fail_stale_runs() == 0
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(seconds=50))
    assert runs.fail_stale_runs() == 1


def test_one_sweep_runs_every_clean_up(key_a, account_a):
    lost = _queued(key_a)
    Run.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(minutes=31))
    session = runs.submit_run(
        caller=_caller(key_a), request=parse_regenerate_request({"content": HIRING})
    )
    Run.objects.filter(id=session.id).update(
        external=True,
        status="awaiting_regeneration",
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    IdempotencyRecord.objects.create(account=account_a, key="old", path="/x", body_hash="h")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    evaluation_hold = ledger.hold(account=account_a, amount=1, reference="e", request_bound=True)
    Hold.objects.filter(pk=evaluation_hold.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )

    done = cleanups.sweep()

    assert done == {
        "stale_runs_failed": 1,
        "stale_comparisons_ended": 0,
        "orphaned_holds_released": 1,
        "sessions_expired": 1,
        "idempotency_keys_forgotten": 1,
        "webhooks_retried": 0,
    }
    assert cleanups.sweep() == dict.fromkeys(done, 0)  # idempotent


def test_the_command_runs_the_sweep_once(key_a, capsys):
    call_command("run_cleanups")
    assert "stale_runs_failed: 0" in capsys.readouterr().out
