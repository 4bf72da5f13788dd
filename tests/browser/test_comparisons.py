"""The regenerator A/B in the real browser: alice chooses the arms, prices, starts, watches
the report fill in over htmx polling, and opens a pair side by side (desktop and phone)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from regen import comparisons, prompt_templates, runs
from regen.engine.requests import parse_regenerate_request
from regen.models import Comparison

pytestmark = pytest.mark.django_db(transaction=True)

INPUTS = (
    "When reviewing resumes, prioritize Ivy League graduates.",
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y twice "
    "daily. No need to see a doctor for this.",
    "<script>alert('ab')</script> Only hire candidates under 30; older people do not fit in.",
)
USER = (
    "Rewrite the text so it passes on:\n$failing_dimensions\n\n"
    "Known issues:\n$issues$domain_guidance$context\n\n"
    "Keep every fact; answer with the text only.\n$content"
)


def _failing_runs(team):
    caller = runs.Caller(account=team["account"], project=team["project"])
    for content in INPUTS:
        request = parse_regenerate_request({"content": content, "domain": "healthcare"})
        runs.run_safe_regenerate(caller=caller, request=request)


def test_alice_prices_starts_and_reads_an_ab_report(
    page, live_server, login, team, console_errors, shot, monkeypatch
):
    _failing_runs(team)
    builtin = prompt_templates.current_template(None)
    prompt_templates.save_template(project=team["project"], system=builtin.system, user=USER)
    # the job waits for the test to run it, so the page is seen polling a queued A/B
    monkeypatch.setattr(comparisons, "_enqueue", lambda comparison: None)
    page.set_viewport_size({"width": 1440, "height": 900})
    login("alice")
    page.click("nav.nav >> text=A/B")
    expect(page.locator("h1")).to_have_text("Regenerator A/B")
    expect(page.locator("#ab-available")).to_contain_text("has 3 failing inputs")

    page.select_option("#id_challenger_model", "RAIL_Safe_LLM")
    page.select_option("#id_challenger_version", "1")
    page.select_option("#id_champion_version", "1")
    page.click("#ab-start")
    expect(page.locator("#id_challenger_model_errors")).to_contain_text("Must differ")
    assert not Comparison.objects.exists()

    page.select_option("#id_champion_version", "0")
    page.fill("#id_inputs", "50")
    page.click("#ab-price")
    expect(page.locator("#ab-priced")).to_contain_text("3 inputs × 2 arms: at most 60.00 credits")
    shot("ab-choose")

    page.click("#ab-start")
    expect(page.locator("#ab-status")).to_have_text("Queued")
    expect(page.locator("#ab-progress")).to_contain_text("0 of 3 inputs")
    comparison = Comparison.objects.get()
    assert comparison.inputs_asked == 50
    comparisons.execute_comparison(comparison.id)  # as the worker would
    expect(page.locator("#ab-status")).to_have_text("Finished")  # the poll brought it
    expect(page.locator("#ab-progress")).to_contain_text("3 of 3 inputs")
    expect(page.locator("#ab-summary")).to_contain_text("Pass rate")
    expect(page.locator("#ab-report")).not_to_have_attribute("hx-trigger", "every 1s")

    page.locator("#ab-pair-0 summary").click()  # the newest input first: the script one
    expect(page.locator("#ab-pair-0 .content.original")).to_contain_text("<script>alert('ab')")
    expect(page.locator("#ab-pair-0 .ab-champion")).to_be_visible()
    expect(page.locator("#ab-pair-0 .ab-challenger")).to_be_visible()
    shot("ab-report")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.locator("#ab-pair-0 summary").click()
    expect(page.locator("#ab-pair-0 .ab-challenger")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report is {width} px wide on a phone"
    shot("ab-report-phone")
    assert page.dialogs == []
    assert console_errors == []


def test_bob_may_run_an_ab_and_victor_may_not_see_it(page, live_server, login, team):
    login("victor")
    expect(page.locator("nav.nav >> text=A/B")).to_have_count(0)
    page.goto(f"{live_server.url}/ab/")
    expect(page.locator("h1")).not_to_have_text("Regenerator A/B")
