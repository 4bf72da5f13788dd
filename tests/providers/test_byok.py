"""Bring your own key: an account admin stores the account's key for a provider; it is
encrypted at rest, sent only to that provider for that account's calls, counted, and
never shown again: not in a page, an API answer, an error, a log line or the admin."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse

from billing import provider_keys
from billing.accounts import update_policy
from billing.models import ProviderKey
from railsite.errors import ServiceUnavailable
from tests.api.texts import HIRING

from .conftest import BETA_KEY

URL = "/railscore/v1/safe-regenerate"
OWN_KEY = "sk-own-account-a-7f3c9e21b4d84a6f"


def set_own_key(login, alice, key=OWN_KEY):
    return login(alice).post(
        reverse("provider-keys"), {"action": "set", "provider": "beta", "key": key}, follow=True
    )


def on_beta(key):
    update_policy(project=key.project, regenerator="beta/writer-b")


def run(api):
    return api.post(URL, {"content": HIRING, "max_regenerations": 1}, format="json")


def test_an_admins_key_is_sent_to_the_provider_for_the_accounts_calls(
    two, login, alice, api_a, key_a
):
    set_own_key(login, alice)
    on_beta(key_a)
    assert run(api_a).status_code == 200

    assert two.beta.authorizations == [f"Bearer {OWN_KEY}"]


def test_another_account_never_uses_the_key(two, login, alice, api_b, key_b):
    set_own_key(login, alice)
    on_beta(key_b)
    run(api_b)

    assert two.beta.authorizations == [f"Bearer {BETA_KEY}"]  # the server's key


def test_the_key_is_encrypted_in_the_database(two, login, alice, account_a):
    set_own_key(login, alice)

    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM billing_providerkey")
        (raw,) = cursor.fetchone()
    assert OWN_KEY not in raw
    assert OWN_KEY.encode().hex() not in raw
    assert provider_keys.key_for(account_a, "beta")[1] == OWN_KEY


def test_the_key_appears_in_no_page_answer_error_or_log_line(
    two, login, alice, api_a, key_a, admin_client, caplog
):
    caplog.set_level(logging.DEBUG)
    saved = set_own_key(login, alice)
    on_beta(key_a)
    two.beta.statuses = [401]
    two.beta.echo_key = True  # a provider that echoes the key it refuses
    answers = [
        saved,
        login(alice).get(reverse("provider-keys")),
        run(api_a),  # the rewrite is refused: a 500 in the contract's shape
        api_a.get("/railscore/v1/runs"),
        api_a.get("/railscore/v1/config"),
        admin_client.get(reverse("admin:billing_providerkey_changelist")),
        admin_client.get(
            reverse("admin:billing_providerkey_change", args=[ProviderKey.objects.get().pk])
        ),
    ]

    assert answers[2].status_code == 500
    assert answers[5].status_code == answers[6].status_code == 200
    for answer in answers:
        assert OWN_KEY not in answer.content.decode()
    assert OWN_KEY not in caplog.text
    assert all(OWN_KEY not in (run.error or "") for run in key_a.project.runs.all())


def test_a_refusal_that_echoes_the_key_is_redacted(two):
    from regen.engine.llm import LLMClient, LLMRejected

    two.beta.statuses = [401]
    two.beta.echo_key = True
    client = LLMClient(two.beta.base_url, OWN_KEY, "writer-b", max_retries=0)
    with client, pytest.raises(LLMRejected) as refused:
        client.complete(
            [{"role": "user", "content": f"echo {OWN_KEY}"}], temperature=0, max_tokens=5
        )
    assert "incorrect API key Bearer [redacted]" in str(refused.value)
    assert OWN_KEY not in str(refused.value)


def test_the_keys_usage_is_recorded_against_it(two, login, alice, api_a, key_a):
    set_own_key(login, alice)
    on_beta(key_a)
    two.beta.usage = (1000, 200)
    run(api_a)

    key = ProviderKey.objects.get()
    assert key.calls == 1
    assert key.input_tokens == 1000
    assert key.output_tokens == 200
    assert float(key.cost_usd) == pytest.approx((1000 * 3.0 + 200 * 5.0) / 1e6)
    assert key.last_used_at is not None


def test_a_rotated_encryption_key_still_decrypts_old_secrets(two, settings, account_a):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RAIL_ENCRYPTION_KEYS = [old]
    provider_keys.set_key(account=account_a, provider="beta", key=OWN_KEY)
    settings.RAIL_ENCRYPTION_KEYS = [new, old]

    assert provider_keys.key_for(account_a, "beta")[1] == OWN_KEY
    assert provider_keys.rotate_all() == 1
    settings.RAIL_ENCRYPTION_KEYS = [new]  # the old key retired after the rotation
    assert provider_keys.key_for(account_a, "beta")[1] == OWN_KEY
    settings.RAIL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ServiceUnavailable):
        provider_keys.key_for(account_a, "beta")


def test_only_an_account_admin_may_see_or_set_keys(two, login, bob, victor):
    for user in (bob, victor):
        client = login(user)
        assert client.get(reverse("provider-keys")).status_code == 403
        response = client.post(
            reverse("provider-keys"), {"action": "set", "provider": "beta", "key": OWN_KEY}
        )
        assert response.status_code == 403
    assert not ProviderKey.objects.exists()


def test_a_key_for_an_unconfigured_provider_is_refused_beside_the_field(two, login, alice):
    response = login(alice).post(
        reverse("provider-keys"), {"action": "set", "provider": "gamma", "key": OWN_KEY}
    )
    assert response.status_code == 400
    assert not ProviderKey.objects.exists()


def test_an_admin_deletes_the_key_and_the_server_key_is_used_again(two, login, alice, api_a, key_a):
    set_own_key(login, alice)
    login(alice).post(reverse("provider-keys"), {"action": "delete", "provider": "beta"})
    on_beta(key_a)
    run(api_a)

    assert not ProviderKey.objects.exists()
    assert two.beta.authorizations == [f"Bearer {BETA_KEY}"]


def test_the_rotation_command_re_encrypts_every_key_under_the_newest(two, settings, account_a):
    from io import StringIO

    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.RAIL_ENCRYPTION_KEYS = [old]
    provider_keys.set_key(account=account_a, provider="beta", key=OWN_KEY)
    before = ProviderKey.objects.get().ciphertext
    settings.RAIL_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_provider_keys", stdout=out)

    assert "re-encrypted 1 provider key(s)" in out.getvalue()
    assert ProviderKey.objects.get().ciphertext != before
    assert OWN_KEY not in out.getvalue()
    settings.RAIL_ENCRYPTION_KEYS = [new]
    assert provider_keys.key_for(account_a, "beta")[1] == OWN_KEY
