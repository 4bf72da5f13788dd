"""Measure meaning preservation on pairs built from the labelled data (issue 15).

Each case is a harmful answer with three candidate versions: a good rewrite, a refusal and
an off-topic text. Fidelity should rank the good rewrite above both; the figure is the
share of cases where it does. Everything is chosen deterministically from the data:

- **harmful answers and their rewrites**: Presidio sentences with direct personal data,
  rewritten by replacing the sensitive spans with a placeholder (the spans are what the
  privacy dimension required removing); and harmful completions (JailbreakBench judged
  jailbroken, XSTest harmful compliance), scored by the default evaluator and rewritten
  once by the embedded rewriter exactly as the loop would, the failing dimensions' issue
  spans being what was required to go (cases whose rewrite changed nothing are skipped);
- **refusals**: the XSTest completions human annotators marked as full refusals;
- **off-topic texts**: TruthfulQA best answers and HaluEval answers without a
  hallucination (benign answers to other questions).

``python -m bench.fidelity`` prints the table; ``python -m bench.quality`` prints it too.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from regen.engine.evaluators.learned import LearnedEvaluator  # noqa: E402
from regen.engine.fidelity import measure_fidelity  # noqa: E402
from regen.engine.prompts import build_improvement_prompt  # noqa: E402
from regen.engine.regenerators.embedded import EmbeddedRegenerator  # noqa: E402
from regen.engine.scoring import aggregate  # noqa: E402
from regen.engine.thresholds import Thresholds, decide  # noqa: E402
from regen.engine.types import EvalContext, RegenerationRequest, Span  # noqa: E402

PER_SOURCE = 150
"""At most this many cases per source (the first by sha1 of the row id)."""


@dataclass(frozen=True, slots=True)
class Case:
    source: str
    original: str
    rewrite: str
    removed: tuple[Span, ...]
    refusal: str
    off_topic: str


def _rows(directory: Path, name: str) -> Iterator[dict]:
    with (directory / f"{name}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _order(rows: Sequence[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: hashlib.sha1(row["id"].encode()).hexdigest())


def _pick(pool: Sequence[str], key: str) -> str:
    return pool[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(pool)]


def _presidio(directory: Path) -> Iterator[tuple[str, str, tuple[Span, ...]]]:
    rows = [r for r in _rows(directory, "presidio_synth_pii") if r["label"] == 1]
    for row in _order(rows)[:PER_SOURCE]:
        sensitive = set(row["meta"].get("sensitive_entity_types", ()))
        spans = sorted(
            (s["start_position"], s["end_position"], s["entity_type"])
            for s in row["meta"]["spans"]
            if s["entity_type"] in sensitive
        )
        text, out, at = row["text"], [], 0
        for start, end, kind in spans:
            out.append(text[at:start] + f"[{kind.lower().replace('_', ' ')} removed]")
            at = end
        out.append(text[at:])
        removed = tuple(Span(start, end) for start, end, _ in spans)
        yield row["id"], "".join(out), removed


def _harmful(directory: Path) -> Iterator[tuple[str, str, str, tuple[Span, ...]]]:
    evaluator, regenerator = LearnedEvaluator(), EmbeddedRegenerator()
    sources = (
        ("jailbreakbench_responses", "jailbreakbench"),
        ("xstest_mistral_completions", "xstest"),
    )
    for name, source in sources:
        rows = [r for r in _rows(directory, name) if r["label"] == 1 and len(r["text"]) >= 40]
        kept = 0
        for row in _order(rows):
            if kept == PER_SOURCE:
                break
            text = row["text"][:10_000]
            evaluation = aggregate(evaluator.evaluate(text, EvalContext()), {})
            met = decide(
                scores=evaluation.pairs(),
                overall_score=evaluation.score,
                overall_confidence=evaluation.confidence,
                thresholds=Thresholds(),
            )
            failing = tuple(met.failing_dimensions)
            issues = tuple(i for i in evaluation.issues if i.dimension in failing)
            prompt = build_improvement_prompt(
                content=text, failing_dimensions=list(failing), issues=issues,
                scores={}, thresholds={}, domain="general", context="", prompt="",
                policy_hint="", attempt=1,
            )  # fmt: skip
            request = RegenerationRequest(text, prompt, failing, issues)
            rewrite = regenerator.regenerate(request).content.strip()
            if not failing or rewrite == text.strip():
                continue
            kept += 1
            removed = tuple(i.span for i in issues if i.span is not None)
            yield source, text, rewrite, removed


def build_cases(directory: Path) -> list[Case]:
    """Build the cases, deterministically, from the data in ``directory``."""
    refusals = [
        r["text"]
        for r in _order(list(_rows(directory, "xstest_mistral_completions")))
        if r["meta"].get("final_label") == "2_full_refusal"
    ]
    off_topic = [r["text"] for r in _order(list(_rows(directory, "truthfulqa"))) if r["label"] == 0]
    off_topic += [
        r["text"] for r in _order(list(_rows(directory, "halueval_general"))) if r["label"] == 0
    ]
    cases = []
    presidio = {r["id"]: r["text"] for r in _rows(directory, "presidio_synth_pii")}
    for row_id, rewrite, removed in _presidio(directory):
        original = presidio[row_id]
        cases.append(
            Case("presidio", original, rewrite, removed,
                 _pick(refusals, original), _pick(off_topic, original))
        )  # fmt: skip
    for source, original, rewrite, removed in _harmful(directory):
        cases.append(
            Case(source, original, rewrite, removed,
                 _pick(refusals, original), _pick(off_topic, original))
        )  # fmt: skip
    return cases


@dataclass(frozen=True, slots=True)
class Outcome:
    source: str
    above_refusal: bool
    above_off_topic: bool
    rewrite: float

    @property
    def ranked(self) -> bool:
        return self.above_refusal and self.above_off_topic


def rank(case: Case) -> Outcome:
    """Score the three versions of a case against its original."""
    good = measure_fidelity(case.original, case.rewrite, removed=case.removed).score
    refusal = measure_fidelity(case.original, case.refusal, removed=case.removed).score
    other = measure_fidelity(case.original, case.off_topic, removed=case.removed).score
    return Outcome(case.source, good > refusal, good > other, good)


def table(outcomes: Sequence[Outcome]) -> list[str]:
    """Render the ranking accuracy per source and overall, as markdown rows."""
    lines = [
        "| source | cases | above the refusal | above the off-topic text | both | median fidelity of the rewrite |",  # noqa: E501
        "| --- | --- | --- | --- | --- | --- |",
    ]
    sources = sorted({o.source for o in outcomes}) + ["all"]
    for source in sources:
        chosen = [o for o in outcomes if source in ("all", o.source)]
        if not chosen:
            continue
        n = len(chosen)
        fidelities = sorted(o.rewrite for o in chosen)
        lines.append(
            f"| {source} | {n} | {sum(o.above_refusal for o in chosen) / n:.1%} "
            f"| {sum(o.above_off_topic for o in chosen) / n:.1%} "
            f"| {sum(o.ranked for o in chosen) / n:.1%} | {fidelities[n // 2]:.2f} |"
        )
    return lines


def accuracy(outcomes: Sequence[Outcome]) -> float:
    return sum(o.ranked for o in outcomes) / len(outcomes) if outcomes else 0.0


def latency_ms(case: Case, runs: int = 200) -> float:
    """Median milliseconds of one fidelity computation."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        measure_fidelity(case.original, case.rewrite, removed=case.removed)
        times.append((time.perf_counter() - started) * 1000.0)
    return sorted(times)[runs // 2]


def report(directory: Path) -> list[str]:
    """Build the cases, rank them, and return the section as markdown lines."""
    cases = build_cases(directory)
    outcomes = [rank(case) for case in cases]
    longest = max(cases, key=lambda c: len(c.original) + len(c.rewrite))
    return [
        "## Meaning preservation (fidelity)",
        "",
        "A harmful answer, its good rewrite, a refusal and an off-topic text "
        "(`bench/fidelity.py`): fidelity should rank the rewrite above both.",
        "",
        *table(outcomes),
        "",
        f"Ranking accuracy: **{accuracy(outcomes):.1%}** of {len(outcomes)} cases (goal ≥ 95%). "
        f"One fidelity computation: median {latency_ms(cases[0]):.2f} ms "
        f"({latency_ms(longest, 50):.2f} ms for the longest case, "
        f"{len(longest.original):,} + {len(longest.rewrite):,} characters).",
    ]


def main() -> int:
    from bench.quality import data_dir

    directory = data_dir()
    if not (directory / "presidio_synth_pii.jsonl").is_file():
        print(f"fidelity: no data at {directory} (set RAIL_DATA_DIR); skipped.")
        return 0
    print("\n".join(report(directory)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
