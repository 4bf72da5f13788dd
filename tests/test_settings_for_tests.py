"""The suite's own set-up: passwords are hashed with the fast hasher (tests/conftest.py)."""

from django.contrib.auth.hashers import make_password

from tests.factories import UserFactory


def test_the_suite_hashes_passwords_with_the_fast_hasher(db):
    assert make_password("correct horse battery staple").startswith("md5$")
    assert UserFactory().password.startswith("md5$")
