"""Issue 13 in the real browser: the usage chart at one day and at ninety, the ledger one
line per run, how a non-staff admin gets more credits, and a key's monthly budget."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import expect

from billing import ledger
from billing.models import APIKey
from regen import runs, service
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)


def fits_the_screen(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} is {width}px wide on a {inner}px screen"


def bar_width(page) -> float:
    box = page.locator(".chart .bars .point path").first.bounding_box()
    assert box is not None
    return float(box["width"])


def make_runs(team, n: int) -> list:
    caller = runs.Caller(account=team["account"], project=team["project"], user=team["alice"])
    made = []
    for _ in range(n):
        request = service.prepare(caller, {"content": HEALTHCARE, "domain": "healthcare"})
        made.append(runs.run_safe_regenerate(caller=caller, request=request))
    return made


def test_alice_reads_one_line_per_run_opens_it_and_switches_the_period(
    page, live_server, login, team, console_errors, shot, settings
):
    settings.RAIL_BILLING_CONTACT = "billing@example.org"
    made = make_runs(team, 3)  # one day of usage: today
    page.set_viewport_size(DESKTOP)
    login("alice")
    page.goto(f"{live_server.url}/credits/")
    expect(page.locator(".chart .bars .point")).to_have_count(1)
    assert bar_width(page) >= 10  # was 1 px: plotly's default width for a lone date bar
    lines = page.locator("#ledger .ledger-line")
    expect(lines).to_have_count(4)  # three runs and the account's first grant, not 10 rows
    newest = lines.first
    expect(newest).to_contain_text("Safe regeneration")
    expect(newest.locator("a", has_text="Safe regeneration")).to_have_attribute(
        "href", f"/runs/{made[-1].id}/"
    )
    expect(newest.locator(".ledger-entries")).to_be_hidden()
    newest.locator("summary .toggle").click()
    expect(newest.locator(".ledger-entries")).to_be_visible()
    expect(newest.locator(".ledger-entries tbody tr")).to_have_count(3)  # hold, charge, release
    panel = page.locator("#more-credits")
    expect(panel).to_contain_text("How to get more credits")
    expect(panel.locator("a", has_text="billing@example.org")).to_have_attribute(
        "href",
        "mailto:billing@example.org?subject=More%20credits%20for%20Acme%20Health%20"
        f"%28{team['account'].slug}%29",
    )
    shot("credits")

    page.click(".periods >> text=90 days")
    expect(page).to_have_url(f"{live_server.url}/credits/?days=90")
    expect(page.locator("#usage h2")).to_have_text("Usage, last 90 days")
    expect(page.locator(".chart .bars .point")).to_have_count(1)
    assert bar_width(page) >= 3
    expect(lines).to_have_count(4)  # the swap left the ledger alone
    shot("credits-90-days")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/credits/")
    expect(page.locator(".chart .main-svg").first).to_be_attached()
    page.locator("#ledger .ledger-line summary .toggle").first.click()
    fits_the_screen(page)
    shot("credits-phone")
    assert console_errors == []


def test_staff_get_the_grant_form_and_reviewers_and_viewers_no_credits_page(
    page, live_server, login, team
):
    UserFactory(username="sam", is_staff=True, password="correct horse battery staple")
    login("sam")
    page.goto(f"{live_server.url}/credits/?account={team['account'].slug}")
    expect(page.locator("text=Grant or adjust")).to_be_visible()
    expect(page.locator("#more-credits")).to_have_count(0)
    page.set_viewport_size(PHONE)
    page.reload()
    fits_the_screen(page)
    for name in ("bob", "victor"):
        page.context.clear_cookies()
        login(name)
        for path in ("/credits/", "/keys/"):
            assert page.goto(f"{live_server.url}{path}").status == 403


def test_a_budget_set_on_the_keys_page_stops_the_key_with_402_and_shows_its_use(
    page, live_server, login, team, console_errors, shot
):
    key = team["key"]
    page.set_viewport_size(DESKTOP)
    login("alice")
    page.goto(f"{live_server.url}/keys/")
    row = page.locator(f"#key-{key.pk}")
    expect(row).to_contain_text("no budget")
    row.locator("summary", has_text="Set a budget").click()
    row.locator('input[name="monthly_credit_budget"]').fill("5")
    row.locator("button", has_text="Save").click()
    expect(page.locator("#keys-panel .messages")).to_contain_text("5.00 credits a month")
    assert APIKey.objects.get(pk=key.pk).monthly_credit_budget == Decimal("5")

    headers = {"Authorization": f"Bearer {key.raw}"}
    for n in range(5):  # five basic evaluations: one credit each
        answer = httpx.post(
            f"{live_server.url}/railscore/v1/eval",
            json={"content": f"Exercise improves cardiovascular health, study {n}."},
            headers=headers,
        )
        assert answer.status_code == 200
    balance = ledger.balance_of(team["account"])
    refused = httpx.post(
        f"{live_server.url}/railscore/v1/eval",
        json={"content": "Exercise improves cardiovascular health, one more study."},
        headers=headers,
    )
    assert refused.status_code == 402
    body = refused.json()
    assert body["code"] == "KEY_BUDGET_EXCEEDED"
    assert body["details"]["budget"] == 5.0
    assert body["details"]["spent"] == 5.0
    assert ledger.balance_of(team["account"]) == balance

    page.reload()
    row = page.locator(f"#key-{key.pk}")
    expect(row.locator(".budget .use")).to_have_text("5.00 of 5.00 this month")
    expect(row.locator("meter")).to_have_attribute("value", "100")
    shot("api-keys-budget")
    page.set_viewport_size(PHONE)
    page.reload()
    fits_the_screen(page)
    shot("api-keys-budget-phone")

    page.fill('input[name="name"]', "nightly job")
    page.fill("#id_monthly_credit_budget", "250")
    page.click("text=Create key")
    expect(page.locator(".key-created")).to_contain_text("It may spend 250.00 credits a month.")
    fits_the_screen(page)
    assert APIKey.objects.get(name="nightly job").monthly_credit_budget == Decimal("250")
    assert console_errors == []
