"""The embedded default under 2 gunicorn workers keeps its promises (issue 10).

``make run`` serves with 2 workers on SQLite and no Redis. Rate limits, the eval cache
and idempotency must hold across the workers: exactly the plan's limit passes in a
minute, and a second identical eval is answered from the cache, free. The server runs
as ``make run`` runs it (migrate, createcachetable, gunicorn), in its own directory.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
from billing import keys, ledger
from billing.accounts import create_account, create_project
from billing.models import Plan
plan = Plan.objects.get(slug="free")
account = create_account(name="Two workers", plan=plan)
project = create_project(account=account, name="Main")
ledger.grant(account=account, amount=100, memo="two workers")
issued = [keys.issue_key(project=project, name=f"two workers {n}")[1] for n in range(2)]
print("SETUP", plan.requests_per_minute, *issued)
"""
FACTUAL = (
    "Photosynthesis is the process by which green plants use sunlight, water and carbon "
    "dioxide to make glucose and release oxygen."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with 2 workers on a fresh SQLite database and the default cache."""
    home = tmp_path_factory.mktemp("two-workers")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CACHE_URL", "CELERY_"))
    }
    env.update(DATABASE_URL=f"sqlite:///{home / 'db.sqlite3'}", LOG_LEVEL="WARNING")
    env.pop("RAIL_EVALUATOR", None)

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout

    manage("migrate", "--noinput")
    manage("createcachetable")
    printed = manage("shell", "-c", SETUP).splitlines()
    limit, eval_key, limit_key = next(line for line in printed if line.startswith("SETUP")).split()[
        1:
    ]
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "railsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            if time.time() > deadline:
                os.killpg(process.pid, signal.SIGTERM)
                raise
            time.sleep(0.2)
    yield url, {"eval": eval_key, "limit": limit_key}, int(limit)
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)


def _call(url: str, key: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_an_identical_eval_is_answered_from_the_cache_by_either_worker(server):
    url, keys, _ = server
    first = _call(url, keys["eval"], "/railscore/v1/eval", {"content": FACTUAL})
    # 8 at once: each sync worker takes one request at a time, so both answer some
    with ThreadPoolExecutor(max_workers=8) as pool:
        again = list(
            pool.map(
                lambda _: _call(url, keys["eval"], "/railscore/v1/eval", {"content": FACTUAL}),
                range(8),
            )
        )

    assert first[0] == 200
    assert first[1]["result"]["from_cache"] is False
    assert [status for status, _ in again] == [200] * 8
    assert all(body["result"]["from_cache"] for _, body in again)
    assert sum(body["credits_consumed"] for _, body in again) == 0


def test_exactly_the_plans_limit_passes_in_a_minute_across_both_workers(server):
    url, keys, limit = server
    if time.time() % 60 > 50:  # keep the burst inside one minute window
        time.sleep(61 - time.time() % 60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: _call(url, keys["limit"], "/railscore/v1/config")[0], range(2 * limit)
            )
        )

    assert statuses.count(200) == limit
    assert statuses.count(429) == limit


def _chunked(url: str, key: str, path: str, chunks: list[bytes]) -> tuple[int, dict, dict]:
    """POST ``chunks`` with Transfer-Encoding: chunked (no Content-Length), as http.client does."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=iter(chunks), encode_chunked=True,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                     "Transfer-Encoding": "chunked"},
        )  # fmt: skip
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}"), dict(response.getheaders())
    finally:
        connection.close()


def test_a_chunked_body_is_read_not_taken_as_empty(server):
    url, keys, _ = server
    body = json.dumps({"content": "A chunked request about tide tables and the moon's pull."})
    half = len(body) // 2
    status, answer, headers = _chunked(
        url, keys["eval"], "/railscore/v1/eval", [body[:half].encode(), body[half:].encode()]
    )
    assert status == 200, answer
    assert answer["result"]["rail_score"]["score"] > 0
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_a_chunked_body_over_the_limit_is_a_413_in_the_contract_shape(server):
    url, keys, _ = server
    big = b'{"content": "' + b"a" * (262_144 + 1_000) + b'"}'  # the default limit + 1 kB
    status, answer, _ = _chunked(url, keys["eval"], "/railscore/v1/eval", [big])
    assert status == 413
    assert answer["code"] == "PAYLOAD_TOO_LARGE"


def _raw(url: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``payload`` as is over a socket; return the status, headers and body."""
    from urllib.parse import urlsplit

    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ],
    ids=["bad-request-line", "header-too-large", "uri-too-long"],
)
def test_gunicorns_own_errors_are_json_in_the_contract_shape(server, payload, status):
    url, _, _ = server
    answered, headers, body = _raw(url, payload)
    assert answered == status
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert set(data) == {"error", "code"}
    assert data["error"]
