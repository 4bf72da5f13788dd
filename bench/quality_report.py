"""The per-dataset quality report and the issue-8 goals (used by ``bench/quality.py``).

Every figure is given for the calibration half and the test half side by side, with a
text-length baseline (the AUROC that text length alone reaches: far from 0.5 either way
means the set carries a length artefact a head can learn instead of harm).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from bench.engine import text_of
from bench.quality import HALVES, auroc, critical_share, half_of
from regen.engine.dimensions import CRITICAL_MEAN, DIMENSIONS
from regen.engine.scoring import aggregate
from regen.engine.types import EvalContext, Evaluator

AUTO_MIN_CONFIDENCE = 0.6  # mirrors regen/evals.py (kept Django-free here)
AUTO_MARGIN = 1.0
DEFAULT_THRESHOLD = 7.0
CLEAR_SETS = (
    "xstest_mistral_completions",
    "jailbreakbench_responses",
    "hatecheck",
    "openai_moderation",
)
"""Sets whose labels are clear-cut (human-labelled or explicit): the escalation measure."""

GOALS: tuple[tuple[str, str, str, float], ...] = (
    ("xstest_mistral_completions", "safety", "auroc", 0.90),
    ("jailbreakbench_responses", "safety", "auroc", 0.90),
    ("openai_moderation", "safety", "auroc", 0.85),
    ("safetext", "safety", "auroc", 0.80),
    ("toxigen_seed_statements", "fairness", "auroc", 0.90),
    ("toxigen_seed_statements", "inclusivity", "auroc", 0.90),
    ("hatecheck", "fairness", "auroc", 0.90),
    ("hatecheck", "inclusivity", "auroc", 0.90),
    ("davidson_hate_offensive", "fairness", "auroc", 0.90),
    ("davidson_hate_offensive", "inclusivity", "auroc", 0.90),
    ("presidio_synth_pii", "privacy", "pairwise", 0.98),
    ("(all)", "user_impact", "auroc", 0.80),
)


LEARNED_NOTES = """\
## What the default (`embedded`) evaluator is (and is not) good at

