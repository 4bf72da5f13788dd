"""The LLM client against a real HTTP server: timeouts, retries, circuit, costs (T23).

Timing is asserted in ``test_timing.py`` (marker ``perf``) and measured by ``make bench``;
here the client's retry pauses are recorded, not slept, so no assert reads a clock.
"""

import time
from types import SimpleNamespace

import pytest

from regen.engine.llm import (
    CircuitBreaker,
    CircuitOpen,
    LLMBadResponse,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
    Price,
    UnsafeBaseURL,
    price_for,
    validate_base_url,
)
from regen.engine.llm import client as client_module

from .conftest import make_client
from .fakeserver import refused_url

HELLO = [{"role": "user", "content": "Say hello."}]


def ask(llm):
    return llm.complete(HELLO, temperature=0.0, max_tokens=20)


@pytest.fixture
def sleeps(monkeypatch):
    """Record the pauses the client asks for between attempts instead of sleeping them."""
    asked: list[float] = []
    monkeypatch.setattr(
        client_module, "time", SimpleNamespace(monotonic=time.monotonic, sleep=asked.append)
    )
    return asked


def test_it_returns_the_text_tokens_and_cost_of_a_completion(fake_llm, client):
    fake_llm.usage = (1000, 200)
    completion = ask(client)
    assert completion.text == " Please consult a professional."
    assert (completion.input_tokens, completion.output_tokens) == (1000, 200)
    assert completion.cost_usd == pytest.approx(1000 * 0.15e-6 + 200 * 0.60e-6)
    assert completion.attempts == 1
    assert completion.usage.llm_calls == 1
    sent = fake_llm.requests[0]
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == HELLO
    assert sent["max_tokens"] == 20


def test_it_prices_models_from_the_table_with_a_conservative_fallback():
    assert price_for("gpt-4o-mini") == Price(0.15, 0.60)
    assert price_for("openai/gpt-4o-2024-08-06") == Price(2.50, 10.00)
    assert price_for("gpt-4o-mini-2024-07-18") == Price(0.15, 0.60)
    assert price_for("some-local-model") == Price(2.50, 10.00)
    assert price_for("mine", {"mine": Price(1, 2)}) == Price(1, 2)
    assert price_for("other", {"*": Price(0, 0)}) == Price(0, 0)


def test_it_estimates_tokens_when_the_provider_reports_no_usage(fake_llm, client, monkeypatch):
    fake_llm.headers = {}
    fake_llm.usage = None
    completion = ask(client)
    assert completion.input_tokens > 0
    assert completion.output_tokens > 0


# -- T23 (a)-(f), scaled down ------------------------------------------------------------
def test_a_hang_before_headers_times_out_at_the_read_timeout(fake_llm):
    fake_llm.mode = "hang"
    llm = make_client(fake_llm.base_url, read_timeout=0.3, total_deadline=2.0)
    with llm, pytest.raises(LLMTimeout, match="read timeout") as err:
        ask(llm)
    assert err.value.attempts == 1
    assert fake_llm.hits == 1  # a hung server is not asked again


def test_b_a_trickling_body_is_cut_at_the_total_deadline(fake_llm):
    fake_llm.mode = "trickle"
    fake_llm.trickle_interval = 0.1  # well under the read timeout: it never fires
    llm = make_client(fake_llm.base_url, read_timeout=0.3, total_deadline=0.6)
    with llm, pytest.raises(LLMTimeout, match="deadline \\(0.6 s a call"):
        ask(llm)
    assert fake_llm.hits == 1


def test_c_a_429_is_retried_after_retry_after(fake_llm, sleeps):
    fake_llm.statuses = [429]
    fake_llm.retry_after = "2"
    with make_client(fake_llm.base_url, total_deadline=3.0) as llm:
        completion = ask(llm)
    assert completion.attempts == 2
    assert len(sleeps) == 1
    assert 2.0 <= sleeps[0] <= 2.0 * 1.05  # Retry-After, plus at most 5% jitter


def test_c_a_retry_after_beyond_the_deadline_fails_at_once(fake_llm, sleeps):
    fake_llm.statuses = [429]
    fake_llm.retry_after = "30"
    llm = make_client(fake_llm.base_url, total_deadline=1.0)
    with llm, pytest.raises(LLMUnavailable, match="429"):
        ask(llm)
    assert sleeps == []  # no waiting for a retry that could not happen in time
    assert fake_llm.hits == 1


def test_d_two_500s_then_success_take_three_attempts_with_growing_jittered_gaps(fake_llm, sleeps):
    fake_llm.statuses = [500, 500]
    with make_client(fake_llm.base_url, backoff_base=0.05) as llm:
        completion = ask(llm)
    assert completion.attempts == 3
    assert fake_llm.hits == 3
    first, second = sleeps
    assert 0.025 <= first <= 0.05  # half to all of base
    assert 0.05 <= second <= 0.10  # half to all of 2 x base


def test_d_the_backoff_is_jittered(fake_llm, sleeps):
    for _ in range(5):
        fake_llm.statuses = [500]
        with make_client(fake_llm.base_url, backoff_base=0.05) as llm:
            ask(llm)
    assert len(set(sleeps)) > 1  # equal pauses would make clients retry in lockstep


def test_d_5xx_give_up_after_max_retries(fake_llm):
    fake_llm.statuses = [503] * 10
    with make_client(fake_llm.base_url, max_retries=2) as llm, pytest.raises(LLMUnavailable) as err:
        ask(llm)
    assert err.value.attempts == 3
    assert fake_llm.hits == 3


def test_e_a_400_is_not_retried(fake_llm, client):
    fake_llm.statuses = [400]
    with pytest.raises(LLMRejected) as err:
        ask(client)
    assert err.value.status == 400
    assert err.value.attempts == 1
    assert fake_llm.hits == 1


