"""Shared test set-up. Personas and API clients live beside the tests that use them."""

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from billing.models import Membership
from tests.ci import ci_enabled, current_gaps
from tests.factories import (
    AccountFactory,
    APIKeyFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
)
from tests.helpers import client_for


def pytest_sessionstart(session):
    """Under CI=true, refuse to run in the wrong world (see tests/ci.py)."""
    if not ci_enabled():
        return
    gaps = current_gaps()
    if gaps:
        pytest.exit(
            "CI=true but this run cannot test the real product:\n  - " + "\n  - ".join(gaps),
            returncode=3,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failure: nothing may be left out silently."""
    report = yield
    if ci_enabled() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true and this test would have been skipped: {reason}"
    return report


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


@pytest.fixture(autouse=True, scope="session")
def _plain_static_storage():
    """Serve static files under their own names: pages render without collectstatic (the
    production storage, compressed and fingerprinted, needs its manifest: see
    tests/pages/test_static_files.py)."""
    try:
        from django.conf import settings
        from django.contrib.staticfiles.storage import staticfiles_storage
        from django.core.files.storage import storages

        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        storages._storages = {}
        storages.backends = settings.STORAGES
        staticfiles_storage._setup()
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
def reviewer_key_a(key_a):
    """A second key of App A, whose project lets keys decide review items."""
    project = key_a.project
    project.review_by_key = True
    project.save(update_fields=["review_by_key"])
    return APIKeyFactory(project=project)


@pytest.fixture
def reviewer_a(reviewer_key_a):
    return client_for(reviewer_key_a)


@pytest.fixture
def api_b(key_b):
    return client_for(key_b)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Start every test with an empty cache: eval results and rate counters are per test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def receiver(settings):
    """A webhook receiver on 127.0.0.1 (allow-listed): ``(receiver, url)``."""
    from tests.webhook_receiver import serve

    yield from serve(settings)
