"""Accounts' own provider keys (BYOK): the only code that reads or writes them.

A key is encrypted with Fernet (AES-128-CBC and HMAC-SHA256) under ``RAIL_ENCRYPTION_KEYS``
(newest first; blank: a key derived from ``SECRET_KEY``). Decryption tries every listed
key, so after a rotation old secrets still open; ``rotate_all`` re-encrypts them under the
newest. The plaintext is never returned to a page or an API answer, never logged, and
never put in an error: it leaves this module only towards the provider's client.
Usage of an account's calls is counted in memory per key (``meter``) and written to the
key's row by ``flush_usage``, which the domain functions call when their work ends.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Account, ProviderKey
from railsite.errors import RequestValidationError, ServiceUnavailable
from regen.engine.types import Usage

logger = logging.getLogger(__name__)

MIN_LENGTH = 8
MAX_LENGTH = 500


def _fernet() -> MultiFernet:
    keys = list(settings.RAIL_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(b"railsite provider keys:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ServiceUnavailable(
            "RAIL_ENCRYPTION_KEYS holds a key that is not a Fernet key."
        ) from error


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        # the settings lost the key that encrypted it: the server's fault, not the caller's
        raise ServiceUnavailable(
            "An account provider key cannot be decrypted with RAIL_ENCRYPTION_KEYS."
        ) from error


def set_key(*, account: Account, provider: str, key: str, user: Any = None) -> ProviderKey:
    """Store (or replace) the account's key for a configured provider, encrypted."""
    from regen.providers import providers

    key = (key or "").strip()
    if provider not in providers():
        raise _invalid("provider", f"{provider!r} is not a provider configured on this server.")
    if not MIN_LENGTH <= len(key) <= MAX_LENGTH or any(c.isspace() for c in key):
        raise _invalid("key", f"A key is {MIN_LENGTH} to {MAX_LENGTH} characters without spaces.")
    row, _ = ProviderKey.objects.update_or_create(
        account=account,
        provider=provider,
        defaults={
            "ciphertext": encrypt(key),
            "created_by": user if getattr(user, "pk", None) else None,
        },
    )
    logger.info("provider key set: account=%s provider=%s", account.slug, provider)
    return row


def delete_key(*, account: Account, provider: str) -> bool:
    """Remove the account's key for ``provider``; say whether there was one."""
    deleted, _ = ProviderKey.objects.filter(account=account, provider=provider).delete()
    if deleted:
        logger.info("provider key deleted: account=%s provider=%s", account.slug, provider)
    return bool(deleted)


def key_for(account: Account | None, provider: str) -> tuple[int, str] | None:
    """Return the id and the plaintext of the account's key for ``provider``, if any."""
    if account is None:
        return None
    row = (
        ProviderKey.objects.filter(account=account, provider=provider)
        .values_list("id", "ciphertext")
        .first()
    )
    return None if row is None else (row[0], decrypt(row[1]))


def rotate_all() -> int:
    """Re-encrypt every stored key under the newest encryption key; return how many."""
    fernet = _fernet()
    count = 0
    with transaction.atomic():
        for row in ProviderKey.objects.select_for_update().only("id", "ciphertext"):
            try:
                rotated = fernet.rotate(row.ciphertext.encode()).decode()
            except InvalidToken as error:
                raise ServiceUnavailable(
                    f"Provider key {row.pk} cannot be decrypted with RAIL_ENCRYPTION_KEYS."
                ) from error
            ProviderKey.objects.filter(id=row.id).update(ciphertext=rotated)
            count += 1
    return count


# -- usage ---------------------------------------------------------------------------------
_pending: dict[int, Usage] = {}
_pending_lock = threading.Lock()


def meter(key_id: int, usage: Usage) -> None:
    """Count one call's usage against an account key (thread-safe; no database)."""
    with _pending_lock:
        _pending[key_id] = _pending.get(key_id, Usage()) + usage


def flush_usage() -> None:
    """Write the counted usage to the keys' rows (one conditional update per key)."""
    with _pending_lock:
        pending = dict(_pending)
        _pending.clear()
    now = timezone.now()
    for key_id, usage in pending.items():
        ProviderKey.objects.filter(id=key_id).update(
            calls=F("calls") + usage.llm_calls,
            input_tokens=F("input_tokens") + usage.input_tokens,
            output_tokens=F("output_tokens") + usage.output_tokens,
            cost_usd=F("cost_usd") + Decimal(str(round(usage.cost_usd, 6))),
            last_used_at=now,
        )


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(message, details={field: [message]})
