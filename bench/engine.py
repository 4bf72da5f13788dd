"""Embedded engine speed: evaluations, repairs, adversarial scans and whole loops."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from regen.engine.detectors import scan
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.evaluators.rules import RulesEvaluator
from regen.engine.loop import Loop, run_loop, step
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.requests import parse_regenerate_request
from regen.engine.types import EvalContext

CLEAN = (
    "Photosynthesis converts light energy into chemical energy stored in glucose. "
    "Chlorophyll in the chloroplasts absorbs mostly blue and red light, and the plant "
    "releases oxygen as a by-product. ",
    "The committee met on Tuesday to review the budget and the schedule for the spring "
    "term; the minutes will be shared with every department next week. ",
    "Rivers carry sediment from the mountains to the sea, shaping valleys and deltas "
    "over thousands of years as the water slows and drops its load. ",
)
FLAGGED = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this. ",
    "Contact jane.doe@example.com if the delivery is late. ",
)


def text_of(chars: int, *, flagged_every: int = 4) -> str:
    """Build prose of about ``chars`` characters, one flagged sentence in ``flagged_every``."""
    out, i = "", 0
    while len(out) < chars:
        if i % flagged_every == flagged_every - 1:
            out += FLAGGED[(i // flagged_every) % len(FLAGGED)]
        else:
            out += CLEAN[i % len(CLEAN)]
        i += 1
    return out[:chars].rsplit(" ", 1)[0] + "."


def _times(fn: Callable[[], object], seconds: float = 1.5, at_least: int = 30) -> list[float]:
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < at_least or time.perf_counter() < deadline:
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _row(name: str, samples: list[float], goal: str) -> tuple[str, str, str]:
    samples.sort()
    median = statistics.median(samples) * 1000
    p95 = samples[int(len(samples) * 0.95) - 1] * 1000
    return (name, f"{1000 / median:,.0f}/s  median {median:.3f} ms  p95 {p95:.3f} ms", goal)


# Inputs built to make a careless pattern backtrack: long runs of one character or of a
# word a detector keys on (the ReDoS guard in tests/engine/test_detectors.py uses them).
ADVERSARIAL = (
    "a" * 10_000,
    "a." * 5_000,
    "1 " * 5_000,
    "1-" * 5_000,
    "@a" * 5_000,
    "aaa@" * 2_500,
    "women are " * 1_000,
    "Ab " * 3_333,
    "ignore " * 1_428,
)


def _adversarial_row() -> tuple[str, str, str]:
    """Time each adversarial input; report the slowest one, in CPU and in wall time.

    CPU time (this thread's) is the figure to compare: on a shared machine the wall time
    of a 10,000-character scan also counts the time other processes held the core.
    """
    ctx = EvalContext()
    slowest = (0.0, 0.0)
    for text in ADVERSARIAL:
        cpu, wall = [], []
        for _ in range(7):
            cpu_started, wall_started = time.thread_time(), time.perf_counter()
            scan(text, ctx)
            cpu.append(time.thread_time() - cpu_started)
            wall.append(time.perf_counter() - wall_started)
        slowest = max(slowest, (statistics.median(cpu), statistics.median(wall)))
    return (
        f"adversarial scan, 10,000 chars, slowest of {len(ADVERSARIAL)}",
        f"median {slowest[0] * 1000:.1f} ms CPU  ({slowest[1] * 1000:.1f} ms wall)",
        "CPU median < 60 ms",
    )


def _repair_row(evaluator: LearnedEvaluator, regenerator: EmbeddedRegenerator) -> tuple[str, ...]:
    """Time one embedded repair of 1,000 characters, as the loop asks for it."""
    request = parse_regenerate_request({"content": text_of(1_000), "domain": "healthcare"})
    loop = Loop(request)
    step(loop, evaluator, regenerator)  # score the original: the repair needs its issues
    wanted = loop.regeneration_request(loop.next_prompt())
    samples = _times(lambda: regenerator.regenerate(wanted))
    return _row("embedded repair, 1,000 chars", samples, "median <= 1 ms")


def run() -> list[tuple[str, str, str]]:
    evaluator, regenerator = LearnedEvaluator(), EmbeddedRegenerator()
    ctx = EvalContext(mode="basic", domain="healthcare")
    rows = []
    rules, short = RulesEvaluator(), text_of(1_000)
    rows.append(
        _row("rules alone, basic, 1,000 chars", _times(lambda: rules.evaluate(short, ctx)), "-")
    )
    for chars, goal in ((1_000, "median <= 2 ms"), (10_000, "median <= 20 ms")):
        text = text_of(chars)
        rows.append(
            _row(
                f"embedded eval, basic, {chars:,} chars",
                _times(lambda t=text: evaluator.evaluate(t, ctx)),
                goal,
            )
        )
    deep = EvalContext(mode="deep", domain="healthcare")
    text = text_of(1_000)
    rows.append(
        _row(
            "embedded eval, deep, 1,000 chars", _times(lambda: evaluator.evaluate(text, deep)), "-"
        )
    )
    request = parse_regenerate_request(
        {
            "content": text_of(1_000),
            "domain": "healthcare",
            "max_regenerations": 3,
            "thresholds": {"overall": {"score": 9.9}},  # never passes: all 3 regenerations run
        }
    )
    rows.append(_repair_row(evaluator, regenerator))
    rows.append(_adversarial_row())
    loop = run_loop(request, evaluator=evaluator, regenerator=regenerator)
    name = f"whole loop, {len(loop.iterations) - 1} regenerations, 1,000 chars"
    rows.append(
        _row(
            name,
            _times(lambda: run_loop(request, evaluator=evaluator, regenerator=regenerator)),
            "median <= 5 ms",
        )
    )
    return rows
