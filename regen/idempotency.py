"""``Idempotency-Key`` on POST endpoints: replay the stored answer, never run twice.

The same key and body within 24 hours replays the stored answer (status and bytes)
with ``Idempotent-Replayed: true``; the same key with another body, or while the first
call still runs, is a 409. Keys are scoped per account. Answers of 5xx are not stored,
so a failed call can be retried with the same key.

A call holds its key for a lease of ``IDEMPOTENCY_LEASE_SECONDS`` (the web worker's
timeout plus a margin): no request lives longer, so a key still in progress after it
belonged to a worker that was killed mid-request, and the next call with that key and
body takes it over and runs once (TESTS.md T32) instead of answering 409 for 24 hours.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer

from billing.authentication import api_key_of
from railsite.errors import RequestValidationError, ServiceError
from railsite.exceptions import handle_api_exception
from regen.models import IdempotencyRecord

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyConflict(ServiceError):
    status = 409
    code = "IDEMPOTENCY_CONFLICT"


def _claim(account: Any, key: str, path: str, body_hash: str) -> tuple[IdempotencyRecord, bool]:
    """Create the record (committed at once, so duplicates see it), or return the existing one."""
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    account=account, key=key, path=path, body_hash=body_hash
                )
            return record, True
        except IntegrityError:
            found = IdempotencyRecord.objects.filter(account=account, key=key).first()
            if found is None:
                continue  # expired and deleted meanwhile
            record = found
            now = timezone.now()
            if record.created_at < now - LIFETIME:
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                continue
            if _take_over(record, path, body_hash, now):
                return record, True
            return record, False
    raise IdempotencyConflict("The Idempotency-Key is being reused concurrently; retry.")


def _take_over(record: IdempotencyRecord, path: str, body_hash: str, now: Any) -> bool:
    """Take a key whose call outlived its lease (its worker was killed), for the same body.

    One conditional update: of two retries racing for a dead key, exactly one wins.
    """
    lease = timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
    if (
        record.state != IdempotencyRecord.State.IN_PROGRESS
        or (record.path, record.body_hash) != (path, body_hash)
        or record.created_at >= now - lease
    ):
        return False
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, created_at=record.created_at
    ).update(created_at=now)
    if taken:
        record.created_at = now
    return bool(taken)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(record.body, status=record.status_code, content_type="application/json")
    response["Idempotent-Replayed"] = "true"
    return response


def _store(record: IdempotencyRecord, status: int, data: Any) -> None:
    if status >= 500:
        record.delete()
        return
    record.state, record.status_code = IdempotencyRecord.State.DONE, status
    record.body = JSONRenderer().render(data).decode()
    record.save(update_fields=["state", "status_code", "body"])


def idempotent(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an API view's ``post`` so an ``Idempotency-Key`` makes it safe to retry."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return respond(request, lambda: handler(view, request, *args, **kwargs))

    return wrapper


def respond(request: Any, run: Callable[[], Any]) -> Any:
    """Answer ``request`` by calling ``run`` once per key, or replay the stored answer.

    A plain function rather than the decorator's closure, so every decision here is
    reachable by the tests and by mutation testing (mutmut skips decorated functions).
    """
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        message = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
        raise RequestValidationError(message, details={HEADER: [message]})
    body_hash = hashlib.sha256(request.body).hexdigest()
    account = api_key_of(request).project.account
    record, created = _claim(account, key, request.path, body_hash)
    if not created:
        if record.body_hash != body_hash or record.path != request.path:
            raise IdempotencyConflict("This Idempotency-Key was used with a different request.")
        if record.state == IdempotencyRecord.State.IN_PROGRESS:
            raise IdempotencyConflict("A request with this Idempotency-Key is still running.")
        return _replay(record)
    try:
        response = run()
    except (ServiceError, APIException) as error:
        answer = handle_api_exception(error, {})
        if answer is None:
            record.delete()
            raise
        _store(record, answer.status_code, answer.data)
        raise
    except BaseException:
        record.delete()
        raise
    _store(record, response.status_code, response.data)
    return response
