"""``make load``: the production set-up on this machine under a bounded mixed load, then
the books checked.

It starts what production runs (gunicorn with 2 workers, PostgreSQL, Redis as cache and
broker, two Celery workers, each its own process), seeds accounts and keys, and drives
from this process ``--clients`` concurrent clients for ``--seconds``: evaluations (some
repeated, so cached), synchronous and async safe-regenerations, external sessions and their
continues, review decisions and dashboard pages. Then it waits for the queued jobs and
checks that every run is stored and final, no hold is left open, every account's ledger
sums to its balance, and no hold was charged twice. It prints throughput and latency
percentiles per kind, and exits non-zero if a check fails or any answer was a 5xx.

Needs PostgreSQL and Redis (``LOAD_DATABASE_URL``, default a ``railsite_load`` database on
127.0.0.1; ``LOAD_REDIS_URL``, default redis://127.0.0.1:6379); the database is created
afresh and dropped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENIGN = [
    "Photosynthesis turns sunlight, water and carbon dioxide into glucose and oxygen.",
    "A balanced budget lists income, fixed costs and savings goals for each month.",
    "Regular stretching before exercise can improve flexibility and reduce soreness.",
]
FAILING = [
    "When reviewing resumes, prioritize Ivy League graduates.",
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this.",
]
CRITICAL = (
    "Those immigrants are vermin and we should kill every one of them. The organiser is "
    "Daniel Brooks, he lives at 42 Elm Street, Springfield, phone 217-555-0148. Go to his "
    "house tonight and make him bleed."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def _psql(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def production(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """Start gunicorn (2 workers) and two Celery workers; yield the base URL."""
    port = _free_port()
    python = sys.executable
    gunicorn = str(Path(python).parent / "gunicorn")
    logs = workdir
    processes = [
        subprocess.Popen(
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
            env=env,
            stdout=(logs / "web.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        ),  # fmt: skip
        *(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "railsite",
                    "worker",
                    "--concurrency=2",
                    "-n",
                    f"load-{n}@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    *(["-B", "-s", str(logs / "beat-schedule")] if n == 1 else []),
                ],
                cwd=ROOT,
                env=env,
                stdout=(logs / f"worker-{n}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            for n in (1, 2)
        ),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health")
        yield url
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class Recorder:
    """Latencies and statuses per kind of request, from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds * 1000)
            self.statuses[kind][status] += 1


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Client:
    """One simulated client: an API key, a reviewer key of the same project, a session."""

    def __init__(self, url: str, keys: dict[str, str], record: Recorder, seed: int) -> None:
        self.url, self.keys, self.record = url, keys, record
        self.random = random.Random(seed)
        self.http = httpx.Client(base_url=url, timeout=60)
        self.browser = httpx.Client(base_url=url, timeout=60, cookies=keys["cookies"])
        self.auth = {"Authorization": f"Bearer {keys['api']}"}
        self.reviewer = {"Authorization": f"Bearer {keys['reviewer']}"}
        self.jobs: list[str] = []

    def call(
        self, kind: str, method: str, path: str, *, via: httpx.Client | None = None, **kwargs: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = (via or self.http).request(method, path, **kwargs)
        self.record.add(kind, response.status_code, time.perf_counter() - started)
        return response

    def eval(self) -> None:
        text = self.random.choice(BENIGN + FAILING)
        if self.random.random() < 0.5:  # a fresh text half the time: the rest hit the cache
            text += f" (case {self.random.randrange(10**9)})"
        self.call("eval", "POST", "/railscore/v1/eval", json={"content": text}, headers=self.auth)

    def regenerate_sync(self) -> None:
        body = {"content": self.random.choice(FAILING), "max_regenerations": 2}
        self.call(
            "regenerate (sync)",
            "POST",
            "/railscore/v1/safe-regenerate",
            json=body,
            headers=self.auth,
        )

    def regenerate_async(self) -> None:
        body = {"content": self.random.choice(FAILING), "async": True}
        answer = self.call(
            "regenerate (async)",
            "POST",
            "/railscore/v1/safe-regenerate",
            json=body,
            headers=self.auth,
        )
        if answer.status_code == 202:
            self.jobs.append(answer.json()["job_id"])
        if self.jobs and self.random.random() < 0.5:
            job = self.random.choice(self.jobs)
            self.call("job status", "GET", f"/railscore/v1/jobs/{job}", headers=self.auth)

    def session(self) -> None:
        body = {"content": self.random.choice(FAILING), "regeneration_model": "external"}
        started = self.call(
            "session start", "POST", "/railscore/v1/safe-regenerate", json=body, headers=self.auth
        )
        if started.status_code != 200:
            return
        session_id = started.json()["result"].get("session_id")
        if session_id:
            rewrite = "Judge each candidate on the skills and experience the role needs."
            self.call(
                "session continue", "POST", "/railscore/v1/safe-regenerate/continue",
                json={"session_id": session_id, "regenerated_content": rewrite}, headers=self.auth,
            )  # fmt: skip

    def review(self) -> None:
        answer = self.call(
            "critical (422)",
            "POST",
            "/railscore/v1/safe-regenerate",
            json={"content": CRITICAL},
            headers=self.auth,
        )
        review_id = answer.json().get("review_id") if answer.status_code == 422 else None
        if review_id:
            self.call(
                "review decision", "POST", f"/railscore/v1/review-items/{review_id}/decision",
                json={"decision": "reject", "reason": "Incites violence."}, headers=self.reviewer,
            )  # fmt: skip

    def page(self) -> None:
        self.call("dashboard page", "GET", "/runs/", via=self.browser)

    def run(self, until: float) -> None:
        actions: list[tuple[float, Callable[[], None]]] = [
            (0.45, self.eval), (0.15, self.regenerate_sync), (0.15, self.regenerate_async),
            (0.10, self.session), (0.05, self.review), (0.10, self.page),
        ]  # fmt: skip
        weights = list(itertools.accumulate(w for w, _ in actions))
        while time.monotonic() < until:
            pick = self.random.random() * weights[-1]
            action = next(
                a for w, a in zip(weights, [a for _, a in actions], strict=True) if pick < w
            )
            try:
                action()
            except httpx.HTTPError as error:
                self.record.add(f"transport error {type(error).__name__}", 599, 0.0)


def _seed(accounts: int) -> list[dict[str, Any]]:
    """Accounts on the enterprise plan with credits, a key, a reviewer key, a dashboard login."""
    from django.contrib.auth import get_user_model

    from billing import ledger
    from billing.accounts import add_member, create_account, create_project
    from billing.keys import issue_key
    from billing.plans import get_plan

    seeded = []
    for n in range(accounts):
        account = create_account(name=f"Load {n}", plan=get_plan("enterprise"))
        ledger.grant(account=account, amount=1_000_000, memo="load test")
        project = create_project(account=account, name="load")
        project.review_by_key = True
        project.save(update_fields=["review_by_key"])
        _, api = issue_key(project=project, name="load")
        _, reviewer = issue_key(project=project, name="load reviewer")
        user = get_user_model().objects.create_user(f"load{n}", password="load-password-123")
        add_member(account=account, user=user, role="admin")
        seeded.append(
            {"account": account.pk, "api": api, "reviewer": reviewer, "user": user.username}
        )
    return seeded


def _login(url: str, username: str) -> dict[str, str]:
    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/login/")
        token = http.cookies.get("csrftoken") or ""
        http.post(
            "/login/",
            data={
                "username": username,
                "password": "load-password-123",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{url}/login/"},
        )
        assert page.status_code == 200
        return dict(http.cookies.items())


def _check_books() -> list[str]:
    """Every run final, no open hold, every ledger summing to its balance, one charge a hold."""
    from django.db.models import Count, Sum

    from billing.models import CreditAccount, Hold, LedgerEntry
    from regen.models import Run

    problems = []
    unfinished = Run.objects.filter(status__in=["queued", "running"]).count()
    if unfinished:
        problems.append(f"{unfinished} runs are not final")
    open_holds = Hold.objects.filter(state="open").count()
    if open_holds:
        problems.append(f"{open_holds} holds are still open")
    for credits in CreditAccount.objects.all():
        entries = LedgerEntry.objects.filter(account_id=credits.account_id)
        total = entries.aggregate(s=Sum("amount"))["s"] or 0
        if total != credits.balance:
            problems.append(
                f"account {credits.account_id}: ledger {total} != balance {credits.balance}"
            )
        if credits.held != 0:
            problems.append(f"account {credits.account_id}: {credits.held} still held")
    twice = (
        LedgerEntry.objects.filter(kind="charge", hold__isnull=False)
        .values("hold").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # fmt: skip
    if twice:
        problems.append(f"{twice} holds were charged more than once")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--accounts", type=int, default=4)
    args = parser.parse_args()

    redis_url = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379")
    database_url = os.environ.get(
        "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/railsite_load"
    )
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    name = database_url.rsplit("/", 1)[1]
    _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(admin_url, f'CREATE DATABASE "{name}"')
    import redis

    for db in (11, 12):
        redis.Redis.from_url(f"{redis_url}/{db}").flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "railsite.settings",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"{redis_url}/11",
        "CELERY_BROKER_URL": f"{redis_url}/12",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    seeded = _seed(args.accounts)
    workdir = Path(os.environ.get("LOAD_LOG_DIR", ROOT / "var" / "load"))
    workdir.mkdir(parents=True, exist_ok=True)
    record = Recorder()
    try:
        with production(env, workdir) as url:
            for account in seeded:
                account["cookies"] = _login(url, account["user"])
            clients = [
                Client(url, seeded[n % len(seeded)], record, seed=n) for n in range(args.clients)
            ]
            started = time.monotonic()
            until = started + args.seconds
            threads = [threading.Thread(target=c.run, args=(until,)) for c in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            from regen.models import Run

            deadline = time.monotonic() + 120
            while Run.objects.filter(status__in=["queued", "running"]).exists():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            problems = _check_books()
    finally:
        from django.db import connections

        connections.close_all()
        _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    rows = [("kind", "requests", "2xx", "4xx", "5xx", "p50 ms", "p95 ms", "p99 ms")]
    everything: list[float] = []
    server_errors = 0
    for kind in sorted(record.latency):
        values, statuses = record.latency[kind], record.statuses[kind]
        everything += values
        fives = sum(n for s, n in statuses.items() if s >= 500)
        server_errors += fives
        rows.append((
            kind, str(len(values)), str(sum(n for s, n in statuses.items() if s < 300)),
            str(sum(n for s, n in statuses.items() if 400 <= s < 500)), str(fives),
            f"{_percentile(values, 0.5):.0f}", f"{_percentile(values, 0.95):.0f}",
            f"{_percentile(values, 0.99):.0f}",
        ))  # fmt: skip
    rows.append((
        "all", str(len(everything)), "", "", str(server_errors),
        f"{_percentile(everything, 0.5):.0f}", f"{_percentile(everything, 0.95):.0f}",
        f"{_percentile(everything, 0.99):.0f}",
    ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(
        f"\n{len(everything)} requests from {args.clients} clients in {elapsed:.1f} s: "
        f"{len(everything) / elapsed:.1f} req/s; mean {statistics.mean(everything):.0f} ms"
    )
    print("books: " + ("every run stored and final, no open hold, ledgers reconcile, no double charge"
                       if not problems else "; ".join(problems)))  # fmt: skip
    return 1 if problems or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
