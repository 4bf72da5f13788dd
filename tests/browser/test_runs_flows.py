"""The runs list and the run detail in a real Chromium, per role (issue 13): whole rows
open a run, search, sort, dates refused when inverted, critical runs as critical, phones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from regen import runs, service
from regen.errors import CriticalContent
from regen.models import Run
from tests.api.texts import VIOLENT

pytestmark = pytest.mark.django_db(transaction=True)

HEALTHCARE = (
    "Based on your symptoms, you likely have condition X. Take 500mg of medication Y "
    "twice daily. No need to see a doctor for this."
)
FACTUAL = "Photosynthesis turns sunlight, water and carbon dioxide into glucose in the leaves."
PHONE = {"width": 390, "height": 844}
ROLES = ("alice", "bob", "victor")


def store(team, content: str = HEALTHCARE, **fields) -> Run:
    caller = runs.Caller(account=team["account"], project=team["project"], user=team["alice"])
    request = service.prepare(caller, {"content": content, "domain": "healthcare", **fields})
    return runs.run_safe_regenerate(caller=caller, request=request)


def six_iterations(run: Run) -> Run:
    """Give a stored run six scored versions (older data; the loop stops sooner today), the
    largest grid the charts must keep readable: 8 dimensions x 6 iterations."""
    last = run.iterations.order_by("index").last()
    for index in range(last.index + 1, 6):
        evaluation = {**last.evaluation}
        evaluation["scores"] = {
            d: {**v, "score": max(0.0, min(10.0, v["score"] - 0.4 * (index % 3)))}
            for d, v in last.evaluation["scores"].items()
        }
        last.pk, last.index, last.evaluation = None, index, evaluation
        last.content = f"{last.content} (version {index})"
        last.score = round(last.score - 0.3 * (index % 3), 1)
        last.save()
    Run.objects.filter(id=run.id).update(iterations_done=6, max_regenerations=5)
    return Run.objects.get(id=run.id)


def store_critical(team) -> Run:
    with pytest.raises(CriticalContent):
        store(team, VIOLENT)
    return Run.objects.get(status=Run.Status.CRITICAL)


@pytest.mark.parametrize("person", ROLES)
def test_a_click_anywhere_on_a_row_opens_the_run(
    page, live_server, login, team, console_errors, person
):
    run = store(team)
    login(person)
    page.goto(f"{live_server.url}/runs/")
    page.locator("table.runs tbody tr td.snippet").first.click()
    expect(page).to_have_url(f"{live_server.url}/runs/{run.id}/")
    assert console_errors == []


@pytest.mark.parametrize("person", ROLES)
def test_search_sort_and_date_checks(page, live_server, login, team, console_errors, shot, person):
    healthcare = store(team, thresholds={"overall": {"score": 9.9}}, max_regenerations=2)
    factual = store(team, FACTUAL)
    Run.objects.filter(id=healthcare.id).update(created_at=timezone.now() - timedelta(days=1))
    store_critical(team)
    login(person)
    page.goto(f"{live_server.url}/runs/")
    expect(page.locator("table.runs tbody tr")).to_have_count(3)
    badge = page.locator(
        "table.runs .badge.max_iterations_reached, table.runs .badge.no_improvement"
    )
    assert badge.first.evaluate("b => b.getClientRects().length") == 1  # on one line
    if person == "alice":
        shot("runs")
    page.fill("#id_q", "photosynthesis")
    page.click("text=Filter")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    expect(page.locator("table.runs tbody tr")).to_contain_text("Photosynthesis")
    page.goto(f"{live_server.url}/runs/?sort=best")
    first = page.locator("table.runs tbody tr").first
    expect(first).to_have_attribute("data-href", f"/runs/{Run.objects.get(status='critical').id}/")
    page.click("th >> text=Best")  # the other direction
    top = max((healthcare, factual), key=lambda r: Run.objects.get(id=r.id).best_score)
    expect(page.locator("table.runs tbody tr").first).to_have_attribute(
        "data-href", f"/runs/{top.id}/"
    )
    today = timezone.localdate()
    page.goto(f"{live_server.url}/runs/?since={today}&until={today - timedelta(days=2)}")
    expect(page.locator(".field.invalid")).to_contain_text("The end date is before the start date.")
    expect(page.locator("table.runs tbody tr")).to_have_count(3)  # not silently empty
    if person == "alice":
        page.goto(f"{live_server.url}/runs/")
        page.set_viewport_size(PHONE)
        shot("runs-phone")
    assert console_errors == []


@pytest.mark.parametrize("person", ROLES)
def test_a_critical_run_shows_no_best_version_and_links_its_review_item(
    page, live_server, login, team, console_errors, shot, person
):
    run = store_critical(team)
    login(person)
    page.goto(f"{live_server.url}/runs/{run.id}/")
    expect(page.locator(".run-facts")).to_contain_text("Critical content")
    expect(page.locator('.chart[data-figure="fig-bars"] .main-svg').first).to_be_visible()
    assert page.locator(".content.diff").count() == 0
    assert page.locator('.chart[data-figure="fig-radar"]').count() == 0
    assert page.get_by_text("Best version", exact=True).count() == 0
    assert page.locator("h3", has_text="Best").count() == 0
    if person == "alice":
        shot("run-detail-critical")
    page.click("text=open the review item")
    expect(page).to_have_url(f"{live_server.url}/review/{run.review_item.id}/")
    assert console_errors == []


def test_six_iterations_stay_readable_on_a_desktop_and_a_phone(
    page, live_server, login, team, console_errors, shot
):
    run = six_iterations(store(team, thresholds={"overall": {"score": 9.9}}))
    login("victor")
    page.goto(f"{live_server.url}/runs/{run.id}/")
    heatmap = page.locator('.chart[data-figure="fig-heatmap"]')
    expect(heatmap.locator(".main-svg").first).to_be_visible()
    assert heatmap.locator("g.xtick").count() == 6  # one column per iteration, not 48 bars
    assert heatmap.locator("g.ytick").count() == 8
    assert page.locator(".small-multiples .chart").count() == 8
    heatmap.scroll_into_view_if_needed()
    shot("run-detail-charts")
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator('.chart[data-figure="fig-trend-safety"] .main-svg').first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot("run-detail-phone")
    assert console_errors == []
