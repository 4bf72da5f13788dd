"""What every dashboard form shares: a domain error shown beside the field it is about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from railsite.errors import ServiceError


class ServiceErrorsMixin:
    """Put a domain error's messages beside the fields they name; the rest on the form.

    A ``RequestValidationError`` (or any ``ServiceError``) carries ``details``: a mapping of
    a field name in the API's terms to its messages. ``field_for`` maps such a name to the
    form's field (``field_aliases`` first); a name no field matches goes to ``unplaced``.
    """

    field_aliases: Mapping[str, str] = {}

    def add_service_error(self, exc: ServiceError, *, default: str | None = None) -> None:
        form: Any = self
        details = exc.extra.get("details") if isinstance(exc.extra, dict) else None
        if not details:
            form.add_error(default, exc.message)
            return
        for key, messages in details.items():
            field = self.field_for(key)
            for text in [messages] if isinstance(messages, str) else messages:
                if field is None:
                    self.unplaced(key, text, default)
                else:
                    form.add_error(field, text)

    def field_for(self, key: str) -> str | None:
        """Name the form field an error about ``key`` belongs to, or None."""
        name = self.field_aliases.get(key, key)
        return name if name in getattr(self, "fields", {}) else None

    def unplaced(self, key: str, text: str, default: str | None) -> None:
        """Show an error no field matches (on the form, or on ``default``)."""
        form: Any = self
        form.add_error(default, text)
