"""CI refuses the wrong world: missing services stop the run, skips become failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci import current_gaps, missing_requirements

ROOT = Path(__file__).resolve().parents[1]
PROBE = "tests/ci_probe/probe_skip.py"
POSTGRES = {"default": {"ENGINE": "django.db.backends.postgresql"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
EVERYTHING = {"rail_score_sdk": True, "schemathesis": True, "playwright": True}


def gaps(**overrides):
    world = {
        "databases": POSTGRES,
        "caches": REDIS,
        "chromium": "/usr/bin/chromium",
        "importable": EVERYTHING,
    }
    return missing_requirements(**{**world, **overrides})


def run_pytest(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_world_has_no_gaps():
    assert gaps() == []


def test_sqlite_is_a_gap():
    found = gaps(databases={"default": {"ENGINE": "django.db.backends.sqlite3"}})
    assert found == [
        "the database is django.db.backends.sqlite3, not PostgreSQL (set DATABASE_URL=postgres://...)"
    ]


def test_a_local_memory_cache_is_a_gap():
    found = gaps(caches={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
    assert len(found) == 1
    assert "not Redis" in found[0]


def test_a_missing_chromium_is_a_gap():
    found = gaps(chromium=None)
    assert len(found) == 1
    assert "Chromium" in found[0]


@pytest.mark.parametrize("module", sorted(EVERYTHING))
def test_a_package_that_does_not_import_is_a_gap(module):
    found = gaps(importable={**EVERYTHING, module: False})
    assert found == [f"the Python package {module!r} is not importable (make test installs it)"]


def test_ci_on_sqlite_stops_before_any_test_with_a_message_naming_each_gap(tmp_path):
    result = run_pytest(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'ci.sqlite3'}", "CACHE_URL": "locmemcache://ci"},
        PROBE,
    )
    assert result.returncode == 3
    assert "CI=true but this run cannot test the real product" in result.stdout + result.stderr
    assert "not PostgreSQL" in result.stdout + result.stderr
    assert "not Redis" in result.stdout + result.stderr


def test_under_ci_a_skipped_test_fails():
    if current_gaps():
        pytest.skip("this machine lacks what CI requires: " + "; ".join(current_gaps()))
    result = run_pytest({}, PROBE)
    assert result.returncode == 1
    assert "CI=true and this test would have been skipped" in result.stdout
    assert "1 failed" in result.stdout


def test_outside_ci_a_skipped_test_still_skips():
    result = run_pytest({"CI": ""}, PROBE)
    assert result.returncode == 0
    assert "1 skipped" in result.stdout


def test_services_script_under_ci_exits_1_naming_an_unreachable_postgresql():
    result = subprocess.run(
        [sys.executable, "scripts/services.py"],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "TEST_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "CI=true but PostgreSQL is not reachable at 127.0.0.1:1" in result.stderr


def test_services_script_under_ci_exits_1_naming_an_unreachable_redis():
    result = subprocess.run(
        [sys.executable, "scripts/services.py"],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "TEST_CACHE_URL": "redis://127.0.0.1:1/1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "PostgreSQL is not reachable" in result.stderr:
        pytest.skip("PostgreSQL is down here, so the script stops before Redis")
    assert result.returncode == 1
    assert "CI=true but Redis is not reachable at 127.0.0.1:1" in result.stderr


def test_make_test_stops_before_linting_or_testing_when_postgresql_is_unreachable():
    result = subprocess.run(
        ["make", "-s", "test", "PYTEST_ARGS=" + PROBE],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "TEST_DATABASE_URL": "postgres://postgres@127.0.0.1:1/x"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stderr
    assert "All checks passed" not in result.stdout  # ruff never ran


def _shim(folder: Path, name: str, status: int) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\nexit {status}\n")
    path.chmod(0o755)


def test_start_services_stops_with_a_message_when_postgresql_will_not_start(tmp_path):
    # PostgreSQL looks down and refuses to start; Redis answers.
    for name, status in (
        ("pg_isready", 2),
        ("pg_ctlcluster", 1),
        ("redis-server", 0),
        ("redis-cli", 0),
    ):
        _shim(tmp_path, name, status)
    result = subprocess.run(
        ["bash", "scripts/start-services.sh"],
        cwd=ROOT,
        env={
            **os.environ,
            "CI": "true",
            "PATH": f"{tmp_path}:{os.environ['PATH']}",
            "START_WAIT_SECONDS": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "PostgreSQL is down on 127.0.0.1:5432 and could not be started" in result.stderr


def test_start_services_under_ci_stops_when_redis_is_not_installed(tmp_path):
    _shim(tmp_path, "pg_isready", 0)
    bare_path = f"{tmp_path}:/usr/bin/env-only-missing"
    result = subprocess.run(
        ["/bin/bash", "scripts/start-services.sh"],
        cwd=ROOT,
        env={**os.environ, "CI": "true", "PATH": bare_path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Redis is not installed" in result.stderr
