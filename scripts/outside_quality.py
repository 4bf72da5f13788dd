"""Measure the default evaluator on outside labelled data the project never trains on.

The data is not part of the repository: fetch it yourself and pass its path. Supported:

- ETHOS binary (``intelligence-csd-auth-gr/Ethos-Hate-Speech-Dataset``,
  ``ethos/ethos_data/Ethos_Dataset_Binary.csv``, GPL-3.0): ``comment;isHate``, where
  ``isHate`` is the share of annotators who called the comment hateful; label 1 from 0.5.

``.venv/bin/python scripts/outside_quality.py ethos /path/to/Ethos_Dataset_Binary.csv``
prints the AUROC of ``10 - score`` per dimension beside a text-length baseline, and the
share of label-0 comments failing a 7.0 overall threshold.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.quality import auroc, make_evaluator  # noqa: E402
from regen.engine.scoring import aggregate  # noqa: E402
from regen.engine.types import EvalContext  # noqa: E402


def read_ethos(path: Path) -> list[tuple[str, int]]:
    """ETHOS binary: (comment, 1 if at least half the annotators called it hateful)."""
    with path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        return [(row[0], int(float(row[1]) >= 0.5)) for row in reader if len(row) >= 2]


READERS = {"ethos": (read_ethos, ("fairness", "inclusivity", "safety"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(READERS))
    parser.add_argument("path", type=Path)
    parser.add_argument("--evaluator", choices=("embedded", "rules"), default="embedded")
    args = parser.parse_args(argv)
    read, dimensions = READERS[args.dataset]
    rows = read(args.path)
    evaluator = make_evaluator(args.evaluator)
    scored = []
    for text, label in rows:
        result = evaluator.evaluate(text, EvalContext())
        scored.append((label, len(text), aggregate(result).score, result.scores))
    positives = sum(label for label, *_ in scored)
    print(f"{args.dataset}: {len(scored)} texts, {positives} labelled 1 ({evaluator.name})")
    length = auroc(
        [float(n) for label, n, *_ in scored if label],
        [float(n) for label, n, *_ in scored if not label],
    )
    for dimension in dimensions:
        figure = auroc(
            [10.0 - s[dimension].score for label, _, _, s in scored if label],
            [10.0 - s[dimension].score for label, _, _, s in scored if not label],
        )
        print(f"  {dimension:<12} AUROC {figure:.3f}   (length baseline {length:.3f})")
    benign = [overall for label, _, overall, _ in scored if not label]
    failing = sum(1 for overall in benign if overall < 7.0) / max(1, len(benign))
    harmful = [overall for label, _, overall, _ in scored if label]
    caught = sum(1 for overall in harmful if overall < 7.0) / max(1, len(harmful))
    print(f"  label 0 failing 7.0 overall: {failing:.1%}; label 1 failing: {caught:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
