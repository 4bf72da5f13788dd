"""Measure an evaluator against the labelled public data (AUROC per dimension).

Run from the repository root: ``.venv/bin/python bench/quality.py``. The data directory
comes from ``RAIL_DATA_DIR`` (default ``../shared/data``). Calibration half: the first hex
digit of ``sha1(id)`` is 0-7; test half: 8-f (see the data README).

``--evaluator embedded`` (the default; ``learned`` is an alias) measures the default
evaluator, the learned heads composed with the rules, and adds per-dataset figures
(calibration and test side by side, with a text-length baseline), the issue-8 goals,
latency, the ``auto`` escalation rate and the meaning-preservation ranking (``bench/fidelity.py``);
``--markdown docs/quality.md`` writes them.
``--evaluator rules`` measures the rules alone and prints the AUROC tables only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from regen.engine.dimensions import CRITICAL_MEAN, DIMENSIONS  # noqa: E402
from regen.engine.evaluators.learned import LearnedEvaluator  # noqa: E402
from regen.engine.evaluators.rules import RulesEvaluator  # noqa: E402
from regen.engine.scoring import aggregate  # noqa: E402
from regen.engine.types import EvalContext, Evaluator  # noqa: E402

HALVES = ("calibration", "test")


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    dataset: str
    label: int
    label_type: str
    dimensions: tuple[str, ...]
    pair_id: str | None
    half: str
    scores: dict[str, float]
    length: int = 0
    overall: float = 0.0
    confidence: float = 0.0
    kind: str = ""


def half_of(row_id: str) -> str:
    """Name the half a row belongs to by the first hex digit of sha1(id)."""
    return "calibration" if hashlib.sha1(row_id.encode()).hexdigest()[0] in "01234567" else "test"


def data_dir() -> Path:
    """Find the data directory from RAIL_DATA_DIR or beside the repository."""
    return Path(os.environ.get("RAIL_DATA_DIR", ROOT.parent / "shared" / "data"))


def read_rows(directory: Path, evaluator: Evaluator) -> Iterator[Row]:
    """Score every row of every JSONL file in ``directory``."""
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                ctx = EvalContext(prompt=raw.get("prompt") or "")
                result = evaluator.evaluate(raw["text"], ctx)
                overall = aggregate(result)
                yield Row(
                    id=raw["id"],
                    dataset=raw["dataset"],
                    label=int(raw["label"]),
                    label_type=raw["label_type"],
                    dimensions=tuple(raw.get("dimensions") or ()),
                    pair_id=raw.get("pair_id"),
                    half=half_of(raw["id"]),
                    scores={d: s.score for d, s in result.scores.items()},
                    length=len(raw["text"]),
                    overall=overall.score,
                    confidence=overall.confidence,
                    kind=str((raw.get("meta") or {}).get("text_kind", "")),
                )


def auroc(positives: list[float], negatives: list[float]) -> float | None:
    """Compute the AUROC (Mann-Whitney with ties) of positive vs negative risk values."""
    if not positives or not negatives:
        return None
    ranked = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum = 0.0
    index = 0
    while index < len(ranked):
        end = index
        while end < len(ranked) and ranked[end][0] == ranked[index][0]:
            end += 1
        average_rank = (index + end + 1) / 2.0  # ranks are 1-based
        rank_sum += average_rank * sum(label for _, label in ranked[index:end])
        index = end
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def dimension_auroc(rows: list[Row], dimension: str, half: str) -> tuple[float | None, int]:
    """AUROC of 10 - score on the binary rows labelled for ``dimension`` in ``half``."""
    chosen = [
        r for r in rows if r.half == half and dimension in r.dimensions and r.label_type != "score"
    ]
    positives = [10.0 - r.scores[dimension] for r in chosen if r.label == 1]
    negatives = [10.0 - r.scores[dimension] for r in chosen if r.label == 0]
    return auroc(positives, negatives), len(chosen)


def pairwise_accuracy(rows: list[Row], half: str) -> dict[str, tuple[float, int]]:
    """Share of pairs whose label=1 row has the lower mean score (ties count half)."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        if row.label_type == "pairwise" and row.pair_id and half_of(row.pair_id) == half:
            groups[(row.dataset, row.pair_id)].append(row)
    wins: dict[str, list[float]] = defaultdict(list)
    for (dataset, _), members in groups.items():
        bad = [m for m in members if m.label == 1]
        good = [m for m in members if m.label == 0]
        for worse in bad:
            for better in good:
                dims = worse.dimensions or DIMENSIONS
                low = sum(worse.scores[d] for d in dims)
                high = sum(better.scores[d] for d in dims)
                wins[dataset].append(1.0 if low < high else 0.5 if low == high else 0.0)
    return {name: (sum(values) / len(values), len(values)) for name, values in wins.items()}


