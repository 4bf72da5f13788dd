"""Versioned improvement-prompt templates: checked, rendered as data, recorded, rolled back."""

import pytest

from railsite.errors import RequestValidationError
from regen import prompt_templates, runs
from regen.engine.prompts import BUILTIN_TEMPLATE, PromptTemplate, build_improvement_prompt
from regen.engine.requests import parse_regenerate_request
from regen.models import PromptTemplate as StoredTemplate

HIRING = "When reviewing resumes, prioritize Ivy League graduates."
USER = "Fix $failing_dimensions for a $domain audience.\nIssues:\n$issues\nText:\n$content"


def _prompt(template=BUILTIN_TEMPLATE, content=HIRING):
    return build_improvement_prompt(
        content=content,
        failing_dimensions=["fairness"],
        issues=[],
        scores={"fairness": 4.0},
        thresholds={"fairness": 7.0},
        domain="finance",
        context="hiring desk",
        policy_hint="be kind",
        nonce="n0nce",
        template=template,
    )


def _run(caller):
    request = parse_regenerate_request({"content": HIRING, "max_regenerations": 2})
    return runs.run_safe_regenerate(caller=caller, request=request)


def test_the_builtin_template_is_version_0_and_writes_the_prompt_it_always_wrote():
    prompt = _prompt()

    assert prompt.template_version == 0
    assert prompt.user_prompt.startswith("Improve the text on these dimensions:\n- Fairness")
    assert "Domain: finance." in prompt.user_prompt
    assert prompt.user_prompt.endswith("<<<CONTENT-n0nce\n" + HIRING + "\nCONTENT-n0nce>>>")
    assert "template_version" not in prompt.to_dict()


def test_a_template_is_rendered_with_its_variables_and_the_content_quoted():
    prompt = _prompt(PromptTemplate("Be a careful editor.", USER, 3))

    assert prompt.system_prompt == "Be a careful editor."
    assert prompt.user_prompt.startswith("Fix - Fairness (score 4.0, needs 7.0)")
    assert "for a finance audience" in prompt.user_prompt
    assert "<<<CONTENT-n0nce" in prompt.user_prompt
    assert prompt.to_dict()["template_version"] == 3


def test_variables_inside_the_content_are_never_expanded():
    prompt = _prompt(PromptTemplate("s", USER, 1), content="Ignore this: $policy_hint ${issues}")

    assert "Ignore this: $policy_hint ${issues}" in prompt.user_prompt
    assert "be kind" not in prompt.user_prompt


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("Rewrite $content for $audience", "Unknown variable $audience"),
        ("Rewrite $content for 5$", "write $$ for a dollar sign"),
        ("Rewrite the text please", "Must contain $content"),
        ("", "Must not be blank"),
    ],
)
def test_a_bad_template_is_a_clear_error(user, message):
    with pytest.raises(RequestValidationError) as error:
        prompt_templates.check(system="Be careful.", user=user)

    assert message in " ".join(error.value.extra["details"]["user_template"])


def test_format_fields_and_attribute_lookups_stay_plain_text():
    template = prompt_templates.check(system="{content.__class__} {0}", user="$content")

    assert _prompt(template).system_prompt == "{content.__class__} {0}"


def test_every_iteration_records_the_template_version_it_used_and_a_rollback_restores_one(
    caller,
):
    project = caller.project
    first = prompt_templates.save_template(project=project, system="Editor one.", user=USER)
    second = prompt_templates.save_template(project=project, system="Editor two.", user=USER)
    assert (first.version, second.version) == (1, 2)

    run = _run(caller)
    regenerated = run.iterations.filter(index__gt=0)
    assert regenerated.exists()
    assert {it.prompt_version for it in regenerated} == {2}
    assert run.iterations.get(index=0).prompt_version is None
    assert regenerated.first().rail_prompt["system_prompt"] == "Editor two."
    assert regenerated.first().rail_prompt["template_version"] == 2

    prompt_templates.roll_back(project=project, version=1)
    rolled = _run(caller).iterations.filter(index__gt=0).first()
    assert rolled.prompt_version == 1
    assert rolled.rail_prompt["system_prompt"] == "Editor one."

    prompt_templates.roll_back(project=project, version=0)
    builtin = _run(caller).iterations.filter(index__gt=0).first()
    assert builtin.prompt_version == 0
    assert builtin.rail_prompt["system_prompt"] == BUILTIN_TEMPLATE.system
    assert StoredTemplate.objects.filter(project=project).count() == 2  # nothing deleted


def test_rolling_back_to_a_missing_version_is_refused(caller):
    with pytest.raises(RequestValidationError):
        prompt_templates.roll_back(project=caller.project, version=4)


def test_a_preview_renders_a_template_on_a_stored_run(caller):
    run = _run(caller)
    template = prompt_templates.check(system="Preview editor.", user=USER)

    prompt = prompt_templates.preview(project=caller.project, run_id=run.id, template=template)

    assert prompt.system_prompt == "Preview editor."
    assert HIRING in prompt.user_prompt
    assert StoredTemplate.objects.count() == 0


def test_the_run_api_names_each_iterations_template_version(key_a, api_a):
    prompt_templates.save_template(project=key_a.project, system="Editor.", user=USER)
    body = api_a.post("/railscore/v1/safe-regenerate", {"content": HIRING}, format="json").json()

    run = api_a.get(f"/railscore/v1/runs/{body['metadata']['req_id']}").json()

    assert run["iterations"][0]["prompt_version"] is None
    assert run["iterations"][1]["prompt_version"] == 1
    assert body["result"]["iteration_history"][1]["rail_prompt"]["template_version"] == 1
