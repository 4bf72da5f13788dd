"""What the schema fuzz (``test_schema_fuzz.py``) needs besides schemathesis.

- ``funded_key``: a key on a plan whose rate limits no fuzz run reaches, with ample credits.
- ``seed_world``: completed runs, a queued job, pending review items and live external
  sessions, made through the API, so operations with an id can be sent real ones.
- ``mostly_valid``: the repairs that turn a schema-valid body into one the server accepts,
  for the rules OpenAPI 3.0 cannot state (10 non-blank characters, weights summing to
  100, a configured model name, the plan's regeneration cap).
- ``record``, ``table`` and ``write_report``: every answer the fuzz got, by operation,
  caller and status, as a markdown table.
"""

from __future__ import annotations

import itertools
import json
import math
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billing.models import APIKey
from tests.factories import AccountFactory, APIKeyFactory, PlanFactory, ProjectFactory
from tests.helpers import client_for, let_another_key_have_made

from .texts import FACTUAL, HEALTHCARE, HIRING, VIOLENT

SAFE_REGENERATE = "/railscore/v1/safe-regenerate"
EVAL = "/railscore/v1/eval"
CONTINUE = "/railscore/v1/safe-regenerate/continue"
WITH_STATE = ("/railscore/v1/runs", "/railscore/v1/jobs/", "/railscore/v1/review-items", CONTINUE)
"""Operations whose answers depend on what the key owns: the world is seeded for them."""
EVALGUARD = "/api/v1/evals/safe-regenerate"
DECISION = "/railscore/v1/review-items/{item_id}/decision"

# Texts a repaired body starts with, in turn: one that passes, two that get regenerated,
# and one critical enough to be queued for review (a 422 with a review_id).
TEXTS = (FACTUAL, HIRING, HEALTHCARE, VIOLENT)
REWRITE = "When reviewing resumes, focus on the skills and experience the role requires."
KEEP_EVERY = 4
"""Every fourth case keeps what schemathesis generated (an unknown id, an unconfigured
model name): the 404 and 400 paths stay covered while the rest reach the core."""


def funded_key() -> APIKey:
    """A key whose plan allows every mode, 5 regenerations and far more requests than a
    fuzz run sends (so no answer is a 429), on an account with a million credits."""
    plan = PlanFactory(
        name="Fuzz",
        slug="fuzz",
        credits_per_month=1_000_000,
        requests_per_minute=1_000_000,
        requests_per_day=10_000_000,
        allowed_modes=["basic", "deep", "auto"],
        max_regenerations=5,
    )
    account = AccountFactory(name="Fuzz", plan=plan, credits=1_000_000)
    return APIKeyFactory(project=ProjectFactory(account=account, name="Fuzz"))


@dataclass
class World:
    """Ids that exist for the fuzz's key, and a turn counter that spreads them over cases."""

    headers: dict[str, str]
    runs: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    turn: itertools.count = field(default_factory=itertools.count)

    def ids_for(self, path: str) -> list[str]:
        if path.startswith("/railscore/v1/review-items/"):
            return self.reviews
        if path.startswith("/railscore/v1/jobs/"):
            return self.jobs + self.runs
        return self.runs + self.jobs


def seed_world(key: APIKey, *, with_state: bool = True) -> World:
    """Create, through the API, what the id-taking operations should find."""
    world = World(headers={"Authorization": f"Bearer {key.raw}"})
    if not with_state:
        return world
    client = client_for(key)

    def post(body: dict[str, Any], status: int) -> dict[str, Any]:
        response = client.post(SAFE_REGENERATE, body, format="json")
        assert response.status_code == status, response.content  # the set-up itself broke
        return response.json()

    for text in (FACTUAL, HIRING):
        world.runs.append(post({"content": text}, 200)["metadata"]["req_id"])
    world.jobs.append(post({"content": HIRING, "async": True}, 202)["job_id"])
    for n in range(4):
        world.reviews.append(post({"content": f"{VIOLENT} ({n})"}, 422)["review_id"])
        # the fuzzed key may decide these, as if another key had sent them (a key never
        # decides its own content: those the fuzz creates itself answer 403)
        let_another_key_have_made(world.reviews[-1])
    for text in (HIRING, HEALTHCARE):
        started = post({"content": text, "regeneration_model": "external"}, 200)
        world.sessions.append(started["result"]["session_id"])
    return world


def with_real_ids(case: Any, world: World) -> Any:
    """Send most cases of an id-taking operation an id that exists.

    Called just before the request, not as a generation hook: schemathesis builds the
    coverage phase's cases when the tests are collected, before any world exists.
    """
    turn = next(world.turn)
    if turn % KEEP_EVERY == KEEP_EVERY - 1:
        return case
    path = case.operation.path
    if case.path_parameters:
        ids = world.ids_for(path)
        name = next(iter(case.path_parameters))
        if ids:
            case.path_parameters = {**case.path_parameters, name: ids[turn % len(ids)]}
    if path == CONTINUE and isinstance(case.body, dict) and world.sessions:
        case.body = {**case.body, "session_id": world.sessions[turn % len(world.sessions)]}
    return case