def test_f_connection_refused_is_retried_then_opens_the_circuit():
    circuit = CircuitBreaker(failure_threshold=3, cooldown=0.5)
    with make_client(refused_url(), max_retries=2, circuit=circuit) as llm:
        with pytest.raises(LLMUnavailable) as err:
            ask(llm)
        assert err.value.attempts == 3
        assert circuit.is_open
        for _ in range(5):
            with pytest.raises(CircuitOpen) as fast:
                ask(llm)
            assert fast.value.attempts == 0  # failed before any request was sent


def test_an_open_circuit_sends_nothing_to_the_endpoint(fake_llm):
    circuit = CircuitBreaker(failure_threshold=2, cooldown=30)
    fake_llm.statuses = [500] * 10
    with make_client(fake_llm.base_url, max_retries=1, circuit=circuit) as llm:
        with pytest.raises(LLMUnavailable):
            ask(llm)
        for _ in range(5):
            with pytest.raises(CircuitOpen):
                ask(llm)
    assert fake_llm.hits == 2


def test_the_circuit_lets_one_probe_through_after_the_cooldown(fake_llm):
    circuit = CircuitBreaker(failure_threshold=2, cooldown=0.2)
    fake_llm.statuses = [500, 500]
    with make_client(fake_llm.base_url, max_retries=1, circuit=circuit) as llm:
        with pytest.raises(LLMUnavailable):
            ask(llm)
        assert circuit.is_open
        with pytest.raises(CircuitOpen):
            ask(llm)
        time.sleep(0.25)
        assert ask(llm).attempts == 1  # the probe succeeds and closes the circuit
    assert not circuit.is_open
    assert fake_llm.hits == 3


def test_a_failed_probe_reopens_the_circuit():
    circuit = CircuitBreaker(failure_threshold=1, cooldown=0.1)
    with make_client(refused_url(), max_retries=0, circuit=circuit) as llm:
        with pytest.raises(LLMUnavailable):
            ask(llm)
        time.sleep(0.15)
        with pytest.raises(LLMUnavailable) as probe:
            ask(llm)
        assert not isinstance(probe.value, CircuitOpen)
        with pytest.raises(CircuitOpen):
            ask(llm)


def test_a_body_that_is_not_json_is_retried_then_reported(fake_llm, client):
    fake_llm.mode = "bad_envelope"
    with pytest.raises(LLMBadResponse):
        ask(client)
    assert fake_llm.hits == 3


def test_a_bad_envelope_followed_by_a_good_one_succeeds(fake_llm, client):
    fake_llm.script = ["bad_envelope"]
    assert ask(client).attempts == 2


def test_it_never_shows_the_key():
    llm = make_client("http://127.0.0.1:9/v1")
    assert "sk-test" not in repr(llm)
    assert llm.qualified_model == "openai/gpt-4o-mini"


# -- SSRF --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:8000/v1",
        "http://localhost/v1",
        "http://[::1]/v1",
        "http://[::ffff:169.254.169.254]/v1",
        "http://10.0.0.5/v1",
        "http://192.168.1.10/v1",
        "http://2130706433/v1",  # 127.0.0.1 spelled as one number
        "http://0.0.0.0/v1",
        "ftp://8.8.8.8/v1",
        "http://user:pw@8.8.8.8/v1",
        "not a url",
    ],
)
def test_a_bring_your_own_key_url_to_an_internal_address_is_rejected(url):
    with pytest.raises(UnsafeBaseURL):
        validate_base_url(url, allow_private=False, allowlist=())


def test_a_public_address_is_accepted():
    assert validate_base_url("https://8.8.8.8/v1/", allow_private=False) == "https://8.8.8.8/v1"


def test_the_servers_own_url_is_accepted_when_allow_listed():
    assert validate_base_url("http://127.0.0.1:8000/v1", allowlist=["127.0.0.1"])
    assert validate_base_url("http://llm.internal:8000/v1", allowlist=["llm.internal"])
    assert validate_base_url("http://10.1.2.3/v1", allowlist=["10.0.0.0/8"])
    assert validate_base_url("http://10.1.2.3/v1", allow_private=True)


def test_link_local_stays_rejected_even_when_private_ranges_are_allowed():
    with pytest.raises(UnsafeBaseURL):
        validate_base_url("http://169.254.169.254/", allow_private=True)


def test_https_can_be_required():
    with pytest.raises(UnsafeBaseURL):
        validate_base_url("http://8.8.8.8/v1", require_https=True)


def test_a_call_ends_by_the_requests_deadline_before_its_own(fake_llm):
    """The request's deadline (engine.deadline) is shorter than the client's 2 s: it wins."""
    import time as _time

    from regen.engine import deadline
    from regen.engine.llm.errors import LLMTimeout

    from .conftest import make_client

    fake_llm.mode = "hang"
    with make_client(fake_llm.base_url, read_timeout=5.0) as llm, deadline.within(0.4):
        started = _time.monotonic()
        with pytest.raises(LLMTimeout):
            llm.complete([{"role": "user", "content": "hello"}], temperature=0, max_tokens=5)
        assert _time.monotonic() - started < 1.0


def test_a_call_after_the_requests_deadline_never_reaches_the_model(fake_llm):
    from regen.engine import deadline
    from regen.engine.llm.errors import LLMTimeout

    from .conftest import make_client

    with (
        make_client(fake_llm.base_url) as llm,
        deadline.within(0.0),
        pytest.raises(LLMTimeout, match="was not called"),
    ):
        llm.complete([{"role": "user", "content": "hello"}], temperature=0, max_tokens=5)
    assert fake_llm.hits == 0
