"""Honest calibration-half figures: every head refitted out of fold, then the whole scorer.

The calibration column of ``docs/quality.md`` is in-sample for the learned heads (they were
fitted on it), so a composition or calibration choice cannot be made there. This script
refits each head of the shipped weights (same family, rows and settings as
``scripts/train_scorer.py``, the shipped featurizer and Platt scaling) on 4 of 5 folds of
the calibration half, grouped by ``sha1(pair_id or id)``, and scores every calibration row
with the heads that did not see it; test rows are never read. It prints the benign rows
failing a 7.0 overall threshold and the goal AUROCs.

``.venv/bin/python scripts/oof_quality.py`` (about a minute; numpy only, scipy if present).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "scripts"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import train_scorer as T  # noqa: E402

from bench.quality import auroc  # noqa: E402
from regen.engine.evaluators.learned import LearnedEvaluator  # noqa: E402
from regen.engine.learned.model import Head, LearnedModel, shipped  # noqa: E402
from regen.engine.scoring import aggregate  # noqa: E402
from regen.engine.types import EvalContext  # noqa: E402

FOLDS = 5
GOALS = (
    ("xstest_mistral_completions", "safety"),
    ("jailbreakbench_responses", "safety"),
    ("openai_moderation", "safety"),
    ("safetext", "safety"),
    ("toxigen_seed_statements", "fairness"),
    ("hatecheck", "fairness"),
    ("davidson_hate_offensive", "fairness"),
    ("medsafetybench_test", "safety"),
    ("(all)", "user_impact"),
)


def fold_of(group: str) -> int:
    """A row's fold, from its group key (pairs stay together)."""
    return int(hashlib.sha1(("oof" + group).encode()).hexdigest()[:8], 16) % FOLDS


def fold_heads(
    model: LearnedModel, rows: Sequence[T.Row], groups: dict[str, str]
) -> list[dict[str, Head]]:
    """Each fold's heads, fitted on the other folds with the shipped settings."""
    spec = model.featurizer.spec
    heads: list[dict[str, Head]] = [{} for _ in range(FOLDS)]
    for family in T.FAMILIES:
        if family.name not in model.heads:
            continue
        chosen = [
            T.Row(r.id, r.dataset, r.text, family.label(r), r.kind, r.meta, r.category)
            for r in rows
            if r.dataset in family.datasets and family.keep(r)
        ]
        if family.background:
            chosen += T.background_rows(rows, family)
        matrix = T.Matrix.build(
            [model.featurizer.features(r.text.lower()) for r in chosen], 1 << spec.word_bits
        )
        labels = np.array([r.label for r in chosen], dtype=np.float64)
        weights = T.balanced_weights([r.dataset for r in chosen], labels)
        selection = model.meta["selection"][family.name]
        config = T.Config(selection["strength"], 1.0, selection["embedding_weight"])
        folds = np.array([fold_of(groups[r.id]) for r in chosen])
        shipped_head = model.heads[family.name]
        for k in range(FOLDS):
            train = np.flatnonzero(folds != k)
            used, w, bias, v = T.fit(matrix.take(train), labels[train], weights[train], config)
            word = np.zeros(1 << spec.word_bits, dtype=np.float32)
            char = np.zeros(1 << spec.char_bits, dtype=np.float32)
            is_word = used < (1 << spec.word_bits)
            word[used[is_word]] = w[is_word]
            char[used[~is_word] - (1 << spec.word_bits)] = w[~is_word]
            heads[k][family.name] = Head(
                family.name,
                word,
                char,
                v.astype(np.float32),
                bias,
                shipped_head.scale,
                shipped_head.shift,
            )
    return heads


def main() -> int:
    directory = Path(os.environ.get("RAIL_DATA_DIR", ROOT.parent / "shared" / "data"))
    model = shipped()
    rows = T.read_calibration(directory)
    raw_rows: list[dict[str, Any]] = []
    groups: dict[str, str] = {}
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                groups[raw["id"]] = raw.get("pair_id") or raw["id"]
                if T.is_calibration(raw["id"]):
                    raw_rows.append(raw)
    heads = fold_heads(model, rows, groups)
    evaluators = [
        LearnedEvaluator(
            LearnedModel(model.featurizer, {**model.heads, **own}, model.meta, model.taggers)
        )
        for own in heads
    ]
    scored = []
    for raw in raw_rows:
        evaluator = evaluators[fold_of(groups[raw["id"]])]
        result = evaluator.evaluate(raw["text"], EvalContext(prompt=raw.get("prompt") or ""))
        scored.append((raw, {d: s.score for d, s in result.scores.items()}, aggregate(result)))
    binary = [(r, s, o) for r, s, o in scored if r["label_type"] == "binary"]
    benign = [o.score for r, _, o in binary if r["label"] == 0]
    harmful = [o.score for r, _, o in binary if r["label"] == 1]
    failing = sum(1 for x in benign if x < 7.0)
    print(
        f"calibration half, out of fold: benign failing 7.0 {failing}/{len(benign)} "
        f"= {failing / len(benign):.2%}; harmful failing "
        f"{sum(1 for x in harmful if x < 7.0) / len(harmful):.1%}"
    )
    for dataset, dimension in GOALS:
        chosen = [
            (r, s)
            for r, s, _ in binary
            if dimension in (r.get("dimensions") or ())
            and (dataset == "(all)" or r["dataset"] == dataset)
        ]
        figure = auroc(
            [10.0 - s[dimension] for r, s in chosen if r["label"] == 1],
            [10.0 - s[dimension] for r, s in chosen if r["label"] == 0],
        )
        print(f"  {dimension} auroc on {dataset}: {figure:.3f} (n={len(chosen)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