`RAIL_EVALUATOR=embedded`, the default (`regen/engine/evaluators/learned.py`; `learned` is
an alias, `rules` scores with the detectors alone): every detector, with its spans
(personal data, doxxing, dosage, stop-treatment and other dangerous directives, guaranteed
returns, discriminatory selection, overclaims and missing disclosures, deflected
responsibility, manipulation, prompt injection, first-person threats at the reader), composed
with four logistic heads over hashed word 1-2-grams, character 3-5-grams and 256-d static
word-piece vectors distilled from all-MiniLM-L6-v2 (`regen/engine/learned/`, 8.6 MB, numpy
only at run time; built by `make train-scorer` from the calibration half, fixed seeds,
reproducible). Rules whose words also occur in quotes and counter-speech (violence, slurs,
stereotypes, dehumanizing words) count as far as a head agrees. Heads: *hate* (ToxiGen,
HateCheck, Davidson) → fairness, inclusivity, safety; *harm* (XSTest completions,
JailbreakBench, OpenAI moderation, SafeText; no user-request rows) → safety, user impact
and, in part, reliability, accountability, transparency; *severe* (violence, threat and
self-harm flags, HateCheck threats, physical-harm jailbreaks, violent XSTest compliance) →
spills onto every dimension when the harm or hate head backs it; *privacy* (Presidio
sentences only, never the `{{MASKED}}` templates) → orders texts, the PII rules decide.
Two token taggers (person names; numbers of addresses, phones and other identifiers, both
trained on Presidio's sentences and their spans, never the templates) add one mild privacy
finding each, with its span.
Benign prose of other sets (HaluEval, TruthfulQA, ToxiGen neutral, HateCheck identity and
counter-speech cases, XSTest safe prompts) joins as negatives. Identity terms are replaced
by one placeholder before features are counted and are never blamed.

Safety takes the noisy-or of the harm head and half the hate head (harassing, violent
posts trip both part-way). What a head's probability costs ends with a monotone map that
lifts the middle of the scale (the score the head alone would leave: 6.0 → 8.2, unchanged
below 3.0 and from 8.5 up; rules and spill are not lifted). Both were chosen on the
calibration half with out-of-fold heads (5 folds by group, the shipped settings refitted
per fold): OpenAI moderation safety AUROC 0.871 → 0.877 there, with at most 5% of benign
rows failing a 7.0 threshold (4.38%). The calibration column below is in-sample for the
heads; those out-of-fold figures are the honest calibration ones.

Good at: explicit and implicit hate in statements (HateCheck, ToxiGen), harmful
jailbreak and XSTest completions, self-harm encouragement, mass-violence instructions,
threats made to the reader ("I will shoot every one of you"; rules, in full, while a
reported threat or "I'll kill you at chess" is not), doxxing and personal data with spans
(rules), the seed examples' dosages, guaranteed returns and selection criteria (rules);
plain prose scores Good (≈ 8.7), a careful hedged answer with a referral reaches
Excellent. Confidence follows the heads' margins, so `auto` escalates mostly the texts the
heads are unsure of.

Bad at, and what to do instead: subtle unsafe advice (SafeText), hallucination and
factual errors (TruthfulQA, HaluEval), contextual privacy (ConfAIde), subtle stereotypes
(CrowS-Pairs, BBQ), transparency and accountability (no usable labels): use the LLM judge
(`RAIL_EVALUATOR=llm`) for those. Test-half figures come from the same sources as the
training data: on outside data expect lower figures (the feasibility study saw 0.75 for
hate, 0.88 for harmful responses). Person names and foreign addresses are found by
the taggers, trained on 180 calibration sentences: expect more misses and more false
names (public figures, handles) on outside text; a name costs privacy at most about 2.4
points. A head trained on the masked rows would score higher by learning the `{{...}}`
template; none is. A hateful sentence in a longer text is scored on its own as well,
halfway between the whole text and its worst sentence. Outside data never trained on
(`scripts/outside_quality.py`, data fetched separately): ETHOS binary hate comments
(997, GPL-3.0) fairness / inclusivity / safety AUROC 0.75 / 0.76 / 0.75 (length alone
0.52); 17% of its non-hateful comments fail 7.0 overall, 55% of the hateful ones. The BBQ pairwise figure printed by
`bench/quality.py` (about 0.75) most likely reads the "can't be determined" answer form,
not bias.
"""


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _auroc_of(rows: Sequence[Any], dimension: str, key: Callable[[Any], float]) -> float | None:
    pos = [key(r) for r in rows if r.label == 1]
    neg = [key(r) for r in rows if r.label == 0]
    return auroc(pos, neg)


def dataset_table(rows: Sequence[Any]) -> list[str]:
    """AUROC per dataset and dimension, both halves, with the length baseline (test half)."""
    lines = [
        "| dataset | dimension | calibration AUROC | test AUROC | test n | length baseline (test) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        if row.label_type != "binary":
            continue
        for dimension in row.dimensions:
            groups[(row.dataset, dimension)].append(row)
    for (dataset, dimension), members in sorted(groups.items()):
        halves = {h: [r for r in members if r.half == h] for h in HALVES}
        risk = lambda r, d=dimension: 10.0 - r.scores[d]  # noqa: E731
        calib = _auroc_of(halves["calibration"], dimension, risk)
        test = _auroc_of(halves["test"], dimension, risk)
        length = _auroc_of(halves["test"], dimension, lambda r: float(r.length))
        if calib is None and test is None:
            continue
        lines.append(
            f"| {dataset} | {dimension} | {_fmt(calib)} | {_fmt(test)} | {len(halves['test'])} "
            f"| {_fmt(length)} |"
        )
    return lines


def presidio_pairs(rows: Sequence[Any], half: str) -> tuple[float | None, int]:
    """Share of Presidio pairs whose original (PII) row scores lower on privacy than its mask."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.dataset == "presidio_synth_pii" and row.pair_id and half_of(row.pair_id) == half:
            groups[row.pair_id].append(row)
    wins = []
    for members in groups.values():
        bad = [m for m in members if m.label == 1]
        good = [m for m in members if m.label == 0 and m.kind.endswith("masked")]
        for worse in bad:
            for better in good:
                a, b = worse.scores["privacy"], better.scores["privacy"]
                wins.append(1.0 if a < b else 0.5 if a == b else 0.0)
    return (sum(wins) / len(wins) if wins else None), len(wins)


def benign_failing(rows: Sequence[Any], half: str) -> tuple[float, int]:
    """Share of label=0 binary rows whose overall score is below the default 7.0."""
    benign = [r for r in rows if r.half == half and r.label == 0 and r.label_type == "binary"]
    failing = sum(1 for r in benign if r.overall < DEFAULT_THRESHOLD)
    return failing / max(1, len(benign)), len(benign)


def escalation(rows: Sequence[Any], half: str) -> tuple[float, int, float, int]:
    """Share of clear rows (and of all rows) that ``auto`` would escalate to deep."""

    def escalates(row: Any) -> bool:
        close = round(abs(row.overall - DEFAULT_THRESHOLD), 6) < AUTO_MARGIN
        return row.confidence < AUTO_MIN_CONFIDENCE or close

    clear = [r for r in rows if r.half == half and r.dataset in CLEAR_SETS]
    every = [r for r in rows if r.half == half]
    return (
        sum(map(escalates, clear)) / max(1, len(clear)),
        len(clear),
        sum(map(escalates, every)) / max(1, len(every)),
        len(every),
    )


def benign_table(rows: Sequence[Any]) -> list[str]:
    """Per dataset, the label=0 rows failing a 7.0 overall threshold or flagged critical."""
    lines = [
        "| dataset | label=0 rows (test) | failing 7.0 overall (calib / test) "
        "| critical (calib / test) |",
        "| --- | --- | --- | --- |",
    ]
    names = sorted({r.dataset for r in rows if r.label == 0})
    for name in names:
        figures = []
        for half in HALVES:
            benign = [r for r in rows if r.dataset == name and r.half == half and r.label == 0]
            failing = sum(1 for r in benign if r.overall < DEFAULT_THRESHOLD) / max(1, len(benign))
            crit = sum(
                1 for r in benign if sum(r.scores.values()) / len(r.scores) < CRITICAL_MEAN
            ) / max(1, len(benign))
            figures.append((failing, crit, len(benign)))
        (cf, cc, _), (tf, tc, tn) = figures
        lines.append(f"| {name} | {tn} | {cf:.1%} / {tf:.1%} | {cc:.1%} / {tc:.1%} |")
    return lines


def held_out_table(evaluator: Evaluator) -> list[str]:
    """The model choices' held-out figures, as the training recorded them in the weights."""
    model = getattr(evaluator, "model", None)
    selection = getattr(model, "meta", {}).get("selection", {})
    if not selection:
        return []
    lines = [
        "",
        "## How each head was chosen (calibration half only)",
        "",
        "Leave-one-dataset-out (5-fold where a head has one dataset) over a small grid; the "
        "figure is the chosen setting's AUROC on the held-out part, beside the AUROC text "
        "length alone reaches there.",
        "",
        "| head | held out | AUROC | length baseline | chosen (C, embedding weight) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for head, chosen in selection.items():
        for name, figures in chosen.get("held_out", {}).items():
            lines.append(
                f"| {head} | {name} | {figures['auroc']:.3f} | {figures['length']:.3f} "
                f"| {chosen['strength']}, {chosen['embedding_weight']} |"
            )
    for kind, chosen in getattr(model, "meta", {}).get("taggers", {}).items():
        lines.append(
            f"| tagger {kind} (per word) | Presidio words, 5 folds by template "
            f"| {chosen['held_out_auroc']:.3f} | | {chosen['strength']}, "
            f"{chosen['embedding_weight']} |"
        )
    return lines


def latency(evaluator: Evaluator, chars: int, runs: int) -> float:
    """Median milliseconds of one basic evaluation (with aggregation) of ``chars`` characters."""
    text = text_of(chars)
    ctx = EvalContext(mode="basic")
    aggregate(evaluator.evaluate(text, ctx))  # warm caches and the model
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        aggregate(evaluator.evaluate(text, ctx))
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def goal_figures(rows: Sequence[Any]) -> list[str]:
    """The issue-8 goals with both halves' figures."""
    lines = [
        "| measure | calibration | test | goal | met (test) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for dataset, dimension, kind, goal in GOALS:
        figures = []
        for half in HALVES:
            if kind == "pairwise":
                figures.append(presidio_pairs(rows, half)[0])
                continue
            chosen = [
                r
                for r in rows
                if r.half == half
                and r.label_type == "binary"
                and dimension in r.dimensions
                and (dataset == "(all)" or r.dataset == dataset)
            ]
            figures.append(_auroc_of(chosen, dimension, lambda r, d=dimension: 10 - r.scores[d]))
        test = figures[1]
        met = "yes" if test is not None and test >= goal else "no"
        lines.append(
            f"| {dimension} {kind} on {dataset} | {_fmt(figures[0])} | {_fmt(test)} "
            f"| ≥ {goal:.2f} | {met} |"
        )
    return lines


def report(rows: Sequence[Any], evaluator: Evaluator, name: str) -> str:
    """Write the whole report as Markdown."""
    out = [f"# Quality of the `{name}` evaluator", ""]
    out += [
        "Generated by `make quality` (`.venv/bin/python -m bench.quality --evaluator "
        f"{name} --markdown docs/quality.md`) on the labelled data of `../shared/data`. "
        "Calibration half: first hex digit of `sha1(id)` 0-7; test half: 8-f. The learned "
        "heads were trained on the calibration half only, so its column is in-sample; the "
        "test column is the one to read. AUROC is of `10 - score` against `label`.",
        "",
    ]
    if name != "rules":
        out += LEARNED_NOTES.splitlines() + [""]
    out += ["## Goals (issue 8)", ""]
    out += goal_figures(rows)
    benign = {h: benign_failing(rows, h) for h in HALVES}
    esc = {h: escalation(rows, h) for h in HALVES}
    short, long = latency(evaluator, 1_000, 200), latency(evaluator, 10_000, 40)
    out += [
        f"| benign rows failing a 7.0 overall threshold | {benign['calibration'][0]:.1%} "
        f"| {benign['test'][0]:.1%} (n={benign['test'][1]}) | ≤ 5% "
        f"| {'yes' if benign['test'][0] <= 0.05 else 'no'} |",
        f"| `auto` escalation among clear rows ({', '.join(CLEAR_SETS)}) "
        f"| {esc['calibration'][0]:.1%} | {esc['test'][0]:.1%} (n={esc['test'][1]}) | ≤ 20% "
        f"| {'yes' if esc['test'][0] <= 0.20 else 'no'} |",
        f"| one basic evaluation, 1,000 / 10,000 chars, median | | {short:.2f} / {long:.2f} ms "
        f"| ≤ 2 / 20 ms | {'yes' if short <= 2 and long <= 20 else 'no'} |",
        "",
        f"`auto` escalation over every row: {esc['calibration'][2]:.1%} (calibration), "
        f"{esc['test'][2]:.1%} (test). Latency measured on this shared 2-core machine.",
        "",
        "## Per dataset and dimension",
        "",
    ]
    out += dataset_table(rows)
    out += held_out_table(evaluator)
    out += ["", "## Benign rows: failing the default threshold, flagged critical", ""]
    out += benign_table(rows)
    out += ["", "## Share of label=1 rows flagged critical (mean < 3.0)", ""]
    out += ["| dataset | calibration | test | test n |", "| --- | --- | --- | --- |"]
    calib, test = critical_share(rows, "calibration"), critical_share(rows, "test")
    for dataset in sorted((set(calib) | set(test)) - {"(all)"}):
        c, t = calib.get(dataset, (0.0, 0)), test.get(dataset, (0.0, 0))
        out.append(f"| {dataset} | {c[0]:.1%} | {t[0]:.1%} | {t[1]} |")
    out.append("")
    means = {
        d: statistics.mean(r.scores[d] for r in rows if r.label == 0 and r.half == "test")
        for d in DIMENSIONS
    }
    out.append(
        "Mean test-half score of label=0 rows per dimension: "
        + ", ".join(f"{d} {v:.2f}" for d, v in means.items())
        + "."
    )
    return "\n".join(out) + "\n"
