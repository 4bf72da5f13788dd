"""A real Celery worker (prefork, one child) on real Redis, sharing pytest's PostgreSQL DB.

The worker runs ``celery -A railsite worker`` as a subprocess on a queue of its own, with
``DATABASE_URL`` pointing at the test database pytest-django created, so rows committed
by a ``django_db(transaction=True)`` test are visible to it. The test process sends to
the same broker and queue with eager mode off (``sending_to``).

Skips when Redis or PostgreSQL is not reachable, except with ``CI=true``: there it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from railsite.celery import app as celery_app

REPO = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("RAILSITE_TEST_BROKER_URL", "redis://127.0.0.1:6379/7")
VISIBILITY_TIMEOUT = 5
"""Seconds before Redis hands an unacknowledged message (its worker died) to another."""
TASK_DELAY = 0.4
"""Seconds the worker pauses after each progress iteration (RAILSITE_TEST_TASK_DELAY)."""
RUN_LEASE_SECONDS = 2
"""The workers' run lease (RUN_LEASE_SECONDS): renewed at every stored iteration."""
POLL = 0.05


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    worker: Any = None,
    every: float = POLL,
) -> Any:
    """Poll until ``predicate()`` is truthy and return it; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            log = f"\n--- worker log ---\n{worker.log_tail()}" if worker else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what}{log}")
        time.sleep(every)


def _unavailable() -> str | None:
    """Say why the real services are unusable, or None when both answer."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return "needs PostgreSQL shared with a worker process (set DATABASE_URL=postgres://...)"
    try:
        import psycopg

        psycopg.connect(
            host=db.get("HOST") or "localhost",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as error:
        return f"PostgreSQL is not reachable: {error}"
    try:
        import redis

        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        return f"Redis is not reachable at {BROKER_URL}: {error}"
    return None


@pytest.fixture(scope="session", autouse=True)
def _real_services() -> None:
    """Skip without Redis or PostgreSQL; under CI=true fail instead, loudly."""
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the Celery worker tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def broker() -> Any:
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    yield client
    client.close()


def _database_url() -> str:
    db = settings.DATABASES["default"]  # after django_db_setup: the test database
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"


class Worker:
    """One ``celery worker`` process (and its pool child), startable again after a crash."""

    def __init__(self, *, queue: str, env: dict[str, str], log: Path) -> None:
        self.queue, self.env, self.log = queue, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.name = f"railsite-test-{queue}@%h"

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the worker is running"
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "railsite",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "-Q",
                    self.queue,
                    "-n",
                    self.name,
                    "--loglevel=INFO",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop it with its children
            )
        wait_for(
            lambda: self._ready(offset), timeout=30, what="the worker to be ready", worker=self
        )

    def _ready(self, offset: int) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"the worker exited with {self.proc.returncode}:\n{self.log_tail()}")
        with self.log.open("rb") as f:
            f.seek(offset)
            return b" ready." in f.read()

    def child_pid(self) -> int:
        """Return the pid of the live pool process that runs tasks."""
        assert self.proc is not None
        found = wait_for(
            lambda: _live_children(self.proc.pid), timeout=10, what="a pool child", worker=self
        )
        assert len(found) == 1, f"expected one pool child, found {found}"
        return found[0]

    def kill_child(self) -> int:
        """SIGKILL the pool child: the parent sees WorkerLostError and lives on."""
        pid = self.child_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def crash(self) -> None:
        """SIGKILL the whole worker, parent and child, as a machine crash would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown; SIGKILL what is left of the process group after 15 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _live_children(pid: int) -> list[int]:
    """Return the pids of the live (not zombie) children of ``pid``, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                children.append(int(stat.parent.name))
    return children


@pytest.fixture(scope="module")
def queue() -> str:
    return f"railsite-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def worker(_real_services, django_db_setup, queue, broker, tmp_path_factory) -> Iterator[Worker]:
    """A real worker on ``queue``, using the test database; stopped (with children) after."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "railsite.settings",
        "DATABASE_URL": _database_url(),
        "CONN_MAX_AGE": "0",  # no idle connection may outlive the module (DROP DATABASE)
        "CACHE_URL": os.environ.get("CACHE_URL", "locmemcache://railsite"),
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "RAILSITE_TEST_TASK_DELAY": str(TASK_DELAY),
        # a lease a few iterations long: a crashed executor's run is taken over in seconds
        "RUN_LEASE_SECONDS": str(RUN_LEASE_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    process = Worker(queue=queue, env=env, log=log)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        forget_queue(broker, queue)


@contextlib.contextmanager
def sending_to(queue: str) -> Iterator[None]:
    """Make this process publish to the real broker's ``queue`` instead of running eagerly."""
    names = ("task_always_eager", "broker_url", "task_default_queue", "broker_transport_options")
    saved = {name: celery_app.conf[name] for name in names}
    celery_app.conf.update(
        task_always_eager=False,
        broker_url=BROKER_URL,
        task_default_queue=queue,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    )
    _forget_connections()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    """Drop the app's cached broker pools and routing so the new settings take effect."""
    celery_app._pool = None  # kombu keeps one pool per URL; closing it would break reuse
    amqp = celery_app.amqp
    amqp._producer_pool = None
    for cached in ("queues", "default_queue", "default_exchange", "router", "_event_dispatcher"):
        amqp.__dict__.pop(cached, None)


@pytest.fixture
def send_to_worker(worker: Worker, queue: str) -> Iterator[Worker]:
    """Publish this test's tasks to the running worker."""
    with sending_to(queue):
        yield worker


def forget_queue(broker: Any, queue: str) -> None:
    """Delete the queue, its unacked messages and kombu's binding keys, so none pile up."""
    for tag in _unacked_tags(broker, queue):  # else a later worker would restore them
        broker.hdel("unacked", tag)
        broker.zrem("unacked_index", tag)
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def _unacked_tags(broker: Any, queue: str) -> list[bytes]:
    return [tag for tag, raw in broker.hgetall("unacked").items() if json.loads(raw)[2] == queue]


def pending_messages(broker: Any, queue: str) -> int:
    """Count the queue's messages: waiting in its list, or delivered and not yet acked."""
    return broker.llen(queue) + len(_unacked_tags(broker, queue))


def unacked_age(broker: Any, queue: str) -> float | None:
    """Seconds since the queue's oldest unacknowledged message was delivered, if any."""
    scores = [broker.zscore("unacked_index", tag) for tag in _unacked_tags(broker, queue)]
    delivered = [score for score in scores if score is not None]
    return time.time() - min(delivered) if delivered else None
