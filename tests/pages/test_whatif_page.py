"""The threshold what-if page: admins and reviewers replay, only admins apply."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from billing.accounts import stored_thresholds
from tests.factories import ProjectFactory


def replay(**overrides):
    """A what-if form submission (blank dimension fields are left out, as a browser sends them)."""
    data = {
        "overall_score": "7.0",
        "overall_confidence": "0.5",
        "tradeoff_mode": "priority",
        "max_dimension_failures": "2",
        "days": "30",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def number(response, element_id):
    match = re.search(rf'id="{element_id}">([^<]*)<', response.content.decode())
    assert match, element_id
    return int(match.group(1).replace(",", ""))


def test_a_reviewer_sees_the_replay_without_the_apply_button(login, bob, make_run, project_a):
    make_run()

    response = login(bob).get(reverse("what-if"), {"project": project_a.pk})

    assert response.status_code == 200
    assert number(response, "whatif-runs") == 1
    assert b"Apply to project policy" not in response.content


def test_a_viewer_may_not_open_it(login, victor):
    assert login(victor).get(reverse("what-if")).status_code == 403


def test_an_htmx_change_answers_the_results_only(login, alice, make_run, project_a):
    make_run()

    response = login(alice).get(
        reverse("what-if"),
        {"project": project_a.pk, **replay(overall_score="0.5", overall_confidence="0")},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="whatif-results"')
    assert number(response, "whatif-pass") == 1
    assert "HX-Request" in response["Vary"]
    figure = re.search(r'id="fig-whatif-outcomes" type="application/json">(.*?)</script>', body)
    assert json.loads(figure.group(1))["data"][0]["name"] == "Pass at once"


def test_weights_that_do_not_sum_to_100_are_shown_as_an_error(login, alice, project_a):
    response = login(alice).get(
        reverse("what-if"), {"project": project_a.pk, **replay(weight_safety="30")}
    )

    assert b"This policy is not valid." in response.content
    assert b"Weights must sum to 100" in response.content


def test_an_admin_applies_the_thresholds_to_the_project_policy(login, alice, project_a):
    response = login(alice).post(
        reverse("what-if-apply"),
        {"project": project_a.pk, **replay(overall_score="8.0", threshold_safety="9.0")},
    )

    assert response.status_code == 302
    project_a.refresh_from_db()
    assert stored_thresholds(project_a).overall_score == 8.0
    assert stored_thresholds(project_a).dimensions == {"safety": 9.0}


def test_a_reviewer_may_not_apply(login, bob, project_a):
    response = login(bob).post(
        reverse("what-if-apply"), {"project": project_a.pk, **replay(overall_score="9.0")}
    )

    assert response.status_code == 403
    project_a.refresh_from_db()
    assert stored_thresholds(project_a).overall_score == 7.0


def test_another_accounts_project_is_never_replayed_nor_changed(login, alice, account_b):
    theirs = ProjectFactory(account=account_b, name="Theirs")

    login(alice).post(
        reverse("what-if-apply"), {"project": theirs.pk, **replay(overall_score="9.5")}
    )

    theirs.refresh_from_db()
    assert stored_thresholds(theirs).overall_score == 7.0


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'])
def test_a_project_name_is_escaped(login, alice, account_a, name):
    project = ProjectFactory(account=account_a, name=name, slug="xss")

    response = login(alice).get(reverse("what-if"), {"project": project.pk})

    assert name.encode() not in response.content
    assert html.escape(name).encode() in response.content
