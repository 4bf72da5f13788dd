"""gunicorn's settings that must agree with the app's (gunicorn reads this file from the
working directory; the Makefile and tests start it from the repository root).

The worker timeout is ``RAIL_REQUEST_TIMEOUT``, the one setting the app derives its own
deadlines from (``railsite/settings.py``): work for a request ends a few seconds inside it,
and an idempotency key outlives it only as a lease.
"""

import os
from pathlib import Path

import environ

environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)
env = environ.Env()

timeout = env.int("RAIL_REQUEST_TIMEOUT", default=30)
graceful_timeout = timeout

# A web request's statements are cancelled by the server after 5 s, and a database that
# stops answering costs a request a second more, then a 503 (railsite/postgresql/base.py);
# Celery workers and management commands keep no limit unless their environment sets one.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "5")

# gunicorn's own error answers (a malformed request line, headers too large) in the API's
# JSON shape rather than HTML
from railsite.gunicorn_errors import install as _json_errors  # noqa: E402

_json_errors()
