"""Logging in and out, and the navigation each role gets."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wrong_password_shows_an_error_beside_the_form(
    page, live_server, team, console_errors, shot
):
    page.goto(f"{live_server.url}/login/")
    page.fill('input[name="username"]', "alice")
    page.fill('input[name="password"]', "wrong")
    page.click('button[type="submit"]')
    assert page.locator(".error").first.is_visible()
    shot("login")
    assert console_errors == []


def test_each_role_sees_only_the_links_it_may_use(page, login, team, console_errors):
    login("alice")
    admin_links = page.locator("nav.nav a").all_inner_texts()
    page.click("text=Log out")
    login("victor")
    viewer_links = page.locator("nav.nav a").all_inner_texts()
    assert "API keys" not in viewer_links
    assert "Playground" not in viewer_links
    assert set(viewer_links) <= set(admin_links)
    assert console_errors == []


def test_a_page_needs_a_login(page, live_server, db):
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
