"""DRF adapters for API keys: authentication, the permission, and the view mixin.

An API view gets the whole contract (Bearer key, 401 in the error shape, rate limits
and ``X-RateLimit-*`` headers on every answer) by listing ``APIKeyMixin`` first::

    class EvalView(APIKeyMixin, APIView): ...

``request.auth`` is then the ``APIKey`` (``api_key_of(request)``, typed) and
``request.user`` a ``KeyPrincipal``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, cast

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from billing.errors import AuthenticationFailed
from billing.keys import touch_last_used, verify_key
from billing.models import Account, APIKey, Project
from billing.ratelimit import APIKeyRateThrottle, add_rate_limit_headers

logger = logging.getLogger("billing.auth")

# Query parameters a client might put a key in; a key there has leaked into logs already.
KEY_PARAMETERS = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth"})
KEY_LIKE = re.compile(r"\s*(Bearer\s+)?rail_[a-z0-9]{12}_", re.IGNORECASE)


class KeyPrincipal:
    """The caller of an API request: the key, its project and its account."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, key: APIKey) -> None:
        self.key = key

    @property
    def project(self) -> Project:
        return self.key.project

    @property
    def account(self) -> Account:
        return self.key.project.account

    def __str__(self) -> str:
        return f"key rail_{self.key.prefix}"


class APIKeyAuthentication(BaseAuthentication):
    """Authenticate ``Authorization: Bearer rail_...``; never a key in the URL."""

    def authenticate(self, request: Any) -> tuple[KeyPrincipal, APIKey] | None:
        if any(
            name.lower() in KEY_PARAMETERS or KEY_LIKE.match(value)
            for name, value in request.query_params.items()
        ):
            logger.warning("auth refused: API key in the query string path=%s", request.path)
            raise AuthenticationFailed(
                "Send the API key in the Authorization header, not in the URL."
            )
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        try:
            if scheme.lower() != "bearer" or not token:
                raise AuthenticationFailed(
                    "Malformed Authorization header: use 'Bearer <API key>'."
                )
            key = verify_key(token)
        except AuthenticationFailed as exc:
            logger.info("auth failed prefix=%s reason=%s", _prefix_of(token), exc.message)
            raise
        touch_last_used(key)
        logger.info("auth ok prefix=%s account=%s", key.prefix, key.project.account_id)
        return KeyPrincipal(key), key

    def authenticate_header(self, request: Any) -> str:
        return "Bearer"


class HasAPIKey(BasePermission):
    """Require an API key: without one, 401 AUTHENTICATION_ERROR."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not isinstance(request.auth, APIKey):
            logger.info("auth failed prefix=- reason=no API key path=%s", request.path)
            raise AuthenticationFailed()
        return True


class APIKeyMixin:
    """For API views: key authentication, rate limits, and their headers on every answer."""

    authentication_classes: Sequence[type[BaseAuthentication]] = [APIKeyAuthentication]
    permission_classes: Sequence[Any] = [HasAPIKey]  # DRF also takes composed permissions
    throttle_classes: Sequence[type[BaseThrottle]] = [APIKeyRateThrottle]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return add_rate_limit_headers(response, request)


def api_key_of(request: Request) -> APIKey:
    """Return the request's key: only a key-authenticated request gets past ``HasAPIKey``."""
    return cast(APIKey, request.auth)


def _prefix_of(token: str) -> str:
    """Return the public prefix of a presented key for the log, never the secret."""
    parts = token.split("_")
    if len(parts) >= 3 and parts[0] == "rail":
        return parts[1][:16]
    return "-"
