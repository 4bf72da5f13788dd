"""OpenAPI post-processing: say in the schema what validation already enforces.

The bodies of ``/safe-regenerate/continue`` and a review decision refuse fields they do
not know (a 400 naming each, README); without ``additionalProperties: false`` the schema
would call such a body valid. (``/eval`` and ``/safe-regenerate`` refuse them too; their
schemas stay open because the fuzz's own body repairs, tests/api/fuzz_support.py, then
stop being reproducible for Hypothesis.)
"""

from __future__ import annotations

from typing import Any, Final

CLOSED_BODIES: Final = ("ContinueRequest", "Decision")


def closed_request_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular hook: mark the bodies that refuse unknown fields as closed."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in CLOSED_BODIES:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
