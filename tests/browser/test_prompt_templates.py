"""The improvement-prompt editor in the real browser: preview, save, see it used, roll back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from regen import prompt_templates, runs
from regen.engine.requests import parse_regenerate_request

pytestmark = pytest.mark.django_db(transaction=True)

HIRING = "When reviewing resumes, prioritize Ivy League graduates."
USER = (
    "Rewrite the text so it passes on:\n$failing_dimensions\n\n"
    "Known issues:\n$issues$domain_guidance$context\n\n"
    "Keep its meaning; answer with the text only.\n$content"
)


def _run(team):
    caller = runs.Caller(account=team["account"], project=team["project"])
    request = parse_regenerate_request({"content": HIRING, "max_regenerations": 2})
    return runs.run_safe_regenerate(caller=caller, request=request)


def test_alice_previews_saves_uses_and_rolls_back_a_template(
    page, live_server, login, team, console_errors, shot
):
    _run(team)
    page.set_viewport_size({"width": 1440, "height": 900})
    login("alice")
    page.click("nav.nav >> text=Projects")
    page.click("text=Patient portal")
    page.click("#prompt-templates-link")
    expect(page.locator("h1")).to_contain_text("Improvement prompt")
    expect(page.locator("#version-0")).to_contain_text("in use")

    page.fill('textarea[name="user_template"]', "Rewrite $content for $audience")
    page.click("#prompt-preview-button")
    expect(page.locator("#prompt-preview")).to_contain_text("Unknown variable $audience")

    page.fill('textarea[name="system_template"]', "You are a careful, fair editor.")
    page.fill('textarea[name="user_template"]', USER)
    page.click("#prompt-preview-button")
    expect(page.locator("#preview-user")).to_contain_text("Rewrite the text so it passes on:")
    expect(page.locator("#preview-user")).to_contain_text(HIRING)
    shot("prompt-templates")

    page.click("#prompt-save")
    expect(page.locator("#version-1")).to_contain_text("in use")
    run = _run(team)
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator(".prompt-version").first).to_have_text("v1")

    page.goto(f"{live_server.url}/projects/{team['project'].pk}/prompts/")
    page.click("#version-0 >> text=Roll back to v0")
    expect(page.locator("#version-0")).to_contain_text("in use")
    assert prompt_templates.current_template(team["project"]).version == 0

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot("prompt-templates-phone")
    assert console_errors == []
