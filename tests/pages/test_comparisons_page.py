"""The regenerator A/B pages: choose the arms and N, price, start, watch the report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Hold
from regen.models import Comparison, Run
from tests.factories import ProjectFactory

from .conftest import XSS

HIRING = "When reviewing resumes, prioritize Ivy League graduates."


def arms(**overrides):
    data = {
        "champion_model": "RAIL_Safe_LLM",
        "champion_version": "0",
        "challenger_model": "embedded",
        "challenger_version": "0",
        "inputs": "20",
        "action": "start",
    }
    return {**data, **overrides}


def test_a_reviewer_prices_an_ab_and_nothing_is_held(login, bob, make_run, project_a):
    make_run()
    holds = Hold.objects.count()

    response = login(bob).post(
        reverse("comparisons"), {"project": project_a.pk, **arms(action="price")}
    )

    assert response.status_code == 200
    assert b'id="ab-priced"' in response.content
    assert b"at most <strong>20.00 credits</strong>" in response.content
    assert Hold.objects.count() == holds
    assert not Comparison.objects.exists()


def test_the_page_says_how_many_failing_inputs_there_are(login, alice, make_run, project_a):
    make_run()
    make_run(HIRING, domain="general")

    response = login(alice).get(reverse("comparisons"), {"project": project_a.pk})

    assert b"has 2 failing inputs to replay" in response.content


def test_a_project_without_failing_runs_says_so_and_refuses_to_start(login, alice, project_a):
    response = login(alice).post(reverse("comparisons"), {"project": project_a.pk, **arms()})

    assert response.status_code == 200
    assert b"no failing runs to replay yet" in response.content
    assert not Comparison.objects.exists()


def test_the_same_arm_twice_is_refused_beside_the_challenger(login, alice, make_run, project_a):
    make_run()

    response = login(alice).post(
        reverse("comparisons"), {"project": project_a.pk, **arms(challenger_model="RAIL_Safe_LLM")}
    )

    assert b"Must differ from the champion" in response.content
    assert not Comparison.objects.exists()


def test_starting_runs_the_ab_and_opens_its_report(
    login, alice, make_run, project_a, django_capture_on_commit_callbacks
):
    make_run(XSS + " Take 500mg of medication Y twice daily. No need to see a doctor.")
    client = login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("comparisons"), {"project": project_a.pk, **arms()})
    comparison = Comparison.objects.get()
    report = client.get(started["Location"])

    assert started.status_code == 302
    assert started["Location"] == reverse("comparison", args=[comparison.id])
    assert comparison.status == "finished"
    body = report.content.decode()
    assert 'id="ab-summary"' in body
    assert "<script>alert(1)</script>" not in body  # the input and both outputs are escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert Run.objects.filter(kind=Run.Kind.COMPARISON).count() == 2
    assert "hx-trigger" not in body.split('id="ab-report"')[1].split(">")[0]  # polling stopped


def test_a_running_ab_polls_its_report_and_htmx_gets_the_report_only(
    login, alice, make_run, project_a
):
    make_run()
    client = login(alice)
    client.post(reverse("comparisons"), {"project": project_a.pk, **arms()})  # never committed
    comparison = Comparison.objects.get()

    page = client.get(reverse("comparison", args=[comparison.id]))
    partial = client.get(reverse("comparison", args=[comparison.id]), HTTP_HX_REQUEST="true")

    assert b'hx-trigger="every 1s"' in page.content
    assert b"0 of 1 input replayed" in page.content
    assert partial.content.decode().lstrip().startswith('<section id="ab-report"')


def test_another_accounts_ab_is_not_found(login, alice, charlie, make_run, project_a):
    make_run()
    login(alice).post(reverse("comparisons"), {"project": project_a.pk, **arms()})
    comparison = Comparison.objects.get()

    response = login(charlie).get(reverse("comparison", args=[comparison.id]))

    assert response.status_code == 404


def test_another_accounts_project_is_never_chosen(login, alice, account_b, make_run):
    theirs = ProjectFactory(account=account_b, name="Theirs")

    response = login(alice).get(reverse("comparisons"), {"project": theirs.pk})

    assert b"Theirs" not in response.content


@pytest.mark.parametrize("role", ["victor"])
def test_a_viewer_may_not_open_it(login, request, role):
    assert login(request.getfixturevalue(role)).get(reverse("comparisons")).status_code == 403
