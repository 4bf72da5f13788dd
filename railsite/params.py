"""Query-string filters of list endpoints: a value outside its set is a 400, not an empty page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from railsite.errors import RequestValidationError


def read_filters(
    query: Mapping[str, Any], allowed: Mapping[str, Sequence[str] | None]
) -> dict[str, str]:
    """Return the given filters; ``None`` allows any value, a sequence lists the valid ones.

    A filter given empty (``?state=``) is a 400 when it has choices, as the schema's enum
    says; one that takes any value ignores an empty one.
    """
    values: dict[str, str] = {}
    details: dict[str, list[str]] = {}
    for name, choices in allowed.items():
        value = query.get(name)
        if value is None or (not value and choices is None):
            continue
        if choices is not None and value not in choices:
            details[name] = [f"Must be one of: {', '.join(choices)}."]
        else:
            values[name] = value
    if details:
        name = next(iter(details))
        raise RequestValidationError(f"{name}: {details[name][0]}", details=details)
    return values
