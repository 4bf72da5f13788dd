"""The improvement-prompt editor: preview on a stored run, save a version, roll back (admins)."""

from __future__ import annotations

import html

from django.urls import reverse

from regen import prompt_templates
from regen.models import PromptTemplate

USER = "Fix $failing_dimensions.\n$content"


def test_a_preview_renders_the_template_on_a_stored_run_and_saves_nothing(
    login, alice, make_run, project_a
):
    run = make_run()

    response = login(alice).post(
        reverse("project-prompts", args=[project_a.pk]),
        {"system_template": "Careful <editor>.", "user_template": USER, "run": str(run.id)},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="prompt-preview"')
    assert html.escape("Careful <editor>.") in body
    assert "Careful <editor>." not in body
    assert PromptTemplate.objects.count() == 0


def test_an_unknown_variable_is_a_clear_form_error(login, alice, project_a):
    response = login(alice).post(
        reverse("project-prompts", args=[project_a.pk]),
        {"system_template": "s", "user_template": "$content for $audience", "action": "save"},
    )

    assert b"Unknown variable $audience" in response.content
    assert PromptTemplate.objects.count() == 0


def test_saving_makes_a_new_version_and_a_rollback_restores_the_builtin(login, alice, project_a):
    client = login(alice)
    url = reverse("project-prompts", args=[project_a.pk])

    client.post(url, {"system_template": "One.", "user_template": USER, "action": "save"})
    client.post(url, {"system_template": "Two.", "user_template": USER, "action": "save"})
    assert prompt_templates.current_template(project_a).version == 2

    client.post(reverse("project-prompt-rollback", args=[project_a.pk]), {"version": "0"})

    assert prompt_templates.current_template(project_a).version == 0
    page = client.get(url).content.decode()
    assert 'id="version-2"' in page
    assert 'id="version-0"' in page


def test_a_reviewer_may_not_edit_the_prompt(login, bob, project_a):
    assert login(bob).get(reverse("project-prompts", args=[project_a.pk])).status_code == 403


def test_the_run_detail_shows_the_template_version_of_each_prompt(
    login, alice, make_run, project_a
):
    prompt_templates.save_template(project=project_a, system="Editor.", user=USER)
    run = make_run()

    page = login(alice).get(reverse("run-detail", args=[run.id])).content.decode()

    assert 'template <span class="prompt-version">v1</span>' in page
