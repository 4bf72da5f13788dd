"""CI fails if a test-half figure drops more than 0.02 below the recorded one (issue 8).

The recorded figures live in ``bench/quality_recorded.json`` (written by
``bench/quality.py --record``). The gate rescores the labelled data of
``RAIL_DATA_DIR`` (default ``../shared/data``) with the recorded evaluator; without the
data the test skips, which ``tests/conftest.py`` turns into a failure under ``CI=true``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.quality import (
    GATE_TOLERANCE,
    RECORDED,
    data_dir,
    gate_failures,
    gate_figures,
    make_evaluator,
    read_rows,
)


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def current() -> dict[str, float]:
    directory = data_dir()
    if not directory.is_dir() or not any(directory.glob("*.jsonl")):
        pytest.skip(f"no labelled data at {directory} (set RAIL_DATA_DIR)")
    rows = list(read_rows(directory, make_evaluator(recorded()["evaluator"])))
    return gate_figures(rows)


def test_the_recorded_figures_are_the_default_evaluators_test_half() -> None:
    assert (recorded()["evaluator"], recorded()["half"]) == ("embedded", "test")


def test_every_issue_8_goal_has_a_recorded_figure() -> None:
    from bench.quality_report import GOALS

    names = {f"{dimension} {kind} on {dataset}" for dataset, dimension, kind, _ in GOALS}
    assert names - set(recorded()["figures"]) == set()


def test_no_test_half_figure_dropped_more_than_the_tolerance_below_the_record(
    current: dict[str, float],
) -> None:
    failures = gate_failures(recorded()["figures"], current, GATE_TOLERANCE)
    assert failures == [], "test-half figures dropped below the record:\n  " + "\n  ".join(failures)


def test_a_drop_of_more_than_the_tolerance_is_named() -> None:
    failures = gate_failures({"safety auroc on x": 0.90}, {"safety auroc on x": 0.879})
    assert failures == ["safety auroc on x: recorded 0.900, now 0.879 (-0.021)"]


def test_a_drop_within_the_tolerance_passes() -> None:
    assert gate_failures({"safety auroc on x": 0.90}, {"safety auroc on x": 0.881}) == []


def test_a_recorded_figure_that_can_no_longer_be_computed_fails() -> None:
    failures = gate_failures({"safety auroc on x": 0.90}, {})
    assert failures == ["safety auroc on x: recorded 0.900, now not computable"]
