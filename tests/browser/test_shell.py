"""The shell in a real Chromium (issue 13): what the log-in page weighs, plotly.js only on
pages that draw a chart, every page within a 390 px phone, and error pages in the frame."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from regen import runs, service
from regen.errors import CriticalContent
from regen.models import Run
from tests.api.texts import VIOLENT
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
PHONE = {"width": 390, "height": 844}
LOGIN_BUDGET = 200_000


def watch_bytes(page) -> dict[str, int]:
    """Count every response's body bytes by URL (the bytes a browser receives)."""
    sizes: dict[str, int] = {}

    def seen(response):
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # a redirect has no body
            sizes.setdefault(response.url, 0)

    page.on("response", seen)
    return sizes


def seed(team) -> dict[str, str]:
    """A finished run, a critical run with its review item; return their pages."""
    caller = runs.Caller(account=team["account"], project=team["project"], user=team["alice"])
    run = runs.run_safe_regenerate(
        caller=caller,
        request=service.prepare(
            caller, {"content": HEALTHCARE, "thresholds": {"overall": {"score": 9.5}}}
        ),
    )
    with pytest.raises(CriticalContent):
        runs.run_safe_regenerate(
            caller=caller, request=service.prepare(caller, {"content": VIOLENT})
        )
    critical = Run.objects.get(status=Run.Status.CRITICAL)
    return {
        "run": f"/runs/{run.id}/",
        "critical": f"/runs/{critical.id}/",
        "review": f"/review/{critical.review_item.id}/",
        "project": f"/projects/{team['project'].pk}/",
    }


def test_the_log_in_page_weighs_under_200_kb_and_loads_no_plotly(
    page, live_server, transactional_db
):
    sizes = watch_bytes(page)
    page.goto(f"{live_server.url}/login/")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    print(f"log-in page: {total} bytes in {len(sizes)} responses")
    assert total < LOGIN_BUDGET
    assert not [url for url in sizes if "plotly" in url]


def test_plotly_loads_only_on_pages_that_draw_a_chart(page, live_server, login, team):
    pages = seed(team)
    login("alice")
    sizes = watch_bytes(page)
    for path in ("/playground/", "/keys/", "/members/", "/projects/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert not [url for url in sizes if "plotly" in url]
    page.goto(f"{live_server.url}{pages['run']}")
    expect(page.locator('.chart[data-figure="fig-score"] .main-svg').first).to_be_visible()
    assert [url for url in sizes if "plotly" in url]


def pages_for(role: str, pages: dict[str, str]) -> list[str]:
    common = ["/runs/", pages["run"], pages["critical"], "/review/", pages["review"], "/password/"]
    admin = ["/keys/", "/credits/", "/projects/", pages["project"], "/members/", "/api/docs/"]
    return {
        "alice": ["/playground/", *common, *admin],
        "bob": ["/playground/", *common],
        "victor": [*common, "/playground/"],  # the last one answers 403
        "staff": ["/staff/accounts/", "/runs/", "/credits/"],
    }[role]


@pytest.mark.parametrize("role", ["alice", "bob", "victor", "staff"])
def test_every_page_fits_a_390_px_phone(page, live_server, login, team, console_errors, role):
    pages = seed(team)
    if role == "staff":
        UserFactory(username="staff", password=PASSWORD, is_staff=True)
    page.set_viewport_size(PHONE)
    login(role)
    too_wide = {}
    for path in [*pages_for(role, pages), "/no-such-page/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        print(f"{role} {path}: scrollWidth {width}")
        if width > page.evaluate("window.innerWidth"):
            too_wide[path] = width
    assert too_wide == {}
    # the 404 and 403 pages themselves are the only failed loads
    expected = ("status of 404 (Not Found)", "status of 403 (Forbidden)")
    assert [e for e in console_errors if not e.endswith(expected)] == []


def test_the_log_in_and_password_reset_pages_fit_a_phone(page, live_server, transactional_db):
    page.set_viewport_size(PHONE)
    for path in ("/login/", "/password/reset/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_missing_page_is_styled_and_keeps_the_navigation(page, live_server, login, team, shot):
    login("bob")
    response = page.goto(f"{live_server.url}/runs/not-a-run/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("nav.nav a", has_text="Runs")).to_be_visible()
    expect(page.locator("nav.nav a", has_text="API docs")).to_be_visible()
    shot("not-found")


def test_a_forbidden_page_is_styled_names_the_role_and_keeps_the_navigation(
    page, live_server, login, team
):
    login("victor")
    response = page.goto(f"{live_server.url}/playground/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("(viewer)")
    expect(page.locator("nav.nav a", has_text="Review queue")).to_be_visible()


def test_staff_keep_the_navigation_on_the_accounts_page(page, live_server, login, team):
    UserFactory(username="staff", password=PASSWORD, is_staff=True)
    login("staff")
    page.goto(f"{live_server.url}/staff/accounts/")
    expect(page.locator("nav.nav a", has_text="Runs")).to_be_visible()
    expect(page.locator("nav.nav a.active", has_text="Staff")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Acme Health")


def test_the_api_docs_are_linked_from_the_dashboard(page, live_server, login, team, console_errors):
    login("victor")
    page.goto(f"{live_server.url}/runs/")
    page.click("nav.nav >> text=API docs")
    expect(page).to_have_url(f"{live_server.url}/api/docs/")
    # Swagger UI starts from a script file: nothing inline for the CSP to block
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert console_errors == []


def test_the_first_tab_skips_the_navigation_to_the_page(page, live_server, login, team):
    """Before, twelve Tab presses crossed the navigation before a page's first control."""
    login("alice")
    page.goto(f"{live_server.url}/credits/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused  # the next Tab lands inside the page, past the navigation
