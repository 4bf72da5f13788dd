"""LLM engines against the fake OpenAI-compatible server: R3 (deep-mode fan-out), R4.

R3 (TESTS T29): a deep loop forced through N = 3 regenerations with a fake latency L of
200 ms has a critical path of 4 judge rounds and 3 rewrites, 7 x L = 1.4 s; its wall time
over that path should be <= 1.2 and its speed-up over calling the 35 calls one after the
other >= 4. R4: the client's own overhead per call (wall minus the injected latency).
"""

from __future__ import annotations

import logging
import statistics
import time

from regen.engine.dimensions import DIMENSIONS
from regen.engine.llm import LLMClient, LLMEvaluator, LLMRegenerator
from regen.engine.loop import run_loop
from regen.engine.requests import parse_regenerate_request
from tests.engine.llm.fakeserver import running_fake_llm

SEED = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y twice "
    "daily. No need to see a doctor for this."
)
HELLO = [{"role": "user", "content": "Say hello."}]


def _client(base_url: str) -> LLMClient:
    return LLMClient(base_url, "sk-bench", "gpt-4o-mini", read_timeout=10.0, total_deadline=30.0)


def _r3() -> tuple[str, str, str]:
    latency, regenerations = 0.2, 3
    request = parse_regenerate_request(
        {"content": SEED, "mode": "deep", "max_regenerations": regenerations}
    )
    rounds = regenerations + 1
    critical = (rounds + regenerations) * latency
    sequential = (rounds * len(DIMENSIONS) + regenerations) * latency
    with running_fake_llm(latency=latency) as fake, _client(fake.base_url) as llm:
        fake.scores = dict.fromkeys(DIMENSIONS, 5.0)  # never passes: every round runs
        versions = iter(range(1, 100))  # a new text each time: a repeat would stop the loop
        fake.rewrite = lambda text: f"{text} Version {next(versions)}."
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            run_loop(request, evaluator=LLMEvaluator(llm), regenerator=LLMRegenerator(llm))
            walls.append(time.perf_counter() - started)
        peak = fake.peak_in_flight
    wall = statistics.median(walls)
    return (
        f"R3 deep loop, {regenerations} regenerations, L {latency * 1000:.0f} ms",
        f"wall {wall:.2f} s = {wall / critical:.2f} x critical path; "
        f"speed-up {sequential / wall:.1f}x; peak in flight {peak}",
        "<= 1.2 x; speed-up >= 4; peak 8",
    )


def _r4() -> tuple[str, str, str]:
    latency = 0.02
    with running_fake_llm(latency=latency) as fake, _client(fake.base_url) as llm:
        llm.complete(HELLO, temperature=0.0, max_tokens=20)  # open the connection
        overheads = []
        for _ in range(100):
            started = time.perf_counter()
            llm.complete(HELLO, temperature=0.0, max_tokens=20)
            overheads.append((time.perf_counter() - started - latency) * 1000.0)
    overheads.sort()
    p50 = statistics.median(overheads)
    p95 = overheads[int(0.95 * len(overheads)) - 1]
    return (
        "R4 LLM client overhead per call",
        f"p50 {p50:.2f} ms  p95 {p95:.2f} ms",
        "p50 <= 5 ms, p95 <= 15 ms",
    )


def run() -> list[tuple[str, str, str]]:
    http_log = logging.getLogger("httpx")
    level = http_log.level
    http_log.setLevel(logging.WARNING)  # one log line per call would swamp the table
    try:
        return [_r4(), _r3()]
    finally:
        http_log.setLevel(level)
