"""The threshold what-if in the real browser: live replay over htmx, then apply (alice)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from billing.accounts import stored_thresholds
from tests.factories import synthetic_runs

pytestmark = pytest.mark.django_db(transaction=True)


def _count(page, element_id: str) -> int:
    return int(page.locator(f"#{element_id}").inner_text().replace(",", ""))


def test_alice_tries_stricter_thresholds_and_applies_them(
    page, live_server, login, team, console_errors, shot
):
    synthetic_runs(SimpleNamespace(account=team["account"], project=team["project"]), 300)
    page.set_viewport_size({"width": 1440, "height": 900})
    login("alice")
    page.click("nav.nav >> text=What-if")
    expect(page.locator("h1")).to_have_text("Threshold what-if")
    expect(page.locator("#whatif-runs")).to_have_text("300")
    expect(page.locator('[data-figure="fig-whatif-outcomes"][data-drawn="true"]')).to_be_visible()
    passed_before = _count(page, "whatif-pass")

    page.select_option('#whatif-form select[name="tradeoff_mode"]', "strict")
    page.fill('#whatif-form input[name="overall_score"]', "7.5")
    page.fill('#whatif-form input[name="threshold_safety"]', "8.5")
    page.locator('#whatif-form input[name="threshold_safety"]').blur()
    expect(page.locator("#whatif-pass")).not_to_have_text(str(passed_before))
    expect(page.locator('[data-figure="fig-whatif-credits"][data-drawn="true"]')).to_be_visible()
    assert _count(page, "whatif-pass") < passed_before
    assert "tradeoff_mode=strict" in page.url  # the URL keeps the what-if
    shot("what-if")

    page.fill('#whatif-form input[name="weight_safety"]', "30")
    page.locator('#whatif-form input[name="weight_safety"]').blur()
    expect(page.locator("#whatif-results [role=alert]")).to_contain_text("sum to 100")
    page.fill('#whatif-form input[name="weight_safety"]', "")
    page.locator('#whatif-form input[name="weight_safety"]').blur()
    expect(page.locator("#whatif-apply")).to_be_visible()

    page.click("#whatif-apply")
    expect(page.locator("#whatif-results")).to_contain_text("now uses these thresholds")
    team["project"].refresh_from_db()
    applied = stored_thresholds(team["project"])
    assert applied.tradeoff_mode == "strict"
    assert applied.overall_score == 7.5
    assert applied.dimensions == {"safety": 8.5}

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#whatif-runs")).to_have_text("300")
    shot("what-if-phone")
    assert console_errors == []


def test_bob_replays_but_cannot_apply(page, live_server, login, team, console_errors):
    synthetic_runs(SimpleNamespace(account=team["account"], project=team["project"]), 20)
    login("bob")
    page.click("nav.nav >> text=What-if")
    expect(page.locator("#whatif-runs")).to_have_text("20")
    expect(page.locator("#whatif-apply")).to_have_count(0)
    assert console_errors == []
