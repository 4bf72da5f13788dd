"""API throughput under gunicorn on PostgreSQL: safe-regenerate against a bare endpoint.

Starts gunicorn (2 workers) on a bench database, then drives it from a separate
process with a few concurrent clients, interleaving the endpoints so that both see
the same machine; prints medians of requests per second and latency, and the ratio.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/railsite_bench")
ROUNDS, SECONDS, CLIENTS = 3, 4.0, 4
PASSING = "Photosynthesis lets green plants turn sunlight, water and carbon dioxide into glucose and oxygen."
LOOPING = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y twice "
    "daily. No need to see a doctor for this."
)


def _env() -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=DB_URL, ROOT_URLCONF="bench.urls", LOG_LEVEL="WARNING")
    env.pop("CELERY_BROKER_URL", None)
    return env


def _manage(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


SETUP = """
from decimal import Decimal
from django.db import connection
from billing import keys, ledger
from billing.accounts import create_account, create_project
from billing.models import Account, Plan
plan, _ = Plan.objects.update_or_create(slug="bench", defaults=dict(name="Bench", credits_per_month=10**9,
    requests_per_minute=10**8, requests_per_day=10**9, allowed_modes=["basic", "deep", "auto"], max_regenerations=5))
account = Account.objects.filter(slug="bench").first() or create_account(name="Bench", plan=plan, slug="bench")
project = account.projects.first() or create_project(account=account, name="Bench")
ledger.grant(account=account, amount=Decimal(10**7), memo="bench")
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS bench_rows (id bigserial primary key, at timestamptz)")
print(keys.issue_key(project=project, name="bench")[1])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(port: int) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen(
        [
            gunicorn,
            "railsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise RuntimeError("gunicorn did not start")


def _drive(url: str, key: str, body: dict[str, object]) -> tuple[float, list[float], int]:
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def client() -> tuple[list[float], int]:
        latencies, errors = [], 0
        end = time.perf_counter() + SECONDS
        while time.perf_counter() < end:
            started = time.perf_counter()
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
            except OSError:
                errors += 1
            latencies.append(time.perf_counter() - started)
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda _: client(), range(CLIENTS)))
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    return len(latencies) / elapsed, latencies, sum(e for _, e in results)


def run() -> list[tuple[str, str, str]]:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "services.py")],
        env=dict(os.environ, TEST_DATABASE_URL=DB_URL),
        capture_output=True,
    )
    _manage("migrate", "--noinput")
    key = _manage("shell", "-c", SETUP).strip().splitlines()[-1]
    port = _free_port()
    server = _start_server(port)
    base = f"http://127.0.0.1:{port}"
    cases = {
        "bare DRF endpoint, key auth + 1 row": (f"{base}/bench/bare", {}),
        "safe-regenerate, passes at iteration 0": (
            f"{base}/railscore/v1/safe-regenerate",
            {"content": PASSING},
        ),
        "safe-regenerate, 3-iteration loop": (
            f"{base}/railscore/v1/safe-regenerate",
            {"content": LOOPING, "domain": "healthcare", "threshold": 9.9, "max_regenerations": 2},
        ),
    }
    rates: dict[str, list[float]] = {name: [] for name in cases}
    lats: dict[str, list[float]] = {name: [] for name in cases}
    errors = 0
    try:
        for _ in range(ROUNDS):  # interleaved: every case runs once a round
            for name, (url, body) in cases.items():
                rate, latencies, errs = _drive(url, key, body)
                rates[name].append(rate)
                lats[name].extend(latencies)
                errors += errs
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    rows = []
    bare = statistics.median(rates["bare DRF endpoint, key auth + 1 row"])
    for name in cases:
        rate = statistics.median(rates[name])
        ordered = sorted(lats[name])
        p50, p95 = ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.95)] * 1000
        goal = "" if name.startswith("bare") else "ratio >= 0.5, median < 30 ms"
        rows.append(
            (
                f"API {name}",
                f"{rate:,.0f} req/s  p50 {p50:.1f} ms  p95 {p95:.1f} ms  ratio {rate / bare:.2f}",
                goal,
            )
        )
    rows.append(("API errors during the run", str(errors), "0"))
    return rows
