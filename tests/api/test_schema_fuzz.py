"""Fuzz every operation of the served OpenAPI schema (schemathesis, in-process WSGI).

The schema is the one the app serves at ``/api/schema/`` (drf-spectacular), loaded
through the WSGI app itself, so what is fuzzed is exactly what clients are told.
Every operation runs twice: with a funded Business-plan key in the Authorization
header, and with no credentials at all. Positive and negative (schema-violating)
requests are generated. Every answer must be a documented status and never a 5xx.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from django.core import signals  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import negative_data_rejection, positive_data_acceptance  # noqa: E402

from railsite.wsgi import application  # noqa: E402
from tests.factories import AccountFactory, APIKeyFactory, ProjectFactory, default_plan  # noqa: E402

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# 50 examples per operation and mode keep the module near 20 s on two cores; T25's full
# run is FUZZ_EXAMPLES=100 (about 30 s).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
# Every built-in check (not_a_server_error, status_code_conformance, content_type and
# response-schema conformance, negative_data_rejection, ignored_auth,
# missing_required_header, unsupported_method, ...) except one:
# positive_data_acceptance, "every schema-valid request is accepted", cannot hold for
# this contract: rules such as "weights sum to 100 (within 0.01)" or "content has 10
# non-blank characters" have no OpenAPI 3.0 expression, so schema-valid requests that
# break them are rightly answered 400.
#
# negative_data_rejection runs on request bodies (every POST) but not on query strings:
# like most HTTP APIs, the list endpoints ignore unknown query parameters and fall back
# to the default page size for a malformed one. (A filter value outside its enum is a
# 400: tests/api/test_reviews_and_runs.py.)
EXCLUDED = [positive_data_acceptance]


def _excluded(case) -> list:
    if case.operation.method.upper() == "GET":
        return [*EXCLUDED, negative_data_rejection]
    return EXCLUDED


# derandomize: the same examples on every run, so a failure in CI reproduces locally.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Let in-process requests share the test's transaction.

    Django's WSGI handler closes "old" connections when a request starts and ends, and
    inside the test's transaction every connection looks old (autocommit is off), so the
    first request would close it under the test. Django's own test client disconnects
    the same handler for the same reason.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def business_key(db):
    cache.clear()  # eval results and rate-limit counters of earlier runs
    account = AccountFactory(plan=default_plan("business"), credits=100_000)
    return APIKeyFactory(project=ProjectFactory(account=account, name="Fuzz"))


@pytest.fixture
def anonymous(db):
    cache.clear()


@schema.parametrize()
@FUZZ
def test_authenticated(case, business_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {business_key.raw}"}, excluded_checks=_excluded(case)
    )


@schema.parametrize()
@FUZZ
def test_unauthenticated(case, anonymous):
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.call_and_validate(excluded_checks=_excluded(case))
