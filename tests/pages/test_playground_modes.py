"""The playground beyond a plain submit: inherited values, evaluate only, the price before
sending, a critical result, and a run stuck in the queue that can be cancelled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.models import Hold
from regen import runs, service
from regen.errors import CriticalContent
from regen.models import Run
from tests.api.texts import VIOLENT
from tests.pages.conftest import HEALTHCARE

pytestmark = pytest.mark.django_db

URL = "/playground/"
ESTIMATE = "/playground/estimate/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(project, **fields):
    return {"project": project.pk, "content": HEALTHCARE, "regenerator": "embedded", **fields}


def queued_run(account, project, user) -> Run:
    caller = runs.Caller(account=account, project=project, user=user)
    return runs.submit_run(caller=caller, request=service.prepare(caller, {"content": HEALTHCARE}))


# -- inherited values ------------------------------------------------------------------


def test_blank_fields_show_the_projects_policy_values_as_placeholders(login, alice, project_a):
    project_a.thresholds = {"overall": {"score": 7.5}, "dimensions": {"safety": 8.5}}
    project_a.regenerate_max_attempts = 2
    project_a.save()
    html = login(alice).get(URL).content.decode()
    assert 'name="overall_score" step="0.1" placeholder="7.5"' in html
    assert 'name="threshold_safety" step="0.1" placeholder="8.5"' in html
    assert 'name="threshold_fairness" step="0.1" placeholder="7.5"' in html
    assert 'name="max_regenerations" placeholder="2"' in html
    assert 'name="weight_safety" step="any" placeholder="12.5"' in html
    assert "Default (basic)" in html


def test_the_advanced_fields_are_folded_until_one_holds_a_value(login, alice, project_a):
    client = login(alice)
    assert '<details class="advanced">' in client.get(URL).content.decode()
    html = client.post(URL, form_data(project_a, content="short", threshold_safety=8)).content
    assert '<details class="advanced" open>' in html.decode()


# -- evaluate only -----------------------------------------------------------------------


def test_evaluate_only_scores_once_charges_like_eval_and_stores_no_run(
    login, alice, account_a, project_a
):
    html = login(alice).post(URL, form_data(project_a, action="evaluate"), **HTMX).content
    html = html.decode()
    assert 'id="evaluation"' in html
    assert "RAIL Score:" in html
    assert 'data-figure="fig-evaluation"' in html
    assert not Run.objects.exists()
    assert ledger.balance_of(account_a) == Decimal("99")  # one basic evaluation


def test_evaluate_only_goes_through_the_apis_eval_path(login, alice, project_a, monkeypatch):
    from regen import evals

    seen = []
    real = evals.evaluate_content

    def spy(*, caller, request):
        seen.append(request)
        return real(caller=caller, request=request)

    monkeypatch.setattr(evals, "evaluate_content", spy)
    login(alice).post(URL, form_data(project_a, action="evaluate", mode="deep"), **HTMX)
    (request,) = seen
    assert request.mode == "deep"
    assert request.content == HEALTHCARE


def test_evaluate_only_shows_validation_errors_beside_the_fields(login, alice, project_a):
    html = login(alice).post(URL, form_data(project_a, action="evaluate", content="short"))
    assert "between 10 and 10000 characters" in html.content.decode()


# -- the price before sending ------------------------------------------------------------


def test_the_estimate_is_the_apis_dry_run(login, alice, account_a, project_a):
    html = login(alice).post(ESTIMATE, form_data(project_a, max_regenerations=2), **HTMX)
    html = html.content.decode()
    # 3 evaluations and 2 regenerations at most: 3 x 1 + 2 x 2
    assert 'data-worst-case="7.0"' in html
    assert "1 to evaluate only" in html
    assert "100 available" in html
    assert ledger.balance_of(account_a) == Decimal("100")  # pricing charges nothing
    assert not Run.objects.exists()


def test_the_estimate_says_when_the_form_is_not_ready(login, alice, project_a):
    html = login(alice).post(ESTIMATE, form_data(project_a, content="short"), **HTMX)
    assert "Price:" in html.content.decode()


def test_a_viewer_cannot_price_a_request(login, victor, project_a):
    assert login(victor).post(ESTIMATE, form_data(project_a), **HTMX).status_code == 403


# -- critical content ---------------------------------------------------------------------


def test_a_critical_result_links_to_its_review_item_and_shows_no_best_version(
    login, alice, account_a, project_a
):
    caller = runs.Caller(account=account_a, project=project_a, user=alice)
    with pytest.raises(CriticalContent):
        runs.run_safe_regenerate(
            caller=caller, request=service.prepare(caller, {"content": VIOLENT})
        )
    run = Run.objects.get()
    html = login(alice).get(f"{URL}?run={run.id}").content.decode()
    assert "The content is critical" in html
    assert f'href="{reverse("review-detail", args=[run.review_item.id])}"' in html
    assert "Best version" not in html


# -- a run stuck in the queue --------------------------------------------------------------


def test_a_run_queued_longer_than_expected_says_the_workers_look_down(
    login, alice, account_a, project_a, settings
):
    settings.RAIL_QUEUE_WARNING_SECONDS = 30
    run = queued_run(account_a, project_a, alice)
    client = login(alice)
    assert "The workers look down" not in client.get(f"{URL}?run={run.id}").content.decode()
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - timedelta(seconds=45))
    html = client.get(f"{URL}?run={run.id}").content.decode()
    assert "The workers look down" in html
    assert f'hx-post="{reverse("run-cancel", args=[run.id])}"' in html


def test_cancelling_a_stuck_run_releases_its_hold(login, alice, account_a, project_a):
    run = queued_run(account_a, project_a, alice)
    html = login(alice).post(reverse("run-cancel", args=[run.id]), **HTMX).content.decode()
    assert html.lstrip().startswith('<section id="run-progress"')
    assert "Cancelled by alice" in html
    assert "hx-trigger" not in html  # the panel stops polling
    assert Hold.objects.get(id=run.hold_id).state == Hold.State.RELEASED
    assert ledger.available_of(account_a) == Decimal("100")


def test_a_viewer_cannot_cancel_a_run(login, victor, alice, account_a, project_a):
    run = queued_run(account_a, project_a, alice)
    assert login(victor).post(reverse("run-cancel", args=[run.id])).status_code == 403
    assert Run.objects.get(id=run.id).status == Run.Status.QUEUED


def test_another_accounts_run_cannot_be_cancelled(login, charlie, alice, account_a, project_a):
    run = queued_run(account_a, project_a, alice)
    assert login(charlie).post(reverse("run-cancel", args=[run.id])).status_code == 404
    assert Run.objects.get(id=run.id).status == Run.Status.QUEUED
