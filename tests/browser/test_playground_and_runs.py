"""The playground, the run detail and the runs list in a real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from regen import runs, service
from regen.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this. Email me at jane.doe@example.com."
)
# a reply around the markup that a rewrite can keep (all dosage, it would be refused, and a
# refusal is never the best version: issue 15's meaning preservation)
XSS = (
    '<script>alert(1)</script> and "><img src=x onerror=alert(1)> in a reply about your '
    "care plan. Rest and drink water. Take 500mg of Y daily."
)


def caller_for(team) -> runs.Caller:
    return runs.Caller(account=team["account"], project=team["project"], user=team["alice"])


def store_run(team, content: str = HEALTHCARE, **fields) -> Run:
    caller = caller_for(team)
    request = service.prepare(caller, {"content": content, "domain": "healthcare", **fields})
    return runs.run_safe_regenerate(caller=caller, request=request)


def test_alice_submits_content_and_watches_it_pass(
    page, live_server, login, team, console_errors, shot
):
    login("alice")
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", HEALTHCARE)
    page.select_option("#id_domain", "healthcare")
    page.click("details.advanced summary")
    page.fill("#id_threshold_safety", "8")
    page.mouse.wheel(0, -5000)  # the result panel is sticky: shoot the page from its top
    shot("playground")
    page.click("button[type=submit]")
    panel = page.locator("#run-progress")
    expect(panel.locator(".badge[data-status]")).to_have_text("Passed")
    expect(panel.locator("progress")).to_be_visible()
    expect(panel.locator(".iteration-scores li")).to_have_count(2)
    expect(panel.locator(".chart .main-svg").first).to_be_visible()
    assert panel.locator(".chart[data-drawn=true]").count() == 2
    assert "?run=" in page.url  # the panel survives a reload
    # to the top without wait_for_function, whose polling evaluates a string (the CSP
    # refuses eval when the first check fails)
    page.evaluate("window.scrollTo(0, 0)")
    shot("playground-result")
    run = Run.objects.get()
    assert run.status == "passed"
    assert run.created_by == team["alice"]
    assert console_errors == []
    assert page.dialogs == []


def test_validation_errors_show_beside_their_fields(page, live_server, login, team, console_errors):
    login("bob")
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", "short")
    page.click("details.advanced summary")
    page.fill("#id_weight_safety", "40")
    page.click("button[type=submit]")
    expect(page.locator("#id_content_error")).to_contain_text("between 10 and 10000 characters")
    expect(page.locator("#weights-error")).to_contain_text("Weights must sum to 100")
    assert Run.objects.count() == 0
    assert console_errors == []


def test_script_in_content_shows_as_text_and_opens_no_dialog(
    page, live_server, login, team, console_errors
):
    login("alice")
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", XSS)
    page.click("button[type=submit]")
    expect(page.locator("#run-progress .badge[data-status]")).not_to_have_text("Queued")
    page.click("text=Open the run detail")
    page.locator("details.texts summary").click()
    expect(page.locator(".content.original")).to_contain_text(
        '<script>alert(1)</script> and "><img src=x onerror=alert(1)>'
    )
    expect(page.locator(".content.diff")).to_contain_text("<script>alert(1)</script>")
    assert page.locator(".content img").count() == 0
    assert page.dialogs == []
    assert console_errors == []


def test_the_run_detail_shows_the_diff_and_both_charts(
    page, live_server, login, team, console_errors, shot
):
    run = store_run(team, thresholds={"overall": {"score": 9.5}})
    login("victor")
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator(".diff del").first).to_be_visible()
    expect(page.locator(".diff ins").first).to_be_visible()
    for figure in ("fig-score", "fig-heatmap", "fig-radar", "fig-trend-safety"):
        expect(page.locator(f'.chart[data-figure="{figure}"] .main-svg').first).to_be_visible()
    page.locator("#iteration-0 details.text summary").click()
    expect(page.locator("#iteration-0 mark.span").first).to_be_visible()
    page.locator("details.prompt summary").first.click()
    expect(page.locator("details.prompt pre").first).to_be_visible()
    shot("run-detail")
    assert console_errors == []
    assert page.dialogs == []


def test_the_run_detail_polls_while_running_and_reloads_when_done(
    page, live_server, login, team, console_errors
):
    caller = caller_for(team)
    run = runs.submit_run(caller=caller, request=service.prepare(caller, {"content": HEALTHCARE}))
    login("alice")
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator('#run-progress[hx-trigger="every 1s"]')).to_be_visible()
    runs.execute_run(run.id, progress=True)  # a worker finishes it meanwhile
    expect(page.locator(".content.diff")).to_be_visible(timeout=10_000)
    expect(page.locator('.chart[data-figure="fig-score"] .main-svg').first).to_be_visible()
    assert page.locator("[hx-trigger]").count() == 0
    assert console_errors == []


def test_the_runs_list_filters_and_draws_its_charts(
    page, live_server, login, team, console_errors, shot
):
    stored = [
        store_run(team),
        store_run(
            team, content="Photosynthesis turns sunlight, water and carbon dioxide into glucose."
        ),
        store_run(team, content=XSS, max_regenerations=1, thresholds={"overall": {"score": 9.9}}),
    ]
    for days_ago, run in enumerate(stored):  # spread over days, for the charts
        Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(days=days_ago))
    login("bob")
    page.goto(f"{live_server.url}/runs/")
    expect(page.locator("table.runs tbody tr")).to_have_count(3)
    for figure in ("fig-pass-rate", "fig-iterations", "fig-credits"):
        expect(page.locator(f'.chart[data-figure="{figure}"] .main-svg').first).to_be_visible()
    shot("runs")
    page.select_option("#id_status", "passed")
    page.click("text=Filter")
    expect(page.locator("table.runs tbody tr")).to_have_count(2)
    assert "status=passed" in page.url
    assert console_errors == []
    assert page.dialogs == []
