from django.conf import settings


def test_the_suite_hashes_passwords_with_the_fast_hasher():
    assert settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")
