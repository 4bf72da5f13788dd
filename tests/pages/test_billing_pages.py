"""The API keys, credits and projects pages, through Django's test client."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import keys, ledger
from billing.models import APIKey, LedgerEntry, Project
from regen.engine.requests import parse_regenerate_request
from regen.policy import apply_policy
from tests.factories import APIKeyFactory, ProjectFactory, UserFactory
from tests.helpers import client_for

XSS_NAMES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
PAGES = ("keys", "credits", "projects")


def policy_data(**overrides):
    """A complete, valid policy form submission; ``None`` drops a field (a blank checkbox)."""
    data = {
        "default_mode": "basic",
        "domain": "general",
        "overall_score": "7.0",
        "overall_confidence": "0.5",
        "tradeoff_mode": "priority",
        "max_dimension_failures": "2",
        "enforcement": "log_only",
        "enforcement_mode": "monitor",
        "regenerate_enabled": "on",
        "regenerate_max_attempts": "3",
        "regenerate_fallback": "log",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def figure(response, element_id):
    """Return the JSON embedded with json_script under ``element_id``."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no {element_id} in the page"
    return json.loads(match[1])


def queries_for(client, url):
    """Count the queries of a page view, after a first view has settled the session."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# --- access ---


@pytest.mark.parametrize("page", PAGES)
def test_reviewers_and_viewers_get_403_on_every_billing_page(login, bob, victor, page):
    for user in (bob, victor):
        response = login(user).get(reverse(page))
        assert response.status_code == 403
        assert "does not allow this page" in response.content.decode()


def test_reviewers_cannot_create_or_revoke_keys_or_edit_policies(login, bob, key_a):
    client = login(bob)
    assert (
        client.post(reverse("keys"), {"name": "x", "project": key_a.project_id}).status_code == 403
    )
    assert client.post(reverse("key-revoke", args=[key_a.pk])).status_code == 403
    assert (
        client.post(reverse("project-edit", args=[key_a.project_id]), policy_data()).status_code
        == 403
    )
    assert APIKey.objects.count() == 1
    assert APIKey.objects.get().is_active


@pytest.mark.parametrize("page", PAGES)
def test_a_visitor_is_sent_to_the_login_page(client, db, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_admin_pages_open_for_an_admin(login, alice, key_a):
    client = login(alice)
    for url in [reverse(p) for p in PAGES] + [reverse("project-edit", args=[key_a.project_id])]:
        assert client.get(url).status_code == 200, url


# --- API keys ---


def test_the_keys_page_lists_the_accounts_keys_only(login, alice, key_a, key_b):
    body = login(alice).get(reverse("keys")).content.decode()
    assert key_a.name in body
    assert f"rail_{key_a.prefix}_" in body
    assert key_b.name not in body
    assert key_b.prefix not in body


def test_a_new_keys_secret_is_shown_once_and_never_in_the_list(login, alice, project_a):
    client = login(alice)
    response = client.post(reverse("keys"), {"name": "billing worker", "project": project_a.pk})
    assert response.status_code == 200
    key = APIKey.objects.get(name="billing worker")
    raw = re.search(r'value="(rail_[a-z0-9]{12}_[A-Za-z0-9]{46})"', response.content.decode())[1]
    assert keys.verify_key(raw) == key
    assert key.created_by == alice
    assert 'data-copy="new-key"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    listed = client.get(reverse("keys")).content.decode()
    assert raw not in listed
    assert raw[len("rail_x" + key.prefix) :] not in listed
    assert f"rail_{key.prefix}_" in listed
    assert "billing worker" in listed
    assert key.hashed_secret not in listed


def test_an_htmx_create_answers_with_the_keys_panel_only(login, alice, project_a):
    response = login(alice).post(
        reverse("keys"), {"name": "htmx key", "project": project_a.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="keys-panel">')
    assert "<html" not in body
    assert "htmx key" in body
    assert 'id="new-key"' in body


def test_a_key_needs_a_name_shown_beside_the_field(login, alice, project_a):
    response = login(alice).post(reverse("keys"), {"name": "  ", "project": project_a.pk})
    assert 'id="id_name_errors"' in response.content.decode()
    assert "This field is required." in response.content.decode()
    assert not APIKey.objects.exists()


def test_a_key_cannot_be_created_for_another_accounts_project(login, alice, project_a, key_b):
    response = login(alice).post(reverse("keys"), {"name": "sneaky", "project": key_b.project_id})
    assert 'id="id_project_errors"' in response.content.decode()
    assert not APIKey.objects.filter(name="sneaky").exists()
    assert key_b.project.name not in response.content.decode()  # not offered either


def test_revoking_a_key_makes_the_api_answer_401(login, alice, key_a):
    api = client_for(key_a)
    assert api.post("/verify").status_code == 200
    response = login(alice).post(reverse("key-revoke", args=[key_a.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("keys")
    assert api.post("/verify").status_code == 401
    key_a.refresh_from_db()
    assert key_a.revoked_at is not None
    body = login(alice).get(reverse("keys")).content.decode()
    assert "revoked" in body
    assert f'hx-post="{reverse("key-revoke", args=[key_a.pk])}"' not in body


def test_an_htmx_revoke_answers_with_the_panel_and_a_notice(login, alice, key_a):
    response = login(alice).post(reverse("key-revoke", args=[key_a.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="keys-panel">')
    assert "is revoked" in body


def test_the_confirmation_page_asks_first_and_changes_nothing(login, alice, key_a):
    body = login(alice).get(reverse("key-revoke", args=[key_a.pk])).content.decode()
    assert "Revoke the key" in body
    assert 'method="post"' in body
    key_a.refresh_from_db()
    assert key_a.is_active


def test_the_list_asks_for_confirmation_before_revoking(login, alice, key_a):
    body = login(alice).get(reverse("keys")).content.decode()
    assert "hx-confirm=" in body
    # without JavaScript the button opens the confirmation page instead of revoking
    assert f'method="get" action="{reverse("key-revoke", args=[key_a.pk])}"' in body


def test_another_accounts_key_cannot_be_seen_or_revoked(login, alice, key_b):
    client = login(alice)
    url = reverse("key-revoke", args=[key_b.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    key_b.refresh_from_db()
    assert key_b.is_active
    assert client_for(key_b).post("/verify").status_code == 200


def test_the_keys_page_query_count_does_not_grow_with_keys(login, alice, project_a):
    client = login(alice)
    APIKeyFactory(project=project_a)
    few = queries_for(client, reverse("keys"))
    for n in range(12):
        APIKeyFactory(project=ProjectFactory(account=project_a.account, name=f"Other {n}"))
    assert queries_for(client, reverse("keys")) == few


# --- credits ---


def test_the_credits_page_shows_balance_held_and_available(login, alice, account_a):
    ledger.hold(account=account_a, amount=Decimal("30"), reference="req_open")
    body = login(alice).get(reverse("credits")).content.decode()
    assert '<strong id="balance">100.00</strong>' in body
    assert '<strong id="held">30.00</strong>' in body
    assert '<strong id="available">70.00</strong>' in body


def charge(account, used, reference):
    held = ledger.hold(
        account=account, amount=Decimal("10"), reference=reference, memo="safe-regenerate"
    )
    ledger.settle(hold=held, used=Decimal(used))


def test_the_usage_chart_sums_credits_charged_per_day(login, alice, account_a):
    charge(account_a, "7", "req_1")
    charge(account_a, "3.5", "req_2")
    data = figure(login(alice).get(reverse("credits")), "usage-figure")["data"][0]
    assert data["y"] == [10.5]
    assert len(data["x"]) == 1


def test_the_ledger_is_newest_first_and_filters_by_kind_and_reference(login, alice, account_a):
    charge(account_a, "7", "req_1")
    charge(account_a, "3", "req_2")
    ledger.grant(account=account_a, amount=5, memo="a goodwill grant")
    client = login(alice)
    body = client.get(reverse("credits")).content.decode()
    assert (
        body.index("goodwill")
        < body.index("req_2")
        < body.index("req_1")
        < body.index("test credits")
    )
    body = client.get(reverse("credits"), {"kind": "charge"}).content.decode()
    ledger_part = body[body.index('id="ledger"') :]
    assert ledger_part.count('<li class="ledger-line') == 2  # the two calls, no grant
    assert "goodwill" not in ledger_part
    body = client.get(reverse("credits"), {"reference": "req_1"}).content.decode()
    ledger_part = body[body.index('id="ledger"') :]
    assert "req_1" in ledger_part
    assert "req_2" not in ledger_part
    response = client.get(reverse("credits"), {"kind": "charge"}, HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<div id="ledger">')


def test_the_ledger_is_paginated(login, alice, account_a):
    for n in range(30):
        ledger.grant(account=account_a, amount=1, memo=f"grant {n}")
    client = login(alice)
    first = client.get(reverse("credits")).content.decode()
    assert "grant 29" in first
    assert "grant 4" not in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("credits"), {"page": 2}).content.decode()
    assert "grant 4" in second
    assert "grant 29" not in second


def test_the_credits_page_query_count_does_not_grow_with_entries(login, alice, account_a):
    client = login(alice)
    charge(account_a, "1", "req_0")
    few = queries_for(client, reverse("credits"))
    for n in range(15):
        charge(account_a, "1", f"req_{n + 1}")
    assert queries_for(client, reverse("credits")) == few


@pytest.fixture
def staff(db):
    user = UserFactory(username="sam")
    user.is_staff = True
    user.save()
    return user


def test_staff_grant_credits_with_a_reason(login, staff, account_a):
    client = login(staff)
    client.get(reverse("credits"), {"account": account_a.slug})
    response = client.post(
        reverse("credits"), {"operation": "grant", "amount": "25", "reason": "goodwill"}
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.filter(account=account_a).first()
    assert (entry.kind, entry.amount, entry.memo, entry.created_by) == (
        "grant",
        Decimal("25.00"),
        "goodwill",
        staff,
    )
    assert ledger.balance_of(account_a) == Decimal("125.00")
    body = client.get(reverse("credits")).content.decode()
    assert "balance now 125.00" in body
    assert "goodwill" in body


def test_staff_adjust_credits_down_with_a_reason(login, staff, account_a):
    client = login(staff)
    client.get(reverse("credits"), {"account": account_a.slug})
    client.post(
        reverse("credits"), {"operation": "adjustment", "amount": "-40", "reason": "double grant"}
    )
    entry = LedgerEntry.objects.filter(account=account_a).first()
    assert (entry.kind, entry.amount, entry.memo) == (
        "adjustment",
        Decimal("-40.00"),
        "double grant",
    )
    assert ledger.balance_of(account_a) == Decimal("60.00")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"operation": "grant", "amount": "-5", "reason": "oops"},
            "amount",
            "must not be negative",
        ),
        ({"operation": "grant", "amount": "lots", "reason": "oops"}, "amount", "Enter a number."),
        ({"operation": "grant", "amount": "0", "reason": "oops"}, "amount", "must not be zero"),
        (
            {"operation": "grant", "amount": "5", "reason": "   "},
            "reason",
            "This field is required.",
        ),
        (
            {"operation": "adjustment", "amount": "-500", "reason": "too much"},
            "amount",
            "Insufficient credits",
        ),
        (
            {"operation": "grant", "amount": "99999999999", "reason": "typo"},
            "amount",
            "At most 1,000,000 credits in one change.",
        ),
        (
            {"operation": "grant", "amount": "250000", "reason": "big deal"},
            "confirm",
            "Confirm a change of 250,000.00 credits",
        ),
    ],
)
def test_bad_credit_changes_show_an_error_beside_the_field_and_change_nothing(
    login, staff, account_a, data, field, message
):
    client = login(staff)
    client.get(reverse("credits"), {"account": account_a.slug})
    before = LedgerEntry.objects.count()
    response = client.post(reverse("credits"), data)
    body = response.content.decode()
    assert response.status_code == 200
    errors = body[body.index(f'id="id_{field}_errors"') :]
    assert message in html.unescape(errors[: errors.index("</ul>")])
    assert LedgerEntry.objects.count() == before
    assert ledger.balance_of(account_a) == Decimal("100.00")


def test_an_account_admin_who_is_not_staff_cannot_change_credits(login, alice, account_a):
    client = login(alice)
    assert 'name="reason"' not in client.get(reverse("credits")).content.decode()
    response = client.post(
        reverse("credits"), {"operation": "grant", "amount": "1000", "reason": "me"}
    )
    assert response.status_code == 403
    assert ledger.balance_of(account_a) == Decimal("100.00")


# --- projects ---


def test_the_projects_page_lists_the_accounts_projects_only(login, alice, key_a, key_b):
    body = login(alice).get(reverse("projects")).content.decode()
    assert key_a.project.name in body
    assert key_b.project.name not in body
    assert reverse("project-edit", args=[key_a.project_id]) in body


def test_creating_a_project_opens_its_policy(login, alice, account_a):
    response = login(alice).post(
        reverse("projects"), {"name": "Claims bot", "environment": "staging"}
    )
    project = Project.objects.get(account=account_a, name="Claims bot")
    assert response.status_code == 302
    assert response["Location"] == reverse("project-edit", args=[project.pk])
    assert (project.slug, project.environment, project.thresholds) == ("claims-bot", "staging", {})


def test_a_duplicate_project_shows_an_error_beside_the_name(login, alice, project_a):
    response = login(alice).post(
        reverse("projects"), {"name": project_a.name, "environment": "production"}
    )
    body = html.unescape(response.content.decode())
    assert 'id="id_name_errors"' in body
    assert "already has a project" in body
    assert Project.objects.filter(name=project_a.name).count() == 1


def test_another_accounts_project_is_404(login, alice, key_b):
    client = login(alice)
    url = reverse("project-edit", args=[key_b.project_id])
    assert client.get(url).status_code == 404
    assert client.post(url, policy_data(locked="on")).status_code == 404
    key_b.project.refresh_from_db()
    assert not key_b.project.locked


def test_a_saved_policy_is_what_the_api_merge_reads(login, alice, project_a):
    data = policy_data(
        default_mode="deep",
        domain="healthcare",
        overall_score="8",
        overall_confidence="0.6",
        tradeoff_mode="strict",
        max_dimension_failures="1",
        threshold_safety="9",
        threshold_privacy="8.5",
        weight_safety="50",
        weight_privacy="30",
        weight_fairness="20",
        locked="on",
        enforcement="block",
        enforcement_mode="enforce",
        regenerate_enabled=None,
        regenerate_max_attempts="5",
        regenerate_fallback="human_review",
    )
    response = login(alice).post(reverse("project-edit", args=[project_a.pk]), data)
    assert response.status_code == 302
    project_a.refresh_from_db()
    assert project_a.thresholds == {
        "overall": {"score": 8.0, "confidence": 0.6},
        "tradeoff_mode": "strict",
        "max_dimension_failures": 1,
        "dimensions": {"safety": 9.0, "privacy": 8.5},
    }
    assert project_a.weights == {"fairness": 20.0, "safety": 50.0, "privacy": 30.0}
    assert (project_a.default_mode, project_a.domain, project_a.locked) == (
        "deep",
        "healthcare",
        True,
    )
    assert (project_a.enforcement, project_a.enforcement_mode) == ("block", "enforce")
    assert (project_a.regenerate_enabled, project_a.regenerate_max_attempts) == (False, 5)
    merged = apply_policy({"content": "x" * 20, "threshold": 3}, project_a, for_regenerate=True)
    request = parse_regenerate_request(merged)
    assert request.thresholds.overall_score == 8.0
    assert request.thresholds.dimensions == {
        "safety": 9.0,
        "privacy": 8.5,
    }
    assert dict(request.weights) == project_a.weights
    assert request.on_failure == "human_review"


def test_default_thresholds_and_blank_weights_are_stored_empty(login, alice, project_a):
    project_a.thresholds, project_a.weights = {"safety": 9}, {"safety": 100}
    project_a.save()
    login(alice).post(reverse("project-edit", args=[project_a.pk]), policy_data())
    project_a.refresh_from_db()
    assert project_a.thresholds == {}
    assert project_a.weights == {}


def test_the_editor_shows_the_stored_policy_in_any_accepted_shape(login, alice, project_a):
    project_a.thresholds, project_a.weights = {"safety": 9.5}, {"safety": 60, "privacy": 40}
    project_a.save()
    body = login(alice).get(reverse("project-edit", args=[project_a.pk])).content.decode()
    assert re.search(r'name="threshold_safety"[^>]*value="9.5"', body)
    assert re.search(r'name="weight_privacy"[^>]*value="40"', body)
    assert re.search(r'name="overall_score"[^>]*value="7.0"', body)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"weight_safety": "50", "weight_privacy": "40"},
            "weights",
            "Weights must sum to 100 (got 90)",
        ),
        ({"weight_safety": "-10", "weight_privacy": "110"}, "weight_safety", "non-negative"),
        ({"overall_score": "11"}, "overall_score", "from 0 to 10"),
        ({"overall_confidence": "1.5"}, "overall_confidence", "from 0 to 1"),
        ({"threshold_safety": "12"}, "threshold_safety", "from 0 to 10"),
        ({"max_dimension_failures": "9"}, "max_dimension_failures", "from 0 to 8"),
        ({"regenerate_max_attempts": "9"}, "regenerate_max_attempts", "from 1 to 5"),
        ({"overall_score": "high"}, "overall_score", "Enter a number."),
        ({"tradeoff_mode": "lenient"}, "tradeoff_mode", "Select a valid choice"),
    ],
)
def test_policy_errors_appear_beside_their_fields_and_nothing_is_saved(
    login, alice, project_a, overrides, field, message
):
    response = login(alice).post(
        reverse("project-edit", args=[project_a.pk]), policy_data(locked="on", **overrides)
    )
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    errors = body[
        body.index(f'id="{field}_errors"' if field == "weights" else f'id="id_{field}_errors"') :
    ]
    assert message in errors[: errors.index("</ul>")]
    assert "The policy was not saved" in body
    project_a.refresh_from_db()
    assert not project_a.locked
    assert project_a.thresholds == {}
    assert project_a.weights == {}


def test_an_htmx_save_answers_with_the_form_and_a_saved_notice(login, alice, project_a):
    response = login(alice).post(
        reverse("project-edit", args=[project_a.pk]),
        policy_data(overall_score="8.5"),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="policy"')
    assert "Policy saved." in body
    assert '"overallThreshold": 8.5' in html.unescape(body)
    project_a.refresh_from_db()
    assert project_a.overall_threshold == 8.5


def test_the_projects_page_query_count_does_not_grow_with_projects(login, alice, account_a):
    client = login(alice)
    APIKeyFactory(project=ProjectFactory(account=account_a, name="First"))
    few = queries_for(client, reverse("projects"))
    for n in range(10):
        APIKeyFactory(project=ProjectFactory(account=account_a, name=f"P {n}"))
    assert queries_for(client, reverse("projects")) == few


# --- escaping ---


@pytest.mark.parametrize("name", XSS_NAMES)
def test_user_text_is_escaped_on_every_billing_page(login, alice, account_a, name):
    project = ProjectFactory(account=account_a, name=name, slug="xss")
    key = APIKeyFactory(project=project, name=name)
    ledger.grant(account=account_a, amount=1, memo=name)
    client = login(alice)
    urls = [reverse(p) for p in PAGES] + [
        reverse("project-edit", args=[project.pk]),
        reverse("key-revoke", args=[key.pk]),
    ]
    for url in urls:
        body = client.get(url).content.decode()
        assert name not in body, url
        assert html.escape(name) in body or html.escape(name, quote=False) in body, url


def test_a_large_change_goes_through_once_confirmed_and_balances_read_with_separators(
    login, staff, account_a
):
    client = login(staff)
    client.get(reverse("credits"), {"account": account_a.slug})
    response = client.post(
        reverse("credits"),
        {"operation": "grant", "amount": "250000", "reason": "annual contract", "confirm": "on"},
    )
    assert response.status_code == 302
    assert ledger.balance_of(account_a) == Decimal("250100.00")
    body = client.get(reverse("credits")).content.decode()
    assert '<strong id="balance">250,100.00</strong>' in body
    assert "250,000.00" in body  # the ledger line