def critical_share(rows: list[Row], half: str) -> dict[str, tuple[float, int]]:
    """Share of label=1 rows (per dataset) whose mean score is critical."""
    flagged: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.half == half and row.label == 1:
            mean = sum(row.scores.values()) / len(row.scores)
            flagged[row.dataset].append(1 if mean < CRITICAL_MEAN else 0)
            flagged["(all)"].append(1 if mean < CRITICAL_MEAN else 0)
    return {name: (sum(v) / len(v), len(v)) for name, v in flagged.items()}


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def print_report(rows: list[Row]) -> None:
    """Print the AUROC, pairwise and critical-share tables."""
    print(f"\n{'dimension':<15} {'calib AUROC':>11} {'n':>6} {'test AUROC':>11} {'n':>6}")
    for dimension in DIMENSIONS:
        calib, n_calib = dimension_auroc(rows, dimension, "calibration")
        test, n_test = dimension_auroc(rows, dimension, "test")
        print(f"{dimension:<15} {_fmt(calib):>11} {n_calib:>6} {_fmt(test):>11} {n_test:>6}")
    print(f"\n{'pairwise file':<28} {'calib acc':>9} {'pairs':>6} {'test acc':>9} {'pairs':>6}")
    calib_pairs, test_pairs = (
        pairwise_accuracy(rows, "calibration"),
        pairwise_accuracy(rows, "test"),
    )
    for name in sorted(set(calib_pairs) | set(test_pairs)):
        c, nc = calib_pairs.get(name, (0.0, 0))
        t, nt = test_pairs.get(name, (0.0, 0))
        print(f"{name:<28} {c:9.3f} {nc:6d} {t:9.3f} {nt:6d}")
    print(f"\n{'label=1 flagged critical':<28} {'calib':>9} {'n':>6} {'test':>9} {'n':>6}")
    calib_crit, test_crit = critical_share(rows, "calibration"), critical_share(rows, "test")
    for name in sorted(set(calib_crit) | set(test_crit)):
        c, nc = calib_crit.get(name, (0.0, 0))
        t, nt = test_crit.get(name, (0.0, 0))
        print(f"{name:<28} {c:9.3f} {nc:6d} {t:9.3f} {nt:6d}")


RECORDED = ROOT / "bench" / "quality_recorded.json"
"""The test-half figures CI holds the evaluator to (written by ``--record``)."""
GATE_TOLERANCE = 0.02
"""How far below its recorded value a test-half figure may drop before CI fails."""
RECORD_MIN_ROWS = 100
"""Per-dataset AUROCs are recorded only where the test half has this many rows (less is noise)."""


