"""A dependency that is down costs a request little and never leaves money behind
(issue 11, defect 4): the cache is skipped, rate limits count in the database, a refused
job is failed and its hold released with a 503, the database's failure is a 503 (JSON for
the API, a styled page for people)."""

import time

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

from billing import ledger
from billing.models import Hold, RateCounter
from regen.models import Run

from .texts import FACTUAL, HIRING

REFUSED_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@override_settings(CACHES=REFUSED_REDIS)
def test_with_redis_down_an_eval_is_answered_uncached_and_rate_limits_count_in_the_database(
    api_a, account_a
):
    started = time.monotonic()
    first = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
    again = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
    elapsed = time.monotonic() - started
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["result"]["from_cache"] is False  # no cache: evaluated and charged
    assert again.json()["credits_consumed"] == 1.0
    assert RateCounter.objects.filter(name__startswith="rl:").exists()
    assert first["X-RateLimit-Remaining"] != again["X-RateLimit-Remaining"]
    assert elapsed < 3.0  # a few half-second timeouts at most, never the OS's minutes


@pytest.mark.django_db(transaction=True)
def test_a_job_the_broker_refuses_is_failed_released_and_answered_503(
    api_a, account_a, monkeypatch, settings
):
    from kombu.exceptions import OperationalError as BrokerDown

    from regen.tasks import execute_run_task

    def refuse(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(execute_run_task, "delay", refuse)
    before = ledger.available_of(account_a)
    response = api_a.post(
        "/railscore/v1/safe-regenerate", {"content": HIRING, "async": True}, format="json"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"] == "5"
    run = Run.objects.get()
    assert run.status == "failed"
    assert "queue" in run.error
    assert Hold.objects.get().state == "released"
    assert ledger.available_of(account_a) == before


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def test_with_the_database_down_the_api_answers_503_in_its_shape(api_a):
    with connection.execute_wrapper(_database_down):
        response = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


def test_with_the_database_down_a_page_answers_a_styled_503(client, alice):
    client.force_login(alice)
    with connection.execute_wrapper(_database_down):
        response = client.get("/runs/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "Temporarily unavailable" in page
    assert "css/app.css" in page
    assert response["Retry-After"] == "5"


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, on a free port, that the test may freeze."""
    import shutil
    import signal
    import socket
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield process, port
    process.send_signal(signal.SIGCONT)
    process.kill()
    process.wait(timeout=10)


def test_a_frozen_redis_costs_an_eval_about_a_second_not_a_hang(api_a, own_redis):
    """TESTS.md T34: SIGSTOP the Redis the cache and the rate limits use."""
    import signal

    process, port = own_redis
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches):
        warm = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
        assert warm.status_code == 200
        process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            frozen = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
            elapsed = time.monotonic() - started
        finally:
            process.send_signal(signal.SIGCONT)
        thawed = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
    assert frozen.status_code == 200
    assert frozen.json()["result"]["from_cache"] is False  # the cache could not answer
    assert elapsed < 2.5
    assert thawed.json()["result"]["from_cache"] is True  # back in service


# A TCP relay to PostgreSQL in its own process: stopping it (SIGSTOP) freezes the database
# as a client sees it, with the connection open and nothing ever answered.
RELAY = """
import socket, sys, threading
upstream = (sys.argv[1], int(sys.argv[2]))
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)

def pump(source, sink):
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        source.close()
        sink.close()

while True:
    client, _ = listener.accept()
    server = socket.create_connection(upstream)
    threading.Thread(target=pump, args=(client, server), daemon=True).start()
    threading.Thread(target=pump, args=(server, client), daemon=True).start()
"""


@pytest.fixture
def frozen_database_connection(db, settings):
    """A second connection to the test database through a relay the test can freeze."""
    import signal
    import subprocess
    import sys

    from django.db import connections

    params = connection.settings_dict
    relay = subprocess.Popen(
        [sys.executable, "-c", RELAY, params["HOST"] or "127.0.0.1", str(params["PORT"] or 5432)],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(relay.stdout.readline())
    settings.DATABASE_ANSWER_TIMEOUT = 1.0
    backend = connections.create_connection("default").__class__
    options = {**params["OPTIONS"], "connect_timeout": 10}  # a busy machine's relay is slow
    relayed = backend(
        {**params, "PORT": port, "CONN_MAX_AGE": 0, "OPTIONS": options}, alias="relayed"
    )
    try:
        yield relayed, relay
    finally:
        relay.send_signal(signal.SIGCONT)
        relay.kill()
        relay.wait(timeout=10)
        relayed.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's guard")
def test_a_frozen_database_costs_a_statement_about_a_second_then_an_error(
    frozen_database_connection,
):
    """Issue 11, defect 4: PostgreSQL frozen mid-connection hung 30 s, then an HTML 500."""
    import signal

    relayed, relay = frozen_database_connection
    with relayed.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    relay.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    with (
        pytest.raises(OperationalError, match="did not answer within 1 s"),
        relayed.cursor() as cursor,
    ):
        cursor.execute("SELECT 1")
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 2.0
    relay.send_signal(signal.SIGCONT)
    # the guard closed the connection mid-statement: Django sees it unusable and the next
    # request opens a new one (CONN_HEALTH_CHECKS)
    assert relayed.connection.closed
    assert not relayed.is_usable()


def test_a_database_error_in_an_api_call_is_a_503_with_retry_after(api_a, monkeypatch):
    """What a frozen database's OperationalError becomes for the caller."""
    from billing import keys

    def frozen(prefix):
        raise OperationalError("The database did not answer within 1 s; the connection was closed.")

    monkeypatch.setattr(keys, "_fetch", frozen)
    response = api_a.post("/railscore/v1/eval", {"content": FACTUAL}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"]
