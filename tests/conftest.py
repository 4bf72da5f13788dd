"""Shared test set-up. Personas and API clients live beside the tests that use them."""

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from billing.models import Membership
from tests.factories import (
    AccountFactory,
    APIKeyFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)
from tests.helpers import client_for

# The machine has 2 cores shared with servers and workers under test: time limits on
# single examples would make property tests flaky, not stricter.
hypothesis_settings.register_profile(
    "railsite", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("railsite")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Hash passwords with MD5 in tests: PBKDF2 would dominate the suite's time."""
    try:
        from django.conf import settings
        from django.contrib.auth.hashers import get_hashers

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        get_hashers.cache_clear()
    except Exception:  # engine tests may run without Django (-p no:django)
        pass


# Personas: alice (admin of account A), bob (reviewer of A), victor (viewer of A),
# charlie (account B).
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
def victor(account_a):
    return MembershipFactory(
        user=UserFactory(username="victor"), account=account_a, role=Membership.Role.VIEWER
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


@pytest.fixture
def api_a(key_a):
    return client_for(key_a)


@pytest.fixture
def api_b(key_b):
    return client_for(key_b)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache: eval results and rate counters are per test."""
    from django.core.cache import cache

    cache.clear()
    yield
