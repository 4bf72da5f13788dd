"""API keys, credits and projects in the real browser, against the live server."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing import ledger
from billing.models import APIKey, Project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

XSS_NAMES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture
def confirming(page):
    """Accept every confirm() (recording its text) and collect console errors."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    confirms: list[str] = []
    page.on("dialog", lambda dialog: (confirms.append(dialog.message), dialog.accept()))
    page.confirms = confirms
    return errors


def verify(live_server, raw_key: str) -> int:
    response = httpx.post(
        f"{live_server.url}/verify", headers={"Authorization": f"Bearer {raw_key}"}
    )
    return response.status_code


def test_alice_creates_a_key_copies_it_uses_it_and_revokes_it(
    page, live_server, login, team, confirming, shot
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login("alice")
    page.click("nav.nav >> text=API keys")
    expect(page.locator("h1")).to_have_text("API keys")
    shot("api-keys")

    page.fill('input[name="name"]', "Claims worker")
    page.select_option('select[name="project"]', label="Patient portal (production)")
    page.click("text=Create key")
    secret = page.locator("#new-key")
    expect(secret).to_be_visible()
    raw = secret.input_value()
    assert raw.startswith("rail_")
    page.click('[data-copy="new-key"]')
    expect(page.locator('[data-copy="new-key"]')).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == raw
    shot("api-key-created")

    assert verify(live_server, raw) == 200
    page.reload()  # the secret is never shown again
    assert raw not in page.content()
    row = page.locator("tr", has_text="Claims worker")
    expect(row.locator(".badge")).to_have_text("active")

    row.locator("text=Revoke").click()
    expect(page.locator("#keys-panel .messages")).to_contain_text("is revoked")
    assert page.confirms
    assert "Claims worker" in page.confirms[0]
    expect(page.locator("tr", has_text="Claims worker").locator(".badge")).to_contain_text(
        "revoked"
    )
    assert verify(live_server, raw) == 401
    assert APIKey.objects.get(name="Claims worker").revoked_at is not None
    assert confirming == []


def test_dismissing_the_confirmation_keeps_the_key(page, live_server, login, team, console_errors):
    login("alice")
    page.goto(f"{live_server.url}/keys/")
    page.locator("tr", has_text=team["key"].name).locator("text=Revoke").click()
    assert page.dialogs
    assert team["key"].name in page.dialogs[0]
    assert verify(live_server, team["key"].raw) == 200
    assert console_errors == []


def test_a_reviewer_cannot_open_the_keys_or_credits_pages(
    page, live_server, login, team, console_errors
):
    login("bob")
    links = page.locator("nav.nav a").all_inner_texts()
    assert "API keys" not in links
    assert "Credits" not in links
    assert "Projects" not in links
    for path in ("/keys/", "/credits/", "/projects/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403
        expect(page.locator("h1")).to_have_text("Not allowed")


def _usage(account) -> None:
    """Give the account a fortnight of charges on past days, for the chart."""
    today = timezone.now()
    for day in range(14):
        with mock.patch("django.utils.timezone.now", return_value=today - timedelta(days=14 - day)):
            held = ledger.hold(
                account=account,
                amount=Decimal("10"),
                reference=f"req_demo_{day:02d}",
                memo="safe-regenerate",
            )
            ledger.settle(hold=held, used=Decimal(3 + (day * 7) % 6))


def test_the_credits_page_draws_the_usage_chart_and_filters_the_ledger(
    page, live_server, login, team, console_errors, shot
):
    _usage(team["account"])
    ledger.hold(
        account=team["account"],
        amount=Decimal("12"),
        reference="req_running",
        memo="safe-regenerate",
    )
    login("alice")
    page.click("nav.nav >> text=Credits")
    expect(page.locator(".chart .main-svg").first).to_be_attached()
    expect(page.locator("#held")).to_have_text("12.00")
    assert page.locator(".chart .main-svg .bars .point").count() == 14

    page.select_option('select[name="kind"]', "charge")
    page.click("text=Filter")
    expect(page).to_have_url(f"{live_server.url}/credits/?kind=charge&reference=")
    expect(page.locator("#ledger .ledger-line")).to_have_count(14)  # one line per charged call
    expect(page.locator("#ledger .ledger-line .badge.running")).to_have_count(0)
    assert console_errors == []


def test_alice_edits_a_policy_sees_an_error_then_saves(
    page, live_server, login, team, console_errors, shot
):
    login("alice")
    page.click("nav.nav >> text=Projects")
    expect(page.locator("table.projects")).to_contain_text("Patient portal")
    shot("projects")

    page.click("text=Patient portal")
    page.select_option('select[name="domain"]', "healthcare")
    page.fill('input[name="threshold_safety"]', "8.5")
    page.fill('input[name="weight_safety"]', "50")
    page.fill('input[name="weight_privacy"]', "40")
    page.click("text=Save policy")
    expect(page.locator("#weights_errors")).to_contain_text("Weights must sum to 100 (got 90)")
    project = Project.objects.get(pk=team["project"].pk)
    assert project.weights == {}
    assert project.domain == "general"

    page.fill('input[name="weight_fairness"]', "10")
    page.check('input[name="locked"]')
    page.click("text=Save policy")
    expect(page.locator("#policy .messages")).to_contain_text("Policy saved.")
    expect(page.locator(".api-view pre")).to_contain_text('"locked": true')
    project.refresh_from_db()
    assert project.weights == {"fairness": 10.0, "safety": 50.0, "privacy": 40.0}
    assert project.thresholds["dimensions"] == {"safety": 8.5}
    assert project.locked
    assert project.domain == "healthcare"
    page.evaluate("window.scrollTo(0, 0)")
    shot("project-edit")
    assert console_errors == []


def test_user_text_shows_as_text_and_runs_nothing(page, live_server, login, team, console_errors):
    login("alice")
    for name in XSS_NAMES:
        page.goto(f"{live_server.url}/projects/")
        page.fill('input[name="name"]', name)
        page.click("text=Create project")
        expect(page.locator("h1")).to_contain_text(name)
        page.goto(f"{live_server.url}/keys/")
        page.fill('input[name="name"]', name)
        page.select_option('select[name="project"]', label=f"{name} (production)")
        page.click("text=Create key")
        expect(page.locator("#new-key")).to_be_visible()
        ledger.grant(account=team["account"], amount=1, memo=name)
    for path in ("/keys/", "/projects/", "/credits/"):
        page.goto(f"{live_server.url}{path}")
        for name in XSS_NAMES:
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
    project = Project.objects.get(name=XSS_NAMES[1])
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.locator("h1")).to_contain_text(XSS_NAMES[1])
    assert page.locator("img[src=x]").count() == 0
    assert page.dialogs == []
    assert console_errors == []


def test_staff_grant_credits_with_a_reason_and_see_errors_beside_the_fields(
    page, live_server, login, team, console_errors, shot
):
    UserFactory(username="sam", is_staff=True)
    login("sam")
    page.goto(f"{live_server.url}/credits/?account={team['account'].slug}")
    page.select_option('select[name="operation"]', "grant")
    page.fill('input[name="amount"]', "-5")
    page.fill('input[name="reason"]', "goodwill")
    page.click("text=Apply")
    expect(page.locator("#id_amount_errors")).to_contain_text("must not be negative")
    assert ledger.balance_of(team["account"]) == Decimal("500.00")
    shot("credits-staff-grant-error")

    page.fill('input[name="amount"]', "25")
    page.click("text=Apply")
    expect(page.locator(".messages")).to_contain_text("balance now 525.00")
    expect(page.locator("#balance")).to_have_text("525.00")
    expect(page.locator("#ledger .ledger-line").first).to_contain_text("goodwill")
    assert console_errors == []


def test_an_admin_manages_members_in_the_browser(page, live_server, login, team, shot):
    login("alice")
    page.goto(f"{live_server.url}/members/")
    page.fill("#id_email", "new.reviewer@example.org")
    page.select_option("#id_role", "reviewer")
    page.click("text=Send the invitation")
    expect(page.locator(".messages")).to_contain_text("Invited new.reviewer@example.org")
    expect(page.locator("table.members")).to_contain_text("new.reviewer@example.org")
    shot("members")
