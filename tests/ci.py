"""What a CI run requires of its world, checked before any test runs.

With ``CI=true`` the suite must run against the real services, not quietly around them:
PostgreSQL as the database, Redis as the cache, the system Chromium for the browser
tests, and the official SDK and schemathesis importable. Anything missing stops the run
with one message naming every gap, and any test that would skip is failed instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from typing import Any


def ci_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("CI", "").lower() == "true"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_requirements(
    *,
    databases: Mapping[str, Any],
    caches: Mapping[str, Any],
    chromium: str | None,
    importable: Mapping[str, bool],
) -> list[str]:
    """Name every requirement of a CI run that this world does not meet."""
    gaps = []
    engine = databases["default"]["ENGINE"]
    if "postgresql" not in engine:
        gaps.append(f"the database is {engine}, not PostgreSQL (set DATABASE_URL=postgres://...)")
    backend = caches["default"]["BACKEND"]
    if "redis" not in backend.lower():
        gaps.append(f"the cache is {backend}, not Redis (set CACHE_URL=redis://...)")
    if chromium is None:
        gaps.append("the system Chromium is not installed (apt-get install chromium)")
    for module, found in importable.items():
        if not found:
            gaps.append(f"the Python package {module!r} is not importable (make test installs it)")
    return gaps


def current_gaps() -> list[str]:
    from django.conf import settings

    return missing_requirements(
        databases=settings.DATABASES,
        caches=settings.CACHES,
        chromium=chromium_path(),
        importable={
            name: importlib.util.find_spec(name) is not None
            for name in ("rail_score_sdk", "schemathesis", "playwright")
        },
    )
