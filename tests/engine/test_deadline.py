"""Work done for a request ends before the web worker's timeout (issue 11, defect 1).

``engine.deadline`` carries the request's deadline; the loop does not start a step its
longest step yet would not finish, and a step cut short by it ends the loop with the best
version so far (``budget_exhausted``, ``stop_reason: "request_deadline"``).
"""

import time
from dataclasses import dataclass

import pytest

from regen.engine import deadline
from regen.engine.llm.errors import LLMTimeout
from regen.engine.loop import REQUEST_DEADLINE, Loop, run_loop
from regen.engine.report import stop_block
from regen.engine.requests import parse_regenerate_request

from .fakes import ScriptedEvaluator, ScriptedRegenerator, uniform

ORIGINAL = "the original text, which is not good enough"
SCRIPT = {ORIGINAL: uniform(5.0), "v1": uniform(6.0), "v2": uniform(6.5), "v3": uniform(9.0)}


@dataclass
class SlowRegenerator(ScriptedRegenerator):
    seconds: float = 0.25

    def regenerate(self, request):
        time.sleep(self.seconds)
        return super().regenerate(request)


def _loop(regenerator, seconds):
    request = parse_regenerate_request({"content": ORIGINAL, "max_regenerations": 3})
    return run_loop(
        request,
        evaluator=ScriptedEvaluator(SCRIPT),
        regenerator=regenerator,
        deadline=time.monotonic() + seconds,
    )


def test_the_loop_does_not_start_a_step_it_cannot_finish():
    started = time.monotonic()
    loop = _loop(SlowRegenerator(["v1", "v2", "v3"]), seconds=0.6)
    elapsed = time.monotonic() - started
    assert loop.status == "budget_exhausted"
    assert loop.stop_reason == REQUEST_DEADLINE
    assert [it.content for it in loop.iterations] == [ORIGINAL, "v1", "v2"]
    assert loop.best.content == "v2"
    assert elapsed < 0.6
    assert stop_block(loop) == {"stop_reason": "request_deadline"}


def test_without_a_deadline_the_same_loop_runs_to_the_end():
    request = parse_regenerate_request({"content": ORIGINAL, "max_regenerations": 3})
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator(SCRIPT),
        regenerator=SlowRegenerator(["v1", "v2", "v3"], seconds=0.01),
    )
    assert loop.status == "passed"
    assert loop.stop_reason is None


@dataclass
class TimesOutAtTheDeadline(ScriptedRegenerator):
    def regenerate(self, request):
        if len(self.requests) == 1:
            remaining = deadline_at - time.monotonic()
            time.sleep(max(0.0, remaining) + 0.01)
            raise LLMTimeout("no answer within the deadline")
        return super().regenerate(request)


def test_a_step_cut_short_by_the_deadline_ends_with_the_best_so_far():
    global deadline_at
    deadline_at = time.monotonic() + 0.3
    request = parse_regenerate_request({"content": ORIGINAL, "max_regenerations": 3})
    loop = run_loop(
        request,
        evaluator=ScriptedEvaluator(SCRIPT),
        regenerator=TimesOutAtTheDeadline(["v1", "v2", "v3"]),
        deadline=deadline_at,
    )
    assert loop.status == "budget_exhausted"
    assert loop.stop_reason == REQUEST_DEADLINE
    assert loop.best.content == "v1"


def test_a_failure_before_the_deadline_is_still_a_failure():
    class Broken(ScriptedRegenerator):
        def regenerate(self, request):
            raise LLMTimeout("the model is down")

    request = parse_regenerate_request({"content": ORIGINAL})
    with pytest.raises(LLMTimeout):
        run_loop(
            request,
            evaluator=ScriptedEvaluator(SCRIPT),
            regenerator=Broken([]),
            deadline=time.monotonic() + 30,
        )


def test_a_deadline_stop_survives_serialisation():
    loop = Loop(parse_regenerate_request({"content": ORIGINAL}))
    evaluator = ScriptedEvaluator(SCRIPT)
    from regen.engine.loop import evaluate

    evaluation, ms = evaluate(evaluator, ORIGINAL, loop)
    loop.record(content=ORIGINAL, evaluation=evaluation, eval_latency_ms=ms)
    loop.stop_for_deadline()
    again = Loop.from_state(loop.to_state())
    assert again.status == "budget_exhausted"
    assert again.stop_reason == REQUEST_DEADLINE


def test_within_keeps_an_earlier_outer_deadline():
    assert deadline.current() is None
    with deadline.within(0.5):
        outer = deadline.current()
        with deadline.within(10):
            assert deadline.current() == outer
        with deadline.within(0.1):
            assert deadline.current() < outer
        assert 0 < deadline.remaining() <= 0.5
    assert deadline.current() is None
