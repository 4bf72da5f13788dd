"""Fixtures for the dashboard pages: logged-in clients and stored runs."""

from __future__ import annotations

import pytest

from regen import runs, service
from tests.factories import ProjectFactory

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
XSS = (
    '<script>alert(1)</script> and "><img src=x onerror=alert(1)> in a reply about your care plan.'
)


@pytest.fixture
def project_a(account_a):
    return ProjectFactory(account=account_a, name="Patient portal")


@pytest.fixture
def login(client):
    def go(user):
        client.force_login(user)
        return client

    return go


@pytest.fixture
def make_run(account_a, project_a, alice):
    """Run the real loop synchronously for account A and return the stored run."""

    def make(content: str = HEALTHCARE, **fields):
        caller = runs.Caller(account=account_a, project=project_a, user=alice)
        request = service.prepare(caller, {"content": content, "domain": "healthcare", **fields})
        return runs.run_safe_regenerate(caller=caller, request=request)

    return make
