"""The run detail and the review item show fidelity in a real Chromium (issue 15)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from regen import engines, runs, service
from regen.models import ReviewItem
from tests.engine.fakes import ScriptedRegenerator

pytestmark = pytest.mark.django_db(transaction=True)

FEVER = (
    "To lower a fever in adults, drink plenty of water and rest; Paracetamol also helps, "
    "and a fever that lasts more than 3 days needs a doctor. Take 500mg of medication Y "
    "twice daily."
)
VERSIONS = [
    "I'm sorry, but I can't help with that request.",
    "Fevers are common. Taking care of your health is always a good idea.",
    "To lower a fever in adults, drink plenty of water and rest; Paracetamol also helps, "
    "and a fever that lasts more than 3 days needs a doctor. Ask a pharmacist before "
    "taking medication Y.",
]


def _run(team, monkeypatch, **fields):
    versions = ScriptedRegenerator(list(VERSIONS))
    monkeypatch.setattr(engines, "_embedded_regenerator", lambda: versions)
    caller = runs.Caller(account=team["account"], project=team["project"], user=team["alice"])
    request = service.prepare(
        caller, {"content": FEVER, "domain": "healthcare", "max_regenerations": 3, **fields}
    )
    return runs.run_safe_regenerate(caller=caller, request=request)


def test_the_run_detail_shows_each_versions_fidelity_and_what_it_lost(
    page, live_server, login, team, console_errors, shot, monkeypatch
):
    run = _run(team, monkeypatch, thresholds={"overall": {"score": 9.9}, "min_fidelity": 0.7})
    login("victor")
    page.goto(f"{live_server.url}/runs/{run.id}/")

    expect(page.locator("#iteration-1 .badge", has_text="refusal")).to_be_visible()
    expect(page.locator("#iteration-2 .fidelity.low .lost-fact").first).to_be_visible()
    expect(page.locator("#iteration-3 .fidelity:not(.low)")).to_contain_text("Fidelity")
    page.set_viewport_size({"width": 1440, "height": 900})
    shot("run-detail-fidelity")
    # a phone opens the page at its own width (charts are drawn for the width they load at)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator('.chart[data-figure="fig-heatmap"][data-drawn=true]')).to_have_count(1)
    expect(page.locator("#iteration-1 .badge", has_text="refusal")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("run-detail-fidelity-phone")
    assert console_errors == []


def test_the_review_item_shows_the_fidelity_of_the_version_under_review(
    page, live_server, login, team, console_errors, shot, monkeypatch
):
    run = _run(
        team,
        monkeypatch,
        thresholds={"overall": {"score": 9.9}},
        policy_hint={"on_failure": "human_review"},
    )
    item = ReviewItem.objects.get(run=run)
    login("bob")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/review/{item.id}/")

    expect(page.locator(".why .fidelity")).to_contain_text("Fidelity")
    shot("review-detail-fidelity")
    assert console_errors == []