def mostly_valid(case: Any) -> Any:
    """Repair a schema-valid (positive) POST body so the server's own rules accept it.

    Only positive cases are touched, and every repair keeps the body schema-valid, so a
    negative case still tests rejection and no repaired body is a false "negative".
    """
    meta = case.meta
    if case.operation.method.upper() != "POST" or not isinstance(case.body, dict):
        return case
    if meta is None or not meta.generation.mode.is_positive:
        return case
    # the repair is a function of the generated body, not of a running counter: when
    # Hypothesis replays a case it must get the same body, hence the same answer
    turn = zlib.crc32(json.dumps(case.body, sort_keys=True, default=str).encode())
    repair = REPAIRS.get(case.operation.path)
    if repair is not None:
        case.body = repair(dict(case.body), turn)
    return case


def _text(value: Any, turn: int) -> str:
    """A string with at least 10 non-blank characters and at most 10,000 characters."""
    if isinstance(value, str) and len(value.strip()) >= 10:
        return value
    start = TEXTS[turn % len(TEXTS)]
    rest = value if isinstance(value, str) else ""
    return (start + " " + rest)[:10_000]


def _weights(value: Any) -> Any:
    """Rescale weights to sum to 100; drop them when that is impossible."""
    if not isinstance(value, dict) or not value:
        return value
    total = sum(value.values())
    if not math.isfinite(total) or total <= 0:
        return None
    scaled = {k: v * 100 / total for k, v in value.items()}
    return scaled if math.isclose(sum(scaled.values()), 100, abs_tol=0.005) else None


def _scored_text(body: dict[str, Any], turn: int, known: frozenset[str]) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k in known}
    body["content"] = _text(body.get("content"), turn)
    if "weights" in body:
        body["weights"] = _weights(body["weights"])
    return body


_SCORED = frozenset(
    {
        "content", "dimensions", "weights", "context", "domain", "usecase", "prompt",
        "user_query", "thresholds", "threshold", "mode",
    }
)  # fmt: skip
EVAL_FIELDS = _SCORED | {"include_explanations", "include_issues", "include_suggestions", "dpdp"}
REGENERATE_FIELDS = _SCORED | {
    "max_regenerations", "max_iterations", "regeneration_model", "policy_hint",
    "stop_on_no_improvement", "max_cost_usd", "dry_run", "async",
}  # fmt: skip
MODELS = (None, "RAIL_Safe_LLM", "external")


def _eval(body: dict[str, Any], turn: int) -> dict[str, Any]:
    return _scored_text(body, turn, EVAL_FIELDS)


def _safe_regenerate(body: dict[str, Any], turn: int) -> dict[str, Any]:
    body = _scored_text(body, turn, REGENERATE_FIELDS)
    if turn % KEEP_EVERY != KEEP_EVERY - 1:  # a quarter each: default, server, external
        body["regeneration_model"] = MODELS[turn // KEEP_EVERY % len(MODELS)]
    return body


def _evalguard(body: dict[str, Any], turn: int) -> dict[str, Any]:
    known = {
        "content", "prompt", "threshold", "maxIterations", "dimensions", "scorerSet",
        "regeneratorModel", "maxCostUsd", "projectId", "recordHistory",
    }  # fmt: skip
    body = {k: v for k, v in body.items() if k in known}
    body["content"] = _text(body.get("content"), turn)
    if turn % KEEP_EVERY != KEEP_EVERY - 1:
        body.pop("projectId", None)  # an unknown project is a 404
        body.pop("regeneratorModel", None)  # an unconfigured model is a 400
        if isinstance(body.get("maxIterations"), int):
            body["maxIterations"] = min(body["maxIterations"], 5)  # the plan's cap: a 403
    return body


def _continue(body: dict[str, Any], turn: int) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k in {"session_id", "regenerated_content"}}
    if turn % 2 == 0 or not isinstance(body.get("regenerated_content"), str):
        body["regenerated_content"] = REWRITE
    body["regenerated_content"] = _text(body["regenerated_content"], turn)
    return body


def _decision(body: dict[str, Any], turn: int) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k in {"decision", "reason", "content", "override"}}
    if not str(body.get("reason", "")).strip():
        body["reason"] = "Checked by the fuzz."
    if body.get("decision") == "rewrite":
        body["content"] = _text(body.get("content"), turn)
        # whichever text the turn picked, the answer must not depend on its score (a rewrite
        # below the run's thresholds needs the override), or Hypothesis's replays diverge
        body["override"] = True
    return body


def _agent_injection(body: dict[str, Any], turn: int) -> dict[str, Any]:
    body["content"] = _text(body.get("content"), turn)
    return body


