"""Shared test set-up. Personas and API clients live beside the tests that use them."""

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

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
