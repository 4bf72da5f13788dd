"""API keys: their form, storage, verification, last use and revocation (T10)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import serializers
from django.db import connection
from django.utils import timezone

from billing import keys
from billing.errors import AuthenticationFailed
from billing.models import APIKey
from tests.factories import APIKeyFactory, ProjectFactory


@pytest.fixture
def key(db):
    return APIKeyFactory()


def test_an_issued_key_has_the_documented_form_with_enough_randomness(key):
    match = re.fullmatch(r"rail_([a-z0-9]{12})_([A-Za-z0-9]{46})", key.raw)
    assert match
    assert match[1] == key.prefix
    assert len(match[2]) - keys.CHECKSUM_LENGTH >= 32


def test_only_the_prefix_and_a_sha256_are_stored_never_the_key(key):
    secret = key.raw.split("_")[2]
    dump = "".join(
        serializers.serialize("json", model.objects.all()) for model in apps.get_models()
    )
    assert key.raw not in dump
    assert secret[:20] not in dump
    assert APIKey.objects.get().hashed_secret == keys.hash_key(key.raw)
    assert re.fullmatch(r"[0-9a-f]{64}", key.hashed_secret)


def test_two_keys_never_share_a_prefix_or_secret(db):
    project = ProjectFactory()
    raws = [keys.issue_key(project=project, name=f"k{i}")[1] for i in range(20)]
    assert len({raw.split("_")[1] for raw in raws}) == 20
    assert len(set(raws)) == 20


def test_verify_returns_the_key_with_its_project_account_and_plan_in_one_query(
    key, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = keys.verify_key(key.raw)
        assert found.pk == key.pk
        assert found.project.account.plan.slug == "pro"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: "",
        lambda raw: "not-a-key",
        lambda raw: raw[:-1],
        lambda raw: raw + "x",
        lambda raw: raw.replace("rail_", "RAIL_"),
    ],
    ids=["empty", "garbage", "truncated", "extended", "wrong-scheme"],
)
def test_verify_rejects_malformed_keys_without_a_query(key, mangle, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(AuthenticationFailed):
        keys.verify_key(mangle(key.raw))


def test_verify_rejects_a_wrong_secret_with_a_valid_prefix_and_checksum(key):
    prefix = key.prefix
    secret = "A" * keys.SECRET_LENGTH
    forged = f"rail_{prefix}_{secret}{keys._checksum(prefix, secret)}"
    with pytest.raises(AuthenticationFailed):
        keys.verify_key(forged)


def test_verify_rejects_an_unknown_prefix(key):
    prefix, secret = "0" * 12, key.raw.split("_")[2][: keys.SECRET_LENGTH]
    with pytest.raises(AuthenticationFailed):
        keys.verify_key(f"rail_{prefix}_{secret}{keys._checksum(prefix, secret)}")


def test_a_revoked_key_no_longer_verifies(key):
    keys.revoke_key(key=key)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        keys.verify_key(key.raw)


def test_revoking_twice_keeps_the_first_revocation_time(key):
    first = keys.revoke_key(key=key).revoked_at
    assert keys.revoke_key(key=APIKey.objects.get(pk=key.pk)).revoked_at == first


def test_a_key_needs_a_name(db):
    with pytest.raises(Exception, match="name"):
        keys.issue_key(project=ProjectFactory(), name="   ")
    assert not APIKey.objects.exists()


def test_last_use_is_written_at_most_once_a_minute(key, django_assert_num_queries):
    now = timezone.now()
    with django_assert_num_queries(1):
        assert keys.touch_last_used(key, now)
    with django_assert_num_queries(0):
        assert not keys.touch_last_used(key, now + timedelta(seconds=59))
    assert keys.touch_last_used(key, now + timedelta(seconds=61))
    assert APIKey.objects.get(pk=key.pk).last_used_at == now + timedelta(seconds=61)


def test_a_stale_copy_of_the_key_does_not_write_again_after_another_request_did(key):
    now = timezone.now()
    other_copy = APIKey.objects.get(pk=key.pk)
    assert keys.touch_last_used(key, now)
    assert not keys.touch_last_used(other_copy, now + timedelta(seconds=1))


def test_verify_loads_exactly_what_the_orm_would(key):
    key.project.account.plan.allowed_modes = ["basic", "deep"]
    key.project.account.plan.save()
    keys.touch_last_used(key)
    found = keys.verify_key(key.raw)
    orm = APIKey.objects.select_related("project__account__plan").get(pk=key.pk)
    for mine, theirs in [
        (found, orm),
        (found.project, orm.project),
        (found.project.account, orm.project.account),
        (found.project.account.plan, orm.project.account.plan),
    ]:
        fields = type(theirs)._meta.concrete_fields
        assert [f.value_from_object(mine) for f in fields] == [
            f.value_from_object(theirs) for f in fields
        ]
        assert not mine._state.adding
    assert found.project.account.plan.allowed_modes == ["basic", "deep"]
    assert found.last_used_at.tzinfo is not None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements: PostgreSQL only"
)
def test_the_key_lookup_is_prepared_once_per_connection_and_still_correct(key):
    raw = key.raw
    for _ in range(3):
        assert keys.verify_key(raw).project.account.plan.slug
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%billing_apikey%prefix%"],
        )
        assert cursor.fetchone()[0] == 1
    with pytest.raises(AuthenticationFailed):
        keys.verify_key(raw[:-3] + "xyz")
