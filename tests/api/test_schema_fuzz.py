"""Fuzz every operation of the served OpenAPI schema (schemathesis, in-process WSGI).

The schema is the one the app serves at ``/api/schema/`` (drf-spectacular), loaded
through the WSGI app itself, so what is fuzzed is exactly what clients are told. Three
runs, whose answers are all counted (``fuzz_support.ANSWERS``):

- every operation with a funded key whose plan no run rate-limits, over schemathesis's
  examples, coverage and fuzzing phases, positive and negative. The key owns completed
  runs, a queued job, pending review items and live external sessions; most cases are
  sent those real ids (``with_real_ids``) and, when schema-valid, a body the server's own
  rules accept (``mostly_valid``), so the requests reach the core instead of its gates;
- every operation with no credentials at all;
- a stateful run whose OpenAPI links (added here to the served schema) chain what one
  answer creates into the next request: create a run then read it, poll a job, read and
  decide a queued review item, continue an external session.

Every answer must be a documented status and never a 5xx. The last tests then read the
tally: enough successes on ``/eval`` and ``/safe-regenerate``, a success on every POST,
at most 5% rate-limited answers. The table of answers is printed at the end of the run
(``tests/api/conftest.py``) and written to ``docs/fuzz-report.md``.
"""

from __future__ import annotations

import copy
import importlib
import os
import pkgutil
from contextlib import contextmanager
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from django.core import signals  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import close_old_connections, transaction  # noqa: E402
from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from railsite.wsgi import application  # noqa: E402

from . import fuzz_support as fs  # noqa: E402

# 50 examples per operation in the fuzzing phase (the coverage phase adds its own cases,
# about 600 on /safe-regenerate): about 2,400 answers, 45-50 s on two cores (80-90 s
# while other jobs load the machine), no longer than the fuzz this one replaced.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
ANONYMOUS_EXAMPLES = 10  # every answer is a 401: a few examples show that no route leaks
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "20"))
REPORT = Path(__file__).resolve().parents[2] / "docs" / "fuzz-report.md"

KEY, NO_KEY, STATEFUL = "key", "no key", "key, stateful"
CORE = (fs.EVAL, fs.SAFE_REGENERATE)
CORE_SUCCESS_FLOOR = 0.30
RATE_LIMITED_CEILING = 0.05

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The key is sent with every keyed case: no Authorization header is generated, so no
# keyed case is a "missing credentials" case (the run without credentials covers those).
schema.config.generation.update(with_security_parameters=False)
anonymous_schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
anonymous_schema.config.phases.update(phases=["examples", "fuzzing"])


@schema.hook("map_case")
def _mostly_valid_bodies(context, case):
    return fs.mostly_valid(case)


# Every built-in check (not_a_server_error, status_code_conformance, content_type and
# response-schema conformance, negative_data_rejection, ignored_auth,
# missing_required_header, unsupported_method, ...) except one:
# positive_data_acceptance, "every schema-valid request is accepted", cannot hold for
# this contract: rules such as "weights sum to 100 (within 0.01)" or "content has 10
# non-blank characters" have no OpenAPI 3.0 expression, so schema-valid requests that
# break them are rightly answered 400.
#
# negative_data_rejection runs on request bodies (every POST) but not on query strings:
# like most HTTP APIs, the list endpoints ignore unknown query parameters. (A filter value
# outside its enum, an empty one, or a malformed page or page_size is a 400:
# tests/api/test_reviews_and_runs.py.)
#
# ensure_resource_availability (stateful) takes a 404 from /continue after a successful
# /safe-regenerate for "the created resource is gone", because the path of /continue
# extends that of /safe-regenerate and it has no parameters, so it always looks "linked";
# but only an external run has a session, and unknown session ids are sent on purpose.
#
# ignored_auth re-sends a successful keyed request without the key and with a wrong one;
# as in schemathesis's own runner, once per operation is enough (auth is per operation).
EXCLUDED = [positive_data_acceptance]
AUTH_CONFIRMED: set[str] = set()


def _excluded(case) -> list:
    excluded = list(EXCLUDED)
    if case.operation.method.upper() == "GET":
        excluded.append(negative_data_rejection)
    if case.operation.path == fs.CONTINUE:
        excluded.append(ensure_resource_availability)
    if case.operation.label in AUTH_CONFIRMED:
        excluded.append(ignored_auth)
    return excluded


