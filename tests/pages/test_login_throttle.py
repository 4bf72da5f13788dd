"""Log-in throttling (issue 11, defect 6): wrong passwords are refused after a few tries,
per username and per address, with a page that says why; a success resets the count."""

import pytest
from axes.models import AccessAttempt

URL = "/login/"
LIMIT = 5


@pytest.fixture
def user(alice):
    alice.set_password("the right password 42")
    alice.save()
    return alice


def _log_in(client, username, password, address="10.0.0.1"):
    return client.post(URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_the_limit_even_the_right_password_is_refused_with_a_clear_page(client, user):
    for _ in range(LIMIT - 1):
        assert _log_in(client, "alice", "wrong").status_code == 200  # the form again
    locked = _log_in(client, "alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed log-ins" in page
    assert "15 minutes" in page
    refused = _log_in(client, "alice", "the right password 42")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_username_is_locked_from_every_address(client, user):
    for n in range(LIMIT):
        _log_in(client, "alice", "wrong", address=f"10.0.1.{n}")
    assert _log_in(client, "alice", "the right password 42", address="10.9.9.9").status_code == 429


def test_an_address_trying_many_usernames_is_locked(client, user):
    for n in range(LIMIT):
        _log_in(client, f"guess{n}", "wrong", address="10.0.2.1")
    assert _log_in(client, "alice", "the right password 42", address="10.0.2.1").status_code == 429
    # alice herself, from her own address, is not locked out by the attacker
    assert _log_in(client, "alice", "the right password 42", address="10.0.3.1").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, user):
    for _ in range(LIMIT - 1):
        _log_in(client, "alice", "wrong")
    assert _log_in(client, "alice", "the right password 42").status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert _log_in(client, "alice", "wrong").status_code == 200


def test_the_lockout_lifts_after_the_cool_off(client, user, time_machine):
    from datetime import timedelta

    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    for _ in range(LIMIT):
        _log_in(client, "alice", "wrong")
    assert AccessAttempt.objects.exists()
    time_machine.shift(timedelta(minutes=16))
    assert _log_in(client, "alice", "the right password 42").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(rf, settings):
    from railsite.login_throttle import client_ip

    settings.BEHIND_TLS_PROXY = True
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "203.0.113.7"
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(request) == "10.0.0.2"
