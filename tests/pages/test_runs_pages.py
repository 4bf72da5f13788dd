"""The run detail and the runs list: access, what they show, filters and query counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from regen import engines
from regen.models import Run
from tests.engine.fakes import ScriptedRegenerator
from tests.factories import APIKeyFactory, ProjectFactory
from tests.pages.conftest import HEALTHCARE, XSS

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(run: Run) -> str:
    return reverse("run-detail", args=[run.id])


def store_runs(account, project, count: int, **fields) -> list[Run]:
    """Store plain finished runs (no loop) for list tests."""
    values = {"status": Run.Status.PASSED, "iterations_done": 2, "credits_consumed": Decimal("4")}
    values.update(fields)
    return Run.objects.bulk_create(
        Run(
            account=account,
            project=project,
            request={},
            **{"original_content": f"Stored run {i} text", **values},
        )
        for i in range(count)
    )


# -- run detail ---------------------------------------------------------------------


def test_the_run_detail_shows_original_beside_best_with_a_word_diff(login, alice, make_run):
    run = make_run()
    html = login(alice).get(detail_url(run)).content.decode()
    assert 'class="content original"' in html
    assert 'class="content best"' in html
    diff = re.search(r'<div class="content diff">(.*?)</div>', html, flags=re.S).group(1)
    assert "<del>" in diff
    assert "<ins>" in diff


def test_the_run_detail_embeds_the_score_line_heatmap_small_multiples_and_radar(
    login, alice, make_run
):
    run = make_run()
    html = login(alice).get(detail_url(run)).content.decode()
    for figure in ("fig-score", "fig-heatmap", "fig-radar", "fig-trend-safety"):
        assert f'data-figure="{figure}"' in html
        assert f'<script id="{figure}" type="application/json">' in html
    assert '"name": "Threshold 7"' in html


def test_the_run_detail_shows_each_iterations_failing_dimensions_issues_and_prompt(
    login, alice, make_run
):
    run = make_run()
    html = login(alice).get(detail_url(run)).content.decode()
    first = html[html.index('id="iteration-0"') : html.index('id="iteration-1"')]
    assert '<span class="badge failed">Safety</span>' in first
    assert re.search(
        r'<mark class="span" title="[^"]*dosage[^"]*">Take 500mg of medication Y twice daily.</mark>',
        first,
    )
    assert "A medication dosage is prescribed" in first
    second = html[html.index('id="iteration-1"') :]
    assert '<details class="prompt">' in second
    assert "temperature 0.3" in second


def test_each_iteration_shows_its_own_latency_credits_and_cost(login, alice, make_run):
    run = make_run()
    run.iterations.filter(index=1).update(
        eval_latency_ms=40.31, regen_latency_ms=2.0, cost_usd=Decimal("0.001234")
    )
    credits = run.iterations.get(index=1).credits
    html = login(alice).get(detail_url(run)).content.decode()
    second = html[html.index('id="iteration-1"') :]
    figures = re.search(r"([\d.]+) ms · ([\d.]+) credits · \$([\d.]+)</span>", second)
    assert figures.group(1) == "42.3"  # eval plus regeneration latency, one decimal
    assert Decimal(figures.group(2)) == credits
    assert figures.group(3) == "0.001234"


def test_a_run_sent_to_review_links_to_its_review_item(login, alice, make_run):
    run = make_run(
        max_regenerations=1,
        thresholds={"overall": {"score": 9.9}},
        policy_hint={"on_failure": "human_review"},
    )
    html = login(alice).get(detail_url(run)).content.decode()
    assert f'href="{reverse("review-detail", args=[run.review_item.id])}"' in html


def test_a_viewer_can_open_a_run(login, victor, make_run):
    assert login(victor).get(detail_url(make_run())).status_code == 200


def test_another_accounts_run_is_not_found(login, charlie, make_run):
    assert login(charlie).get(detail_url(make_run())).status_code == 404


def test_content_is_escaped_in_the_run_detail(login, alice, make_run):
    run = make_run(content=XSS)
    html = login(alice).get(detail_url(run)).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_running_run_shows_the_polling_progress_partial(login, alice, account_a, project_a):
    run = store_runs(account_a, project_a, 1, status=Run.Status.RUNNING, iterations_done=0)[0]
    html = login(alice).get(detail_url(run)).content.decode()
    assert 'id="run-progress"' in html
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="{detail_url(run)}"' in html


def test_polling_from_the_detail_page_reloads_it_once_the_run_is_final(login, alice, make_run):
    run = make_run()
    url = detail_url(run)
    response = login(alice).get(url, HTTP_HX_CURRENT_URL=f"http://testserver{url}", **HTMX)
    assert response["HX-Refresh"] == "true"


def test_polling_the_progress_runs_a_fixed_number_of_queries(
    login, alice, make_run, django_assert_max_num_queries
):
    run = make_run()
    client = login(alice)
    # session, user, seat, the run, its iterations, the nav's accounts (the context
    # processor runs for partials too), and the session save (with its savepoint)
    with django_assert_max_num_queries(9):
        client.get(detail_url(run), HTTP_HX_CURRENT_URL="http://testserver/playground/", **HTMX)


def test_the_run_detail_runs_a_fixed_number_of_queries(
    login, alice, make_run, django_assert_max_num_queries, monkeypatch
):
    # five different versions: an identical one would stop the loop early
    versions = ScriptedRegenerator([f"{HEALTHCARE} Version {n}." for n in range(1, 6)])
    monkeypatch.setattr(engines, "_embedded_regenerator", lambda: versions)
    run = make_run(max_regenerations=5, thresholds={"overall": {"score": 9.9}})
    assert run.iterations.count() == 6
    client = login(alice)
    with django_assert_max_num_queries(9):
        assert client.get(detail_url(run)).status_code == 200


# -- runs list ----------------------------------------------------------------------


def test_a_viewer_sees_the_runs_list_with_links_to_each_run(login, victor, account_a, project_a):
    runs = store_runs(account_a, project_a, 3)
    html = login(victor).get("/runs/").content.decode()
    assert "3 runs" in html
    for run in runs:
        assert f'href="{detail_url(run)}"' in html


def test_the_list_shows_only_the_accounts_runs(login, alice, account_a, project_a, key_b):
    store_runs(account_a, project_a, 1)
    store_runs(key_b.project.account, key_b.project, 1, original_content="Account B secret")
    html = login(alice).get("/runs/").content.decode()
    assert "1 run" in html
    assert "Account B secret" not in html


def list_size(client, query: str) -> int:
    return client.get(f"/runs/?{query}").context["page"].paginator.count


def test_the_list_filters_by_status_project_domain_and_mode(login, alice, account_a, project_a):
    other = ProjectFactory(account=account_a, name="Claims")
    store_runs(account_a, project_a, 2)
    store_runs(
        account_a, project_a, 1, status=Run.Status.MAX_ITERATIONS_REACHED, domain="healthcare"
    )
    store_runs(account_a, other, 1, mode="deep")
    client = login(alice)
    assert list_size(client, "status=passed") == 3
    assert list_size(client, f"project={other.pk}") == 1
    assert list_size(client, "domain=healthcare") == 1
    assert list_size(client, "mode=deep") == 1
    assert list_size(client, f"status=passed&project={project_a.pk}") == 2


def test_the_list_filters_by_date_range(login, alice, account_a, project_a):
    old, new = store_runs(account_a, project_a, 2)
    Run.objects.filter(id=old.id).update(created_at=timezone.now() - dt.timedelta(days=10))
    today = timezone.localdate()
    client = login(alice)
    assert list_size(client, f"since={today}") == 1
    assert list_size(client, f"until={today - dt.timedelta(days=5)}") == 1
    assert list_size(client, f"since={today - dt.timedelta(days=10)}&until={today}") == 2


def test_the_list_filters_by_api_key_prefix_or_a_pasted_key(login, alice, account_a, project_a):
    key = APIKeyFactory(project=project_a)
    store_runs(account_a, project_a, 1, api_key=key)
    store_runs(account_a, project_a, 2)
    client = login(alice)
    assert list_size(client, f"key={key.prefix[:6]}") == 1
    assert list_size(client, f"key={key.raw}") == 1
    assert list_size(client, "key=zzzzzzzz") == 0


def test_an_invalid_filter_is_shown_and_ignored(login, alice, account_a, project_a):
    store_runs(account_a, project_a, 2)
    response = login(alice).get("/runs/?since=yesterday&status=passed")
    assert response.context["page"].paginator.count == 2
    assert "Enter a valid date." in response.content.decode()


def test_pagination_keeps_the_filters(login, alice, account_a, project_a):
    store_runs(account_a, project_a, 60, domain="legal")
    response = login(alice).get("/runs/?domain=legal&status=passed")
    page = response.context["page"]
    assert len(page.object_list) == 50
    assert page.paginator.num_pages == 2
    assert 'href="?domain=legal&amp;status=passed&amp;page=2"' in response.content.decode()
    assert (
        len(
            login(alice).get("/runs/?domain=legal&status=passed&page=2").context["page"].object_list
        )
        == 10
    )


def test_the_charts_aggregate_pass_rate_iterations_and_credits_per_day(account_a, project_a):
    store_runs(account_a, project_a, 3, iterations_done=1, credits_consumed=Decimal("1"))
    store_runs(
        account_a,
        project_a,
        1,
        status=Run.Status.MAX_ITERATIONS_REACHED,
        iterations_done=4,
        credits_consumed=Decimal("10"),
    )
    store_runs(
        account_a,
        project_a,
        1,
        status=Run.Status.RUNNING,
        iterations_done=0,
        credits_consumed=Decimal("0"),
    )
    [day] = Run.objects.of_account(account_a).per_day()
    assert day["runs"] == 5
    assert day["pass_rate"] == pytest.approx(75.0)  # of the finished runs
    assert day["iterations"] == pytest.approx(7 / 5)
    assert day["credits"] == pytest.approx(13.0)


def test_the_runs_page_embeds_three_daily_charts(login, alice, account_a, project_a):
    store_runs(account_a, project_a, 2)
    html = login(alice).get("/runs/").content.decode()
    for figure in ("fig-pass-rate", "fig-iterations", "fig-credits"):
        assert f'<script id="{figure}" type="application/json">' in html


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


@pytest.mark.parametrize(
    "url", ["/runs/", "/runs/?status=passed&domain=general&key=abc&since=2020-01-01"]
)
def test_the_runs_list_query_count_does_not_grow_with_rows(
    login, alice, account_a, project_a, url, django_assert_max_num_queries
):
    client = login(alice)
    key = APIKeyFactory(project=project_a)
    store_runs(account_a, project_a, 3, api_key=key)
    client.get(url)  # the first request after logging in also saves the session
    few = count_queries(client, url)
    store_runs(account_a, ProjectFactory(account=account_a), 57, api_key=key)
    many = count_queries(client, url)
    assert few == many
    # session, user, seat, nav accounts, project choices, count, page, daily stats, and
    # with a key filter the matching key ids (the session save would add 3)
    with django_assert_max_num_queries(9 if "key=" in url else 8):
        client.get(url)


# -- runs list: search, sort, dates, whole rows (issue 13) ------------------------------


def test_every_row_opens_its_run(login, alice, account_a, project_a):
    (run,) = store_runs(account_a, project_a, 1)
    html = login(alice).get("/runs/").content.decode()
    assert f'<tr data-href="{detail_url(run)}">' in html


def test_the_list_searches_the_original_and_the_best_text(login, alice, account_a, project_a):
    store_runs(account_a, project_a, 1, original_content="About insulin doses")
    store_runs(account_a, project_a, 1, best_content="Ask your pharmacist about INSULIN.")
    store_runs(account_a, project_a, 2)
    client = login(alice)
    assert list_size(client, "q=insulin") == 2
    assert list_size(client, "q=nothing+like+this") == 0


def test_the_list_sorts_by_a_column_both_ways(login, alice, account_a, project_a):
    low, high, none = store_runs(account_a, project_a, 3)
    Run.objects.filter(id=low.id).update(best_score=3.1)
    Run.objects.filter(id=high.id).update(best_score=9.2)
    client = login(alice)
    ascending = list(client.get("/runs/?sort=best").context["page"].object_list)
    descending = list(client.get("/runs/?sort=-best").context["page"].object_list)
    assert [r.id for r in ascending] == [low.id, high.id, none.id]  # no score last, both ways
    assert [r.id for r in descending] == [high.id, low.id, none.id]


def test_a_sorted_header_links_to_the_other_direction_and_keeps_the_filters(
    login, alice, account_a, project_a
):
    store_runs(account_a, project_a, 1)
    html = login(alice).get("/runs/?status=passed&sort=-best").content.decode()
    assert '<th class="num" aria-sort="descending"><a href="?status=passed&amp;sort=best">' in html
    assert '<option value="-best" selected>Highest best score</option>' in html  # kept


def test_an_inverted_date_range_is_refused_not_shown_as_empty(login, alice, account_a, project_a):
    store_runs(account_a, project_a, 2)
    today = timezone.localdate()
    response = login(alice).get(f"/runs/?since={today}&until={today - dt.timedelta(days=3)}")
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["page"].paginator.count == 2


# -- run detail: each text once, identical versions, critical runs (issue 13) ---------------


def test_each_text_is_shown_once_and_the_rest_folded(login, alice, make_run):
    run = make_run()
    html = login(alice).get(detail_url(run)).content.decode()
    unfolded = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    assert unfolded.count('class="content diff"') == 1
    assert 'class="content original"' not in unfolded
    assert 'class="content best"' not in unfolded


def test_identical_iterations_are_collapsed_onto_the_first(login, alice, make_run):
    run = make_run()
    *_, previous, last = run.iterations.order_by("index")
    run.iterations.filter(id=last.id).update(content=previous.content + "  ")  # older data
    html = login(alice).get(detail_url(run)).content.decode()
    assert f'<details class="card iteration identical" id="iteration-{last.index}">' in html
    assert (
        f'identical to <a href="#iteration-{previous.index}">iteration {previous.index}</a>' in html
    )


def test_a_critical_run_is_shown_as_critical_without_a_best_version_or_diff(
    login, alice, account_a, project_a
):
    from regen import runs, service
    from regen.errors import CriticalContent
    from tests.api.texts import VIOLENT

    caller = runs.Caller(account=account_a, project=project_a, user=alice)
    with pytest.raises(CriticalContent):
        runs.run_safe_regenerate(
            caller=caller, request=service.prepare(caller, {"content": VIOLENT})
        )
    run = Run.objects.get()
    html = login(alice).get(detail_url(run)).content.decode()
    assert "Critical content</strong>" in html
    assert 'class="content diff"' not in html
    assert "Best version" not in html
    assert 'data-figure="fig-radar"' not in html
    assert 'data-figure="fig-bars"' in html
    assert f'href="{reverse("review-detail", args=[run.review_item.id])}"' in html
