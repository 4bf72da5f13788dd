"""Find the real services the test suite should use, and say which.

Prints shell ``export`` lines for DATABASE_URL and CACHE_URL. PostgreSQL is used when
it answers at TEST_DATABASE_URL (default 127.0.0.1:5432, user postgres) and Redis for
the cache when it answers at TEST_CACHE_URL (default 127.0.0.1:6379); with CI=true both
are required and a missing one exits 1 with a message saying which.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/railsite")
REDIS_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/1")
RATE_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def _pg_ok() -> bool:
    """Say whether PostgreSQL answers; create the database of PG_URL if it is missing."""
    try:
        import psycopg
    except ImportError:
        return False
    url = urlsplit(PG_URL)
    name = url.path.lstrip("/")
    try:
        with psycopg.connect(
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
            return True
    except Exception:
        return False


def _redis_ok() -> bool:
    url = urlsplit(REDIS_URL)
    try:
        with socket.create_connection(
            (url.hostname or "127.0.0.1", url.port or 6379), timeout=2
        ) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def main() -> int:
    ci = os.environ.get("CI", "").lower() == "true"
    if _pg_ok():
        print(f"export DATABASE_URL={PG_URL}")
        print(f"tests: database PostgreSQL at {_where(PG_URL)}", file=sys.stderr)
    elif ci:
        print(
            f"tests: CI=true but PostgreSQL is not reachable at {_where(PG_URL)}; "
            "start it (bash scripts/start-services.sh) or set TEST_DATABASE_URL",
            file=sys.stderr,
        )
        return 1
    else:
        print("unset DATABASE_URL")
        print("tests: database SQLite (PostgreSQL not reachable)", file=sys.stderr)
    if _redis_ok():
        print(f"export CACHE_URL={REDIS_URL}")
        print(f"export TEST_REDIS_URL={RATE_REDIS_URL}")
        print(f"tests: cache Redis at {_where(REDIS_URL)}", file=sys.stderr)
    elif ci:
        print(
            f"tests: CI=true but Redis is not reachable at {_where(REDIS_URL)}; "
            "start it (bash scripts/start-services.sh) or set TEST_CACHE_URL",
            file=sys.stderr,
        )
        return 1
    else:
        print("unset CACHE_URL")
        print("tests: cache local memory (Redis not reachable)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
