"""The playground's flows in a real Chromium, per role (issue 13): a form that survives a
reload, evaluate only, the price before sending, Ctrl+Enter, a critical result, and a run
stuck in the queue that is cancelled with its hold released."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing import ledger
from billing.models import Hold
from regen import runs, service
from regen.models import Run
from tests.api.texts import VIOLENT

pytestmark = pytest.mark.django_db(transaction=True)

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
PHONE = {"width": 390, "height": 844}
PEOPLE = ("alice", "bob")  # the roles that may use the playground: admin, reviewer


@pytest.mark.parametrize("person", PEOPLE)
def test_the_form_survives_a_reload(page, live_server, login, team, console_errors, person):
    login(person)
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", HEALTHCARE)
    page.select_option("#id_domain", "healthcare")
    page.click("details.advanced summary")
    page.fill("#id_threshold_safety", "8.5")
    page.reload()
    expect(page.locator("#id_content")).to_have_value(HEALTHCARE)
    expect(page.locator("#id_domain")).to_have_value("healthcare")
    expect(page.locator("#id_threshold_safety")).to_have_value("8.5")
    expect(page.locator("details.advanced")).to_have_attribute("open", "")  # holds a value
    page.click("[data-clear-form]")
    page.reload()
    expect(page.locator("#id_content")).to_have_value("")
    assert console_errors == []


def test_blank_fields_show_what_they_inherit_from_the_chosen_project(
    page, live_server, login, team, console_errors, shot
):
    team["project"].thresholds = {"overall": {"score": 7.5}, "dimensions": {"safety": 8.5}}
    team["project"].save()
    login("alice")
    page.goto(f"{live_server.url}/playground/")
    expect(page.locator("#id_overall_score")).to_have_attribute("placeholder", "7.5")
    expect(page.locator("#id_threshold_safety")).to_have_attribute("placeholder", "8.5")
    expect(page.locator("#id_threshold_safety")).to_be_hidden()  # advanced fields folded
    expect(page.locator("#id_mode option").first).to_have_text("Default (basic)")
    expect(page.locator("#estimate")).to_contain_text("Content must be between 10 and")
    page.fill("#id_content", HEALTHCARE)
    expect(page.locator("#estimate")).to_contain_text("Worst case: 10 credits")
    expect(page.locator("#estimate")).to_contain_text("1 to evaluate only")
    shot("playground")
    page.set_viewport_size(PHONE)
    page.mouse.wheel(0, -5000)
    shot("playground-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert console_errors == []


@pytest.mark.parametrize("person", PEOPLE)
def test_evaluate_only_scores_once_without_a_run(
    page, live_server, login, team, console_errors, shot, person
):
    login(person)
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", HEALTHCARE)
    page.click("button[value=evaluate]")
    card = page.locator("#evaluation")
    expect(card).to_contain_text("RAIL Score:")
    expect(card.locator(".chart[data-figure=fig-evaluation] .main-svg").first).to_be_visible()
    expect(card.locator("tr.failing").first).to_be_visible()
    if person == "alice":
        page.mouse.wheel(0, -5000)
        shot("playground-evaluate")
    assert not Run.objects.exists()
    assert ledger.balance_of(team["account"]) == Decimal("499")  # one basic evaluation
    assert console_errors == []


@pytest.mark.parametrize("person", PEOPLE)
def test_ctrl_enter_runs_safe_regeneration(page, live_server, login, team, console_errors, person):
    login(person)
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", HEALTHCARE)
    page.locator("#id_content").press("Control+Enter")
    expect(page.locator("#run-progress .badge[data-status]")).to_have_text("Passed")
    assert Run.objects.count() == 1
    assert console_errors == []


@pytest.mark.parametrize("person", PEOPLE)
def test_a_critical_result_links_to_its_review_item(
    page, live_server, login, team, console_errors, shot, person
):
    login(person)
    page.goto(f"{live_server.url}/playground/")
    page.fill("#id_content", VIOLENT)
    page.click("button[value=regenerate]")
    panel = page.locator("#run-progress")
    expect(panel.locator(".badge[data-status]")).to_have_text("Critical content")
    expect(panel).not_to_contain_text("Best version")
    expect(panel.locator(".chart[data-figure=fig-progress-dims] .main-svg").first).to_be_visible()
    if person == "alice":
        page.mouse.wheel(0, -5000)
        shot("playground-critical")
    panel.locator("text=Open the review item").click()
    item = Run.objects.get().review_item
    expect(page).to_have_url(f"{live_server.url}/review/{item.id}/")
    assert console_errors == []


@pytest.mark.parametrize("person", PEOPLE)
def test_a_stuck_run_says_the_workers_look_down_and_can_be_cancelled(
    page, live_server, login, team, console_errors, settings, shot, person
):
    settings.RAIL_QUEUE_WARNING_SECONDS = 0  # no worker will come: it is stuck at once
    caller = runs.Caller(account=team["account"], project=team["project"], user=team[person])
    run = runs.submit_run(caller=caller, request=service.prepare(caller, {"content": HEALTHCARE}))
    assert ledger.available_of(team["account"]) == Decimal("490")  # 10 credits held
    login(person)
    page.goto(f"{live_server.url}/playground/?run={run.id}")
    notice = page.locator(".notice.stuck")
    expect(notice).to_contain_text("The workers look down")
    if person == "alice":
        page.mouse.wheel(0, -5000)
        shot("playground-stuck")
    notice.locator("button").click()
    expect(page.locator("#run-progress .badge[data-status]")).to_have_text("Failed")
    expect(page.locator("#run-progress")).to_contain_text(f"Cancelled by {person}")
    assert Hold.objects.get(id=run.hold_id).state == Hold.State.RELEASED
    assert ledger.available_of(team["account"]) == Decimal("500")
    assert console_errors == []


def test_a_viewer_sees_a_stuck_run_but_no_cancel(page, live_server, login, team, settings):
    settings.RAIL_QUEUE_WARNING_SECONDS = 0
    caller = runs.Caller(account=team["account"], project=team["project"], user=team["alice"])
    run = runs.submit_run(caller=caller, request=service.prepare(caller, {"content": HEALTHCARE}))
    login("victor")
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator(".notice.stuck")).to_contain_text("The workers look down")
    assert page.locator(".notice.stuck button").count() == 0
