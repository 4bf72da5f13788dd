"""The admin: every model is listed, the ledger is read-only, credits change only with a
reason through the ledger, keys show their prefix only, and bad input changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import ledger
from billing.models import Account, APIKey, LedgerEntry
from tests.factories import APIKeyFactory

MODELS = [
    "plan",
    "account",
    "membership",
    "project",
    "apikey",
    "creditaccount",
    "hold",
    "ledgerentry",
]


@pytest.fixture
def key(db):
    return APIKeyFactory()


def change_credits(admin_client, account, **data):
    url = reverse("admin:billing_creditaccount_change_credits", args=[account.credits.pk])
    return admin_client.post(url, {"operation": "grant", "amount": "10", "reason": "why", **data})


@pytest.mark.parametrize("model", MODELS)
def test_every_billing_model_has_a_working_searchable_changelist(admin_client, key, model):
    response = admin_client.get(reverse(f"admin:billing_{model}_changelist") + "?q=x")
    assert response.status_code == 200


def test_the_ledger_can_be_viewed_but_never_added_changed_or_deleted(admin_client, key):
    ledger.grant(account=key.account, amount=5, memo="m")
    entry = LedgerEntry.objects.get()
    assert (
        admin_client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:billing_ledgerentry_change", args=[entry.pk]), {"amount": "999"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:billing_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert LedgerEntry.objects.get().amount == 5


def test_the_api_key_admin_shows_the_prefix_and_never_the_hash(admin_client, key):
    for url in (
        reverse("admin:billing_apikey_changelist"),
        reverse("admin:billing_apikey_change", args=[key.pk]),
    ):
        page = admin_client.get(url).content.decode()
        assert key.prefix in page
        assert key.hashed_secret not in page
        assert key.raw not in page


def test_keys_are_revoked_from_the_admin_with_an_action(admin_client, key):
    admin_client.post(
        reverse("admin:billing_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert APIKey.objects.get().revoked_at is not None


def test_staff_grant_credits_through_the_ledger_with_a_reason(admin_client, key):
    response = change_credits(admin_client, key.account, amount="25.50", reason="goodwill")
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.memo, entry.created_by.username) == (
        "grant",
        25.5,
        "goodwill",
        "admin",
    )


def test_staff_adjust_credits_down_with_a_reason(admin_client, key):
    ledger.grant(account=key.account, amount=30, memo="m")
    change_credits(
        admin_client, key.account, operation="adjustment", amount="-10", reason="duplicate"
    )
    assert ledger.balance_of(key.account) == 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-5"}, "must not be negative"),
        ({"amount": "ten"}, "Enter a number"),
        ({"amount": "1.001"}, "decimal places"),
        ({"reason": ""}, "This field is required"),
        ({"operation": "adjustment", "amount": "-1"}, "Insufficient credits"),
        ({"operation": "steal"}, "Select a valid choice"),
    ],
)
def test_bad_credit_changes_show_a_form_error_and_change_nothing(admin_client, key, data, message):
    response = change_credits(admin_client, key.account, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert ledger.balance_of(key.account) == 0


def test_an_account_with_an_empty_name_is_refused_and_nothing_is_created(admin_client, db):
    before = Account.objects.count()
    response = admin_client.post(
        reverse("admin:billing_account_add"), {"name": "  ", "slug": "x", "plan": 1}
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Account.objects.count() == before


def test_a_plan_with_a_negative_rate_is_refused(admin_client, db):
    response = admin_client.post(
        reverse("admin:billing_plan_add"),
        {
            "name": "Bad",
            "slug": "bad",
            "credits_per_month": "-1",
            "requests_per_minute": "0",
            "requests_per_day": "1",
            "allowed_modes": '["basic"]',
            "max_regenerations": "3",
        },
    )
    assert response.status_code == 200
    assert "greater than or equal to" in response.content.decode()


def test_open_holds_can_be_released_from_the_admin(admin_client, key):
    ledger.grant(account=key.account, amount=10, memo="m")
    held = ledger.hold(account=key.account, amount=7, reference="req_stuck")
    admin_client.post(
        reverse("admin:billing_hold_changelist"),
        {"action": "release_selected", "_selected_action": [held.pk]},
    )
    assert ledger.available_of(key.account) == 10


def test_the_admin_shows_the_policy_read_only_and_links_to_its_one_writer(admin_client, key):
    project = key.project
    project.webhook_secret = "s3cret-never-shown-here"
    project.save(update_fields=["webhook_secret"])
    url = reverse("admin:billing_project_change", args=[project.pk])
    page = admin_client.get(url).content.decode()
    assert reverse("project-edit", args=[project.pk]) in page
    assert 'name="thresholds"' not in page
    assert 'name="weights"' not in page
    assert "s3cret-never-shown-here" not in page
    admin_client.post(
        url,
        {
            "name": project.name,
            "slug": project.slug,
            "account": project.account.pk,
            "environment": project.environment,
            "thresholds": '{"overall": "not a score"}',
        },
    )
    project.refresh_from_db()
    assert project.thresholds == {}
