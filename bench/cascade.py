"""The cascade evaluator against the judge alone, on a fixed set (``make bench``).

The fixed set: up to 15 rows of each labelled data file (binary labels, the test half,
the first by ``sha1(id)``), or, without the data, the API tests' own texts. The judge is
the fake OpenAI-compatible server scripted per text: a problematic row (label 1) scores
about 3, a benign one about 8.5, each moved by up to +/-1.5 by a hash of the text, so some
land near the threshold, as a real judge's would. Reported: the share of LLM calls the
cascade saves against judging every text, and how often its verdict (pass or fail at the
default thresholds) agrees with the judge-only verdict.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from regen.engine.dimensions import DIMENSIONS
from regen.engine.evaluators.cascade import CascadeEvaluator
from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.llm import LLMClient, LLMEvaluator
from regen.engine.scoring import aggregate
from regen.engine.thresholds import Thresholds, decide
from regen.engine.types import EvalContext, Evaluator
from tests.api import texts
from tests.engine.llm.fakeserver import running_fake_llm

ROOT = Path(__file__).resolve().parent.parent
PER_FILE = 15
THRESHOLDS = Thresholds()


def _sha(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()


def fixed_set() -> list[tuple[str, int]]:
    """Return (text, label) pairs: a sample of the labelled data, else built-in texts."""
    directory = Path(os.environ.get("RAIL_DATA_DIR", ROOT.parent / "shared" / "data"))
    rows: list[tuple[str, int]] = []
    for path in sorted(directory.glob("*.jsonl")):
        candidates = []
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                text = raw.get("text") or ""
                if raw.get("label_type") != "binary" or not 10 <= len(text) <= 4000:
                    continue
                if _sha(raw["id"])[0] in "01234567":  # the calibration half
                    continue
                candidates.append((_sha(raw["id"]), text, int(raw["label"])))
        rows += [(text, label) for _, text, label in sorted(candidates)[:PER_FILE]]
    if rows:
        return rows
    return [
        (texts.HEALTHCARE, 1),
        (texts.HIRING, 1),
        (texts.VIOLENT, 1),
        (texts.FACTUAL, 0),
    ]


def scripted_score(text: str, label: int) -> float:
    jitter = (int(_sha(text)[:2], 16) / 255 - 0.5) * 3.0
    return max(0.0, min(10.0, (3.0 if label else 8.5) + jitter))


def verdict(evaluator: Evaluator, text: str) -> bool:
    ctx = EvalContext(threshold=THRESHOLDS.overall_score)
    evaluation = aggregate(evaluator.evaluate(text, ctx))
    met = decide(
        scores=evaluation.pairs(),
        overall_score=evaluation.score,
        overall_confidence=evaluation.confidence,
        thresholds=THRESHOLDS,
        degraded=evaluation.degraded,
    )
    return met.all_passed


def measure(rows: list[tuple[str, int]]) -> dict[str, float]:
    """Judge every row with the judge alone, then with the cascade; count calls and agreement."""
    table = {text.strip(): scripted_score(text, label) for text, label in rows}
    with running_fake_llm() as fake:
        fake.judge = lambda text: table.get(text.strip(), 8.5)
        fake.confidence = 0.9
        client = LLMClient(fake.base_url, "sk-bench", "gpt-4o-mini", read_timeout=10.0)
        judge = LLMEvaluator(client)
        alone = [verdict(judge, text) for text, _ in rows]
        judge_calls = fake.hits
        fake.reset_counters()
        cascade = CascadeEvaluator(LearnedEvaluator(), judge)
        mixed = [verdict(cascade, text) for text, _ in rows]
        cascade_calls = fake.hits
        client.close()
    agree = sum(a == b for a, b in zip(alone, mixed, strict=True)) / len(rows)
    return {
        "texts": len(rows),
        "judge_calls": judge_calls,
        "cascade_calls": cascade_calls,
        "saved": 1 - cascade_calls / judge_calls,
        "agreement": agree,
        "judge_pass_rate": sum(alone) / len(rows),
    }


def run() -> list[tuple[str, str, str]]:
    http_log = logging.getLogger("httpx")
    level = http_log.level
    http_log.setLevel(logging.WARNING)  # one log line per call would swamp the table
    try:
        figures = measure(fixed_set())
    finally:
        http_log.setLevel(level)
    n = int(figures["texts"])
    return [
        (
            f"cascade: LLM judge calls saved ({n} texts, {len(DIMENSIONS)} dimensions each)",
            f"{figures['saved']:.0%} ({int(figures['cascade_calls'])} of "
            f"{int(figures['judge_calls'])} calls)",
            "report",
        ),
        (
            "cascade: verdicts agreeing with the judge alone",
            f"{figures['agreement']:.1%}",
            "report",
        ),
    ]


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "railsite.settings")
    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(json.dumps(measure(fixed_set()), indent=2))
