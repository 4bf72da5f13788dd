"""Find the real services the test suite should use, and say which.

Prints shell ``export`` lines for DATABASE_URL and CACHE_URL. PostgreSQL is used when
it answers on 127.0.0.1:5432 (user postgres); with CI=true it is required. Redis is
used for the cache when it answers on 127.0.0.1:6379.
"""

from __future__ import annotations

import os
import socket
import sys

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/railsite")
REDIS_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/1")


def _pg_ok() -> bool:
    """Say whether PostgreSQL answers; create the database of PG_URL if it is missing."""
    try:
        import psycopg
    except ImportError:
        return False
    name = PG_URL.rsplit("/", 1)[-1]
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
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
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main() -> int:
    ci = os.environ.get("CI", "").lower() == "true"
    if _pg_ok():
        print(f"export DATABASE_URL={PG_URL}")
        print("tests: database PostgreSQL at 127.0.0.1:5432", file=sys.stderr)
    elif ci:
        print("tests: CI=true but PostgreSQL is not reachable at 127.0.0.1:5432", file=sys.stderr)
        return 1
    else:
        print("unset DATABASE_URL")
        print("tests: database SQLite (PostgreSQL not reachable)", file=sys.stderr)
    if _redis_ok():
        print(f"export CACHE_URL={REDIS_URL}")
        print("export TEST_REDIS_URL=redis://127.0.0.1:6379/2")
        print("tests: cache Redis at 127.0.0.1:6379", file=sys.stderr)
    elif ci:
        print("tests: CI=true but Redis is not reachable at 127.0.0.1:6379", file=sys.stderr)
        return 1
    else:
        print("unset CACHE_URL")
        print("tests: cache local memory (Redis not reachable)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