def _agent_tool_result(body: dict[str, Any], turn: int) -> dict[str, Any]:
    result = body.get("tool_result") if isinstance(body.get("tool_result"), dict) else {}
    if "data" not in result or turn % 2 == 0:
        result["raw"] = _text(result.get("raw"), turn)
    body["tool_result"] = result
    if not str(body.get("tool_name", "")).strip():
        body["tool_name"] = "web_search"
    return body


def _comparison(body: dict[str, Any], turn: int) -> dict[str, Any]:
    """An A/B the seeded world can run: its failing inputs, two different arms, a few inputs
    (half of them only priced, so the fuzz stays fast)."""
    body = {k: v for k, v in body.items() if k in {"inputs", "dry_run"}}
    body["challenger"] = {"regeneration_model": "embedded", "prompt_version": 0}
    body["inputs"] = min(body["inputs"], 3) if isinstance(body.get("inputs"), int) else 2
    if turn % 2 == 0:
        body["dry_run"] = True
    return body


REPAIRS = {
    "/railscore/v1/comparisons": _comparison,
    "/railscore/v1/agent/prompt-injection": _agent_injection,
    "/railscore/v1/agent/tool-result": _agent_tool_result,
    EVAL: _eval,
    SAFE_REGENERATE: _safe_regenerate,
    EVALGUARD: _evalguard,
    CONTINUE: _continue,
    DECISION: _decision,
}


# -- the tally and the report --------------------------------------------------------------

ANSWERS: Counter[tuple[str, str, str, int]] = Counter()
"""(path, method, caller, status) -> how many answers."""

OTHER_METHODS = " (other methods)"
"""Appended to the caller of the coverage phase's probes with methods the operation does
not have (405s, and a 200 to OPTIONS): they are not answers to the operation itself."""


def record(case: Any, status: int, caller: str) -> None:
    method = case.operation.method.upper()
    if case.method.upper() != method:
        caller += OTHER_METHODS
    ANSWERS[(case.operation.path, method, caller, status)] += 1


def answers_of(path: str, method: str = "POST", callers: tuple[str, ...] = ()) -> Counter[int]:
    """The statuses one operation answered to the given callers."""
    out: Counter[int] = Counter()
    for (p, m, caller, status), n in ANSWERS.items():
        if (p, m) == (path, method) and caller in callers:
            out[status] += n
    return out


def success_share(answers: Counter[int]) -> float:
    total = sum(answers.values())
    return sum(n for status, n in answers.items() if 200 <= status < 300) / total if total else 0.0


def table(answers: Counter[tuple[str, str, str, int]] | None = None) -> list[str]:
    """Markdown rows, one per operation and caller (sorted), one column per status seen."""
    answers = ANSWERS if answers is None else answers
    statuses = sorted({status for *_, status in answers})
    rows = sorted({(path, method, caller) for path, method, caller, _ in answers})
    head = ["operation", "caller", *map(str, statuses), "total", "2xx"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "--:|" * (len(head) - 2)]
    for path, method, caller in rows:
        counts = Counter({s: answers.get((path, method, caller, s), 0) for s in statuses})
        cells = [f"`{method} {path}`", caller, *(str(counts[s] or "") for s in statuses)]
        share = f"{success_share(counts):.0%}"
        lines.append("| " + " | ".join([*cells, str(sum(counts.values())), share]) + " |")
    total = Counter({s: sum(n for (*_, st), n in answers.items() if st == s) for s in statuses})
    cells = ["**all**", "", *(str(total[s]) for s in statuses), str(sum(total.values()))]
    lines.append("| " + " | ".join([*cells, f"{success_share(total):.0%}"]) + " |")
    return lines


def write_report(path: Path, *, ceiling: float, floor: float) -> None:
    """Write the table as ``docs/fuzz-report.md`` (no dates or timings: it diffs cleanly)."""
    limited = sum(n for (*_, status), n in ANSWERS.items() if status == 429)
    intro = f"""# Schema fuzz: answers by status

Written by `tests/api/test_schema_fuzz.py` on each full run of it (do not edit by hand).
Callers: `key` is the stateless fuzz (schemathesis's examples, coverage and fuzzing
phases, positive and negative cases) with a funded key that owns completed runs, a
queued job, pending review items and live external sessions; `key, stateful` is the
linked run (create, then read, decide, continue); `key (other methods)` are the coverage
phase's probes with methods the operation lacks; `no key` sends no credentials. The
stateless callers' examples are derandomized, so their counts change only when the
server's answers do; the stateful run's counts vary a little from run to run.

The run fails on any 5xx or undocumented status, when fewer than {floor:.0%} of the
answers to `/eval` or `/safe-regenerate` are 2xx, when a POST operation never gets a
2xx, or when more than {ceiling:.0%} of all answers are 429 (here: {limited}).
"""
    path.write_text(intro + "\n" + "\n".join(table()) + "\n")
