"""Django's PostgreSQL backend, with a limit on how long it waits for the server.

A database that is down refuses connections, which ``connect_timeout`` bounds. One that
is frozen (stopped, swapping, a network path that drops packets silently) keeps an open
connection waiting for an answer that never comes: the request hangs until the web
server kills its worker. Here every wait for the server (a statement, a commit) gives up
after ``DATABASE_ANSWER_TIMEOUT`` seconds: the connection is closed and the request gets
Django's ``OperationalError``, which the API and the pages answer with a 503.

The limit must exceed the longest statement the server is allowed to run, so it follows
``DATABASE_STATEMENT_TIMEOUT`` (the server cancels a slow statement itself, with an
error, before the client gives up on it); without a statement timeout it is off.
"""

from __future__ import annotations

import types
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base


class GuardedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server end after ``answer_timeout`` s."""

    answer_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = timeout if timeout is not None else self.answer_timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except psycopg.errors._WaitTimeout as error:  # psycopg's own, internal name
            self.close()  # mid-statement: nothing more can be read from this connection
            raise psycopg.OperationalError(
                f"The database did not answer within {limit:g} s; the connection was closed."
            ) from error


class _Psycopg(types.ModuleType):
    """psycopg, as the backend sees it, except that it connects with GuardedConnection."""

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)

    @staticmethod
    def connect(*args: Any, **kwargs: Any) -> GuardedConnection:
        connection = GuardedConnection.connect(*args, **kwargs)
        connection.answer_timeout = getattr(settings, "DATABASE_ANSWER_TIMEOUT", None)
        return connection


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Psycopg("psycopg")
