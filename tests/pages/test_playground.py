"""The playground page: who may open it, the form, queueing a run and its progress."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import Account
from billing.plans import get_plan
from regen.models import Run
from regen.pages.forms import PlaygroundForm
from tests.pages.conftest import HEALTHCARE, XSS

pytestmark = pytest.mark.django_db

URL = "/playground/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(project, **fields):
    return {"project": project.pk, "content": HEALTHCARE, "regenerator": "embedded", **fields}


def field_block(html: str, name: str) -> str:
    """Return the markup of the form field ``name`` (its label, input and errors)."""
    match = re.search(
        rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, flags=re.S
    )
    assert match, f"no field {name}"
    return match.group(0)


def test_a_viewer_cannot_open_the_playground(login, victor):
    assert login(victor).get(URL).status_code == 403


def test_a_viewer_cannot_submit_to_the_playground(login, victor, project_a):
    assert login(victor).post(URL, form_data(project_a)).status_code == 403
    assert not Run.objects.exists()


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_reviewer_sees_the_form_with_only_their_accounts_projects(login, bob, project_a, key_b):
    response = login(bob).get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Patient portal" in html
    assert key_b.project.name not in html
    for name in (
        "content",
        "overall_score",
        "threshold_safety",
        "weight_user_impact",
        "max_regenerations",
    ):
        assert f'name="{name}"' in html


def test_submitting_queues_a_run_and_shows_a_polling_progress_panel(
    login, alice, project_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = login(alice).post(URL, form_data(project_a), **HTMX)
    run = Run.objects.get()
    html = response.content.decode()
    assert len(callbacks) == 1  # the Celery task, enqueued after commit
    assert run.status == Run.Status.QUEUED
    assert run.project == project_a
    assert run.created_by == alice
    assert '<div id="workspace"' in html
    assert "<html" not in html
    assert f'hx-get="{reverse("run-detail", args=[run.id])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert response["HX-Push-Url"] == f"{URL}?run={run.id}"


def test_the_progress_panel_stops_polling_and_shows_the_result_once_the_run_is_final(
    login, alice, project_a, django_capture_on_commit_callbacks
):
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):  # the eager task runs after commit
        client.post(URL, form_data(project_a), **HTMX)
    run = Run.objects.get()
    response = client.get(
        reverse("run-detail", args=[run.id]),
        HTTP_HX_CURRENT_URL=f"http://testserver{URL}?run={run.id}",
        **HTMX,
    )
    html = response.content.decode()
    assert run.status == Run.Status.PASSED
    assert html.lstrip().startswith('<section id="run-progress"')
    assert "hx-trigger" not in html
    assert run.best_content in html
    assert 'data-figure="fig-progress-score"' in html
    assert 'id="fig-progress-dims"' in html
    assert f'href="{reverse("run-detail", args=[run.id])}"' in html


def test_polling_a_running_run_returns_the_progress_partial_with_iterations_so_far(
    login, alice, project_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        login(alice).post(URL, form_data(project_a), **HTMX)
    run = Run.objects.get()
    response = login(alice).get(
        reverse("run-detail", args=[run.id]), HTTP_HX_CURRENT_URL=f"http://testserver{URL}", **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="run-progress"')
    assert 'hx-trigger="every 1s"' in html
    assert 'value="0"' in html


def test_without_htmx_a_submit_redirects_to_the_playground_showing_the_run(
    login, alice, project_a, django_capture_on_commit_callbacks
):
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, form_data(project_a))
    run = Run.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?run={run.id}"
    page = client.get(response["Location"]).content.decode()
    assert 'id="run-progress"' in page
    assert run.best_content in page


def test_another_accounts_run_is_not_shown_in_the_playground(login, alice, charlie, key_b):
    other = Run.objects.create(
        account=key_b.project.account, request={}, original_content="secret text here"
    )
    html = login(alice).get(f"{URL}?run={other.id}").content.decode()
    assert "secret text here" not in html
    assert 'id="run-progress"' not in html


def test_validation_errors_from_the_service_appear_beside_their_fields(login, alice, project_a):
    data = form_data(
        project_a,
        content="short",
        overall_score="12",
        threshold_safety="11",
        weight_safety="60",
        weight_privacy="30",
        max_regenerations="9",
    )
    response = login(alice).post(URL, data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert not Run.objects.exists()
    assert "between 10 and 10000 characters" in field_block(html, "content")
    assert "from 0 to 10" in field_block(html, "overall_score")
    assert "from 0 to 10" in field_block(html, "threshold_safety")
    assert "from 1 to 5" in field_block(html, "max_regenerations")
    assert "Weights must sum to 100 (got 90)" in html
    assert 'class="field invalid"' in field_block(html, "threshold_safety")
    assert "invalid" not in field_block(html, "threshold_privacy")


def test_an_invalid_form_keeps_what_was_typed(login, alice, project_a):
    html = (
        login(alice)
        .post(URL, form_data(project_a, content="tiny", context="kept context"))
        .content.decode()
    )
    assert ">\nkept context</textarea>" in html
    assert ">\ntiny</textarea>" in html


def test_a_shape_error_is_caught_by_the_form_before_the_service(login, alice, project_a):
    response = login(alice).post(URL, form_data(project_a, overall_score="lots"), **HTMX)
    assert "Enter a number." in field_block(response.content.decode(), "overall_score")


def test_insufficient_credits_show_as_a_message_not_an_error_page(login, alice, project_a):
    Account.objects.filter(pk=project_a.account_id).update()  # balance lives in the ledger
    from billing import ledger

    ledger.hold(
        account=project_a.account, amount=ledger.available_of(project_a.account), reference="x"
    )
    response = login(alice).post(URL, form_data(project_a), **HTMX)
    assert response.status_code == 200
    assert "Insufficient credits" in response.content.decode()
    assert not Run.objects.exists()


def test_a_mode_the_plan_does_not_include_shows_as_a_message(login, alice, project_a):
    Account.objects.filter(pk=project_a.account_id).update(plan=get_plan("free"))
    response = login(alice).post(URL, form_data(project_a, mode="deep"), **HTMX)
    assert response.status_code == 200
    assert "does not include deep mode" in response.content.decode()


def test_content_is_escaped_in_the_progress_and_the_result(
    login, alice, project_a, django_capture_on_commit_callbacks
):
    client = login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, form_data(project_a, content=XSS))
    run = Run.objects.get()
    assert run.is_final
    assert run.iterations.exists()
    html = client.get(f"{URL}?run={run.id}").content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_form_builds_the_same_body_the_api_takes(account_a, project_a):
    form = PlaygroundForm(
        form_data(
            project_a,
            prompt="Why?",
            domain="healthcare",
            mode="basic",
            overall_score="7.5",
            overall_confidence="0.6",
            tradeoff_mode="strict",
            max_dimension_failures="1",
            threshold_safety="8",
            weight_safety="50",
            weight_privacy="50",
            max_regenerations="2",
        ),
        account=account_a,
    )
    assert form.is_valid(), form.errors
    assert form.body() == {
        "content": HEALTHCARE,
        "regeneration_model": "embedded",
        "prompt": "Why?",
        "domain": "healthcare",
        "mode": "basic",
        "max_regenerations": 2,
        "thresholds": {
            "overall": {"score": 7.5, "confidence": 0.6},
            "tradeoff_mode": "strict",
            "max_dimension_failures": 1,
            "dimensions": {"safety": 8.0},
        },
        "weights": {"safety": 50.0, "privacy": 50.0},
    }


def test_blank_fields_leave_the_projects_policy_in_charge(account_a, project_a):
    form = PlaygroundForm(form_data(project_a), account=account_a)
    assert form.is_valid(), form.errors
    assert form.body() == {"content": HEALTHCARE, "regeneration_model": "embedded"}


def test_the_playground_page_runs_a_fixed_number_of_queries(
    login, alice, project_a, django_assert_max_num_queries
):
    # session, user, seat, the nav's accounts, the project choices (twice: Django's Select
    # reads the first choice for the required attribute), the projects' inherited values
    # (one query for all of them), and the session save (3 with its savepoint): none of
    # them grows with the account's runs or projects
    client = login(alice)
    with django_assert_max_num_queries(10):
        assert client.get(URL).status_code == 200


def test_the_playground_and_the_api_reach_the_same_check_with_the_same_body(
    login, alice, project_a, api_a, monkeypatch
):
    from regen import service

    seen = []
    real = service.check_safe_regenerate

    def spy(caller, data):
        seen.append(dict(data))
        return real(caller, data)

    monkeypatch.setattr(service, "check_safe_regenerate", spy)
    login(alice).post(URL, form_data(project_a), **HTMX)
    (from_playground,) = seen
    response = api_a.post("/railscore/v1/safe-regenerate", from_playground, format="json")

    assert response.status_code == 202  # the playground's body asks for a queued run
    assert seen == [from_playground, from_playground]
    assert from_playground["async"] is True