def _call_and_validate(case, headers: dict, caller: str):
    """``case.call_and_validate``, taken apart so every answer is counted before it is
    checked; the checks are told the key is the caller's own, not a generated one."""
    response = case.call(headers=headers)
    fs.record(case, response.status_code, caller)
    _validate(case, response, headers)


def _validate(case, response, headers: dict | None, **kwargs) -> None:
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=_excluded(case),
        transport_kwargs={"headers": headers} if headers else None,
        **kwargs,
    )
    if 200 <= response.status_code < 300 and headers:
        AUTH_CONFIRMED.add(case.operation.label)


# derandomize: the same examples on every run, so a failure in CI reproduces locally.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@contextmanager
def _sharing_the_test_connection():
    """Let in-process requests share the test's transaction.

    Django's WSGI handler closes "old" connections when a request starts and ends, and
    inside the test's transaction every connection looks old (autocommit is off), so the
    first request would close it under the test. Django's own test client disconnects
    the same handler for the same reason, and connects it again after each request: so
    this is entered after the world is seeded through that client.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, request):
    """A funded key and, for the operations that read them, what it owns."""
    cache.clear()  # eval results, idempotency records and rate counters of earlier runs
    operation = request.node.name.partition("[")[2]  # "GET /railscore/v1/runs]", or ""
    path = operation.partition(" ")[2].rstrip("]")
    with_state = not operation or path.startswith(fs.WITH_STATE)
    seeded = fs.seed_world(fs.funded_key(), with_state=with_state)
    with _sharing_the_test_connection():
        yield seeded


@pytest.fixture
def anonymous(db):
    cache.clear()
    with _sharing_the_test_connection():
        yield


@schema.parametrize()
@FUZZ
def test_every_operation_with_a_funded_key(case, world):
    _call_and_validate(fs.with_real_ids(case, world), world.headers, KEY)


@anonymous_schema.parametrize()
@settings(FUZZ, max_examples=ANONYMOUS_EXAMPLES)
def test_every_operation_without_credentials(case, anonymous):
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    _call_and_validate(case, {}, NO_KEY)


# -- stateful: create, then read, decide, continue ---------------------------------------

RUN = "railscore_v1_runs_retrieve"
JOB = "railscore_v1_jobs_retrieve"
ITEM = "railscore_v1_review_items_retrieve"
DECIDE = "railscore_v1_review_items_decision_create"
CONTINUE = "railscore_v1_safe_regenerate_continue_create"
APPROVE = {"decision": "approve", "reason": "Checked by the fuzz."}


def _read_run(expression: str) -> dict:
    return {"operationId": RUN, "parameters": {"path.run_id": expression}}


def _continue(expression: str) -> dict:
    body = {"session_id": expression, "regenerated_content": fs.REWRITE}
    return {"operationId": CONTINUE, "requestBody": body}


def _review(expression: str) -> dict:
    return {
        "ReadReviewItem": {"operationId": ITEM, "parameters": {"path.item_id": expression}},
        "DecideReviewItem": {
            "operationId": DECIDE,
            "parameters": {"path.item_id": expression},
            "requestBody": APPROVE,
        },
    }


# (path, method, status) -> the links its answers offer
LINKS = {
    (fs.SAFE_REGENERATE, "post", "200"): {
        "ReadRun": _read_run("$response.body#/metadata/req_id"),
        "ContinueSession": _continue("$response.body#/result/session_id"),
    },
    (fs.SAFE_REGENERATE, "post", "202"): {
        "PollJob": {"operationId": JOB, "parameters": {"path.run_id": "$response.body#/job_id"}},
    },
    (fs.SAFE_REGENERATE, "post", "422"): _review("$response.body#/review_id"),
    (fs.EVALGUARD, "post", "200"): {"ReadEvalGuardRun": _read_run("$response.body#/runId")},
    (fs.EVALGUARD, "post", "422"): _review("$response.body#/review_id"),
    (fs.CONTINUE, "post", "200"): {
        "ContinueAgain": _continue("$request.body#/session_id"),
        "ReadSessionRun": _read_run("$response.body#/metadata/req_id"),
    },
    (fs.CONTINUE, "post", "422"): _review("$response.body#/review_id"),
    ("/railscore/v1/runs", "get", "200"): {
        "ReadListedRun": _read_run("$response.body#/results/0/req_id"),
        "PollListedRun": {
            "operationId": JOB,
            "parameters": {"path.run_id": "$response.body#/results/0/req_id"},
        },
        # the newest of the world's runs is a live external session
        "ContinueListedSession": _continue("$response.body#/results/0/session_id"),
    },
    ("/railscore/v1/review-items", "get", "200"): _review("$response.body#/results/0/review_id"),
    ("/railscore/v1/review-items/{item_id}", "get", "200"): {
        "DecideReadItem": _review("$request.path.item_id")["DecideReviewItem"],
    },
}


def _with_links(raw: dict) -> dict:
    raw = copy.deepcopy(raw)
    for (path, method, status), links in LINKS.items():
        raw["paths"][path][method]["responses"][status]["links"] = links
    return raw


linked_schema = schemathesis.openapi.from_dict(_with_links(schema.raw_schema))
linked_schema.app = application
linked_schema.location = schema.location
linked_schema.config.generation.update(with_security_parameters=False)


linked_schema.hook("map_case")(_mostly_valid_bodies)


class Workflow(linked_schema.as_state_machine()):
    """Scenarios of up to 6 linked calls, each counted and checked like the others."""

    headers: dict[str, str] = {}  # the world's key, set by the test

    def setup(self):
        # every scenario starts from the same world: Hypothesis replays a scenario's choices
        # and expects the same answers, which runs, review items, spent credits and cached
        # answers left by earlier scenarios would change
        self.savepoint = transaction.savepoint()
        cache.clear()

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def get_call_kwargs(self, case):
        return {"headers": self.headers}

    def after_call(self, response, case):
        super().after_call(response, case)
        fs.record(case, response.status_code, STATEFUL)

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        _validate(
            case,
            response,
            kwargs.get("headers"),
            additional_checks=additional_checks,
            recorder=self.recorder,
        )


@pytest.fixture
def every_local_module_imported():
    """Import every module of the project before the stateful run.

    Hypothesis draws constants from the local modules imported so far, and adds those of
    a module the moment it is imported; a module first imported by a request mid-run
    (lazily, inside a function) changes what the next scenario draws, and Hypothesis
    then stops with ``FlakyStrategyDefinition``. Importing them all first keeps the pool
    the same for every scenario, whatever ran before this test.
    """
    for package in ("railsite", "regen", "billing", "bench"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if not info.name.endswith(("__main__", ".asgi", ".wsgi")):
                importlib.import_module(info.name)


def test_linked_operations_create_then_read_decide_and_continue(
    world, monkeypatch, every_local_module_imported
):
    monkeypatch.setattr(Workflow, "headers", world.headers)
    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.generate],
        )
    )


# -- what the whole fuzz must show ----------------------------------------------------------


@pytest.fixture
def tally():
    """The answers of the whole fuzz, once every run above has run (else a skip: these
    tests judge the whole module, not a ``-k`` selection of it)."""
    labels = {(op.ok().path, op.ok().method.upper()) for op in schema.get_all_operations()}
    answered = {(path, method) for path, method, caller, _ in fs.ANSWERS if caller == KEY}
    if not labels <= answered or not any(c == STATEFUL for *_, c, _ in fs.ANSWERS):
        pytest.skip("the fuzz tests above did not all run")
    fs.write_report(REPORT, ceiling=RATE_LIMITED_CEILING, floor=CORE_SUCCESS_FLOOR)
    return fs.ANSWERS


@pytest.mark.parametrize("path", CORE)
def test_a_fair_share_of_eval_and_safe_regenerate_answers_are_successes(tally, path):
    # 30%: schemathesis's negative cases (about half of these answers) are rightly
    # refused, and some positive ones are too (rules OpenAPI cannot state, kept on
    # purpose); with the funded key, the seeded world and mostly-valid bodies about 40%
    # succeed. Below 30%, valid requests stopped reaching the engine.
    answers = fs.answers_of(path, callers=(KEY, STATEFUL))
    assert fs.success_share(answers) >= CORE_SUCCESS_FLOOR, dict(answers)


def test_every_post_operation_succeeds_at_least_once(tally):
    posts = sorted({path for path, method, *_ in tally if method == "POST"})
    never = [p for p in posts if not fs.success_share(fs.answers_of(p, callers=(KEY, STATEFUL)))]
    assert never == []


def test_at_most_five_percent_of_the_answers_are_rate_limited(tally):
    limited = sum(n for (*_, status), n in tally.items() if status == 429)
    assert limited / sum(tally.values()) <= RATE_LIMITED_CEILING
