"""Billing personas: alice (admin of account A), bob (reviewer of A), charlie (account B)."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.models import Membership
from tests.factories import (
    AccountFactory,
    APIKeyFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real PostgreSQL row locks and concurrent connections (set DATABASE_URL)",
)


@pytest.fixture
def account_a(db):
    return AccountFactory(name="Account A", credits=100)


@pytest.fixture
def account_b(db):
    return AccountFactory(name="Account B", credits=100)


@pytest.fixture
def alice(account_a):
    return MembershipFactory(
        user=UserFactory(username="alice"), account=account_a, role=Membership.Role.ADMIN
    ).user


@pytest.fixture
def bob(account_a):
    return MembershipFactory(
        user=UserFactory(username="bob"), account=account_a, role=Membership.Role.REVIEWER
    ).user


@pytest.fixture
def charlie(account_b):
    return MembershipFactory(
        user=UserFactory(username="charlie"), account=account_b, role=Membership.Role.ADMIN
    ).user


@pytest.fixture
def key_a(account_a):
    return APIKeyFactory(project=ProjectFactory(account=account_a, name="App A"))


@pytest.fixture
def key_b(account_b):
    return APIKeyFactory(project=ProjectFactory(account=account_b, name="App B"))


def client_for(key) -> APIClient:
    """Return an API client sending the key as a Bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.raw}")
    return client


@pytest.fixture
def api_a(key_a):
    return client_for(key_a)


@pytest.fixture
def api_b(key_b):
    return client_for(key_b)
