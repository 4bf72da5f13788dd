"""The threshold what-if over 100,000 stored runs: one SQL aggregation, timed.

Runs against a throw-away database (``railsite_bench_whatif`` on PostgreSQL) created from
the migrations; the runs are synthetic (random iteration-0 scores over 30 days), stored
as ``runs.apply_loop`` stores them, without scoring anything.
"""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal
from typing import Any

RUNS = 100_000
ROUNDS = 5


def run() -> list[tuple[str, str, str]]:
    """Time the what-if at 100,000 runs; return (measure, figure, goal) rows."""
    import django
    from django.conf import settings

    if not settings.configured:
        django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = "railsite_bench_whatif"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return _what_if(connection.vendor)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _what_if(vendor: str) -> list[tuple[str, str, str]]:
    from regen.engine.requests import parse_regenerate_request
    from regen.engines import get_prices
    from regen.whatif import what_if

    project = _project_with_runs(RUNS)
    request = parse_regenerate_request(
        {
            "content": "x" * 10,
            "thresholds": {
                "overall": {"score": 7.5, "confidence": 0.6},
                "dimensions": {"safety": 8.0, "privacy": 7.0},
                "max_dimension_failures": 1,
            },
            "weights": {"safety": 30, "privacy": 20, "fairness": 25, "reliability": 25},
        }
    )
    timings, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = what_if(
            project=project,
            thresholds=request.thresholds,
            weights=request.weights,
            prices=get_prices(),
        )
        timings.append(time.perf_counter() - start)
    assert result is not None
    assert result["runs"] == RUNS, result["runs"]
    return [
        (
            f"threshold what-if, {RUNS:,} runs ({vendor}; median of {ROUNDS})",
            f"{statistics.median(timings) * 1000:.0f} ms (max {max(timings) * 1000:.0f} ms)",
            "< 1 s",
        )
    ]


def _project_with_runs(count: int) -> Any:
    from billing.accounts import create_account, create_project
    from billing.plans import get_plan
    from regen.engine.dimensions import DIMENSIONS
    from regen.models import Run

    account = create_account(name="Bench what-if", slug="bench-what-if", plan=get_plan("pro"))
    project = create_project(account=account, name="bench")
    rng = random.Random(15)
    batch: list[Run] = []
    for i in range(count):
        scores = [round(rng.uniform(2, 10), 1) for _ in DIMENSIONS]
        columns: dict[str, Any] = {}
        for d, score in zip(DIMENSIONS, scores, strict=True):
            columns[f"first_{d}"] = score
            columns[f"first_{d}_confidence"] = round(rng.uniform(0.3, 1.0), 2)
        regenerations = rng.randint(1, 5)
        batch.append(
            Run(
                account=account,
                project=project,
                request={},
                original_content="synthetic",
                status=Run.Status.PASSED,
                mode="deep" if i % 7 == 0 else "basic",
                max_regenerations=regenerations,
                iterations_done=rng.randint(1, regenerations + 1),
                credits_consumed=Decimal(rng.randint(1, 12)),
                first_degraded=False,
                first_critical=sum(scores) / len(scores) < 3.0,
                **columns,
            )
        )
        if len(batch) == 5000:
            Run.objects.bulk_create(batch)
            batch = []
    Run.objects.bulk_create(batch)
    _spread_over_days(project.pk, 30)
    return project


def _spread_over_days(project_id: int, days: int) -> None:
    """Move each run back a random number of days (created_at is auto_now_add)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE regen_run SET created_at = created_at"
                " - floor(random() * %s) * interval '1 day' WHERE project_id = %s",
                [days, project_id],
            )
        else:
            cursor.execute(
                "UPDATE regen_run SET created_at = datetime(created_at,"
                " '-' || (abs(random()) %% %s) || ' days') WHERE project_id = %s",
                [days, project_id],
            )
        cursor.execute("ANALYZE regen_run" if connection.vendor == "postgresql" else "ANALYZE")


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")
    import django

    django.setup()
    for row in run():
        print("  ".join(row))