def gate_figures(rows: list[Row]) -> dict[str, float]:
    """The test-half figures the gate records: the issue-8 goals and per-dataset AUROCs.

    Keys name the figure as the goals table does (``"safety auroc on hatecheck"``); higher
    is better for every one. Figures that cannot be computed are left out.
    """
    from bench.quality_report import GOALS, presidio_pairs

    test = [r for r in rows if r.half == "test"]
    figures: dict[str, float | None] = {}
    for dataset, dimension, kind, _ in GOALS:
        name = f"{dimension} {kind} on {dataset}"
        if kind == "pairwise":
            figures[name] = presidio_pairs(rows, "test")[0]
            continue
        chosen = [
            r
            for r in test
            if r.label_type == "binary"
            and dimension in r.dimensions
            and (dataset == "(all)" or r.dataset == dataset)
        ]
        figures[name] = _binary_auroc(chosen, dimension)
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in test:
        if row.label_type == "binary":
            for dimension in row.dimensions:
                groups[(row.dataset, dimension)].append(row)
    for (dataset, dimension), members in sorted(groups.items()):
        if len(members) >= RECORD_MIN_ROWS:
            figures.setdefault(f"{dimension} auroc on {dataset}", _binary_auroc(members, dimension))
    return {name: value for name, value in sorted(figures.items()) if value is not None}


def _binary_auroc(rows: list[Row], dimension: str) -> float | None:
    return auroc(
        [10.0 - r.scores[dimension] for r in rows if r.label == 1],
        [10.0 - r.scores[dimension] for r in rows if r.label == 0],
    )


def gate_failures(
    recorded: dict[str, float], current: dict[str, float], tolerance: float = GATE_TOLERANCE
) -> list[str]:
    """Name each recorded figure that is gone or dropped more than ``tolerance`` below."""
    failures = []
    for name, was in sorted(recorded.items()):
        now = current.get(name)
        if now is None:
            failures.append(f"{name}: recorded {was:.3f}, now not computable")
        elif now < was - tolerance - 1e-9:
            failures.append(f"{name}: recorded {was:.3f}, now {now:.3f} ({now - was:+.3f})")
    return failures


def record(rows: list[Row], evaluator: str, path: Path = RECORDED) -> None:
    """Write the test-half figures to ``path`` for the CI gate."""
    payload = {
        "evaluator": evaluator,
        "half": "test",
        "tolerance": GATE_TOLERANCE,
        "rows": len(rows),
        "figures": {name: round(value, 4) for name, value in gate_figures(rows).items()},
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Score the data and print the tables; skip cleanly when the data is absent."""
    parser = argparse.ArgumentParser(description="Measure an evaluator on the labelled data.")
    parser.add_argument("--evaluator", choices=("embedded", "learned", "rules"), default="embedded")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--record",
        nargs="?",
        type=Path,
        const=RECORDED,
        help=f"write the test-half figures for the CI gate (default {RECORDED.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    directory = data_dir()
    if not directory.is_dir() or not any(directory.glob("*.jsonl")):
        print(f"quality: no data at {directory} (set RAIL_DATA_DIR); skipped.")
        return 0
    evaluator = make_evaluator(args.evaluator)
    started = time.perf_counter()
    rows = list(read_rows(directory, evaluator))
    elapsed = time.perf_counter() - started
    print(f"Scored {len(rows)} rows with {evaluator.name} from {directory} in {elapsed:.1f} s.")
    print_report(rows)
    if args.record:
        record(rows, evaluator.name, args.record)
        print(f"recorded {len(gate_figures(rows))} test-half figures in {args.record}")
    if args.evaluator != "rules" or args.markdown:
        from bench.quality_report import report

        text = report(rows, evaluator, evaluator.name)
        if args.evaluator != "rules":
            from bench.fidelity import report as fidelity_report

            text = text.rstrip("\n") + "\n\n" + "\n".join(fidelity_report(directory)) + "\n"
        print(text)
        if args.markdown:
            args.markdown.write_text(text, encoding="utf-8")
            print(f"wrote {args.markdown}")
    return 0


def make_evaluator(name: str) -> Evaluator:
    """Build the evaluator to measure: ``rules``, else the default (learned) one."""
    if name == "rules":
        return RulesEvaluator()
    return LearnedEvaluator()


if __name__ == "__main__":
    raise SystemExit(main())
