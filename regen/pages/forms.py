"""Dashboard forms of the regen app: they check shape only and build the API's JSON body.

The rules (lengths, ranges, weights summing to 100, plan limits) live in
``regen.service.prepare``; ``PlaygroundForm.add_service_error`` puts its field-named
``details`` beside the matching inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.forms.boundfield import BoundField
from django.utils import timezone

from billing.models import Account, APIKey, Project
from billing.pages.forms import ThresholdsForm
from railsite.forms import ServiceErrorsMixin
from regen import providers
from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS
from regen.engine.thresholds import TRADEOFF_MODES, Thresholds
from regen.engine.types import DOMAINS
from regen.models import Run, RunQuerySet
from regen.policy import policy_values

DEFAULT = [("", "Project default")]
EMBEDDED_REGENERATOR = "embedded"

# Names in RequestValidationError.details that map one-to-one to a form field.
_FIELD_FOR_DETAIL = {
    "content": "content",
    "prompt": "prompt",
    "context": "context",
    "domain": "domain",
    "mode": "mode",
    "max_regenerations": "max_regenerations",
    "regeneration_model": "regenerator",
    "thresholds.overall.score": "overall_score",
    "thresholds.overall.confidence": "overall_confidence",
    "thresholds.tradeoff_mode": "tradeoff_mode",
    "thresholds.max_dimension_failures": "max_dimension_failures",
}
# Per-dimension details ("weights.safety") map to "<prefix>_<dimension>" fields; details
# about the whole group ("weights": the sum) are shown beside the group.
_DIMENSION_GROUPS = {"thresholds.dimensions": "threshold", "weights": "weight"}


def _number(step: str) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": step})


def project_label(project: Project) -> str:
    return f"{project.name} ({project.environment})"


def inherited(project: Project) -> dict[str, str]:
    """Say what each blank playground field takes from the project's policy (or the defaults)."""
    values = policy_values(project, for_regenerate=True)
    limits = Thresholds.from_dict(values.get("thresholds") or {})
    weights = values.get("weights") or {}
    shown = {
        "domain": str(values["domain"]),
        "mode": str(values["mode"]),
        "max_regenerations": str(values["max_regenerations"]),
        "overall_score": f"{limits.overall_score:g}",
        "overall_confidence": f"{limits.overall_confidence:g}",
        "tradeoff_mode": limits.tradeoff_mode,
        "max_dimension_failures": str(limits.max_dimension_failures),
    }
    for dim in DIMENSIONS:
        shown[f"threshold_{dim}"] = f"{limits.threshold_for(dim):g}"
        equal = 100 / len(DIMENSIONS)
        shown[f"weight_{dim}"] = f"{float(weights.get(dim, 0)) if weights else equal:g}"
    return shown


def regenerator_choices() -> list[tuple[str, str]]:
    """Offer the embedded rewriter, and the server's LLM when one is configured."""
    choices = [(EMBEDDED_REGENERATOR, "Embedded (this server)")]
    choices += [(name, f"{name} (configured LLM)") for name in providers.model_names()]
    return choices


class PlaygroundForm(ServiceErrorsMixin, forms.Form):
    """A safe-regenerate request, field by field, as a reviewer fills it in."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)
    content = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 7}))
    prompt = forms.CharField(
        required=False,
        label="Prompt (what produced the content)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    context = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    domain = forms.ChoiceField(required=False, choices=DEFAULT + [(d, d) for d in DOMAINS])
    mode = forms.ChoiceField(
        required=False, choices=DEFAULT + [("basic", "basic"), ("deep", "deep")]
    )
    overall_score = forms.FloatField(
        required=False, label="Overall threshold", widget=_number("0.1")
    )
    overall_confidence = forms.FloatField(
        required=False, label="Minimum confidence", widget=_number("0.01")
    )
    tradeoff_mode = forms.ChoiceField(
        required=False, label="Tradeoff mode", choices=DEFAULT + [(m, m) for m in TRADEOFF_MODES]
    )
    max_dimension_failures = forms.IntegerField(required=False, label="Max dimension failures")
    max_regenerations = forms.IntegerField(required=False, label="Max regenerations")
    regenerator = forms.ChoiceField(choices=regenerator_choices)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project_field = cast(forms.ModelChoiceField, self.fields["project"])
        project_field.queryset = account.projects.order_by("name")
        project_field.label_from_instance = project_label  # type: ignore[assignment]
        for dim in DIMENSIONS:
            name = DIMENSION_INFO[dim].name
            self.fields[f"threshold_{dim}"] = forms.FloatField(
                required=False, label=name, widget=_number("0.1")
            )
            self.fields[f"weight_{dim}"] = forms.FloatField(
                required=False, label=name, widget=_number("any")
            )
        self.group_errors: dict[str, list[str]] = {}
        projects: list[Project] = list(project_field.queryset or [])
        self.inherited = {str(p.pk): inherited(p) for p in projects}
        self.locked = {str(p.pk) for p in projects if p.locked}
        self._show_inherited(self._chosen_project(projects))

    def _chosen_project(self, projects: list[Project]) -> str:
        chosen = str(self.data.get("project") or self.initial.get("project") or "")
        return chosen if chosen in self.inherited else (str(projects[0].pk) if projects else "")

    def _show_inherited(self, project: str) -> None:
        """Show what a blank field inherits: a placeholder, or the "default" choice's label."""
        self.chosen_locked = project in self.locked
        for name, value in self.inherited.get(project, {}).items():
            widget = self.fields[name].widget
            if isinstance(widget, forms.Select):
                self.fields[name].choices = [  # type: ignore[attr-defined]
                    ("", f"Default ({value})"),
                    *list(self.fields[name].choices)[1:],  # type: ignore[attr-defined]
                ]
            else:
                widget.attrs["placeholder"] = value

    @property
    def advanced_open(self) -> bool:
        """Open the advanced fields when one of them holds a value or an error."""
        names = [n for n in self.fields if n.startswith(("threshold_", "weight_"))] + [
            "overall_confidence", "tradeoff_mode", "max_dimension_failures", "prompt", "context"
        ]  # fmt: skip
        if self.group_errors or any(self[n].errors for n in names if n in self.fields):
            return True
        return self.is_bound and any(self.data.get(n) not in (None, "") for n in names)

    def dimension_fields(self, prefix: str) -> list[BoundField]:
        return [self[f"{prefix}_{dim}"] for dim in DIMENSIONS]

    @property
    def threshold_fields(self) -> list[BoundField]:
        return self.dimension_fields("threshold")

    @property
    def weight_fields(self) -> list[BoundField]:
        return self.dimension_fields("weight")

    def body(self) -> dict[str, Any]:
        """Build the JSON body the safe-regenerate API takes; blanks leave the project's policy."""
        data = self.cleaned_data
        body: dict[str, Any] = {
            "content": data["content"],
            "regeneration_model": data["regenerator"],
        }
        for name in ("prompt", "context", "domain", "mode", "max_regenerations"):
            if data.get(name) not in (None, ""):
                body[name] = data[name]
        thresholds: dict[str, Any] = {}
        overall = {
            key: data[name]
            for key, name in (("score", "overall_score"), ("confidence", "overall_confidence"))
            if data.get(name) is not None
        }
        if overall:
            thresholds["overall"] = overall
        if data.get("tradeoff_mode"):
            thresholds["tradeoff_mode"] = data["tradeoff_mode"]
        if data.get("max_dimension_failures") is not None:
            thresholds["max_dimension_failures"] = data["max_dimension_failures"]
        dims = self._given("threshold")
        if dims:
            thresholds["dimensions"] = dims
        if thresholds:
            body["thresholds"] = thresholds
        weights = self._given("weight")
        if weights:
            body["weights"] = weights
        return body

    def eval_body(self) -> dict[str, Any]:
        """Build the JSON body the eval API takes from the same fields (no loop settings)."""
        body = self.body()
        for name in ("regeneration_model", "max_regenerations"):
            body.pop(name, None)
        return body

    def _given(self, prefix: str) -> dict[str, float]:
        return {
            dim: self.cleaned_data[f"{prefix}_{dim}"]
            for dim in DIMENSIONS
            if self.cleaned_data.get(f"{prefix}_{dim}") is not None
        }

    def unplaced(self, key: str, text: str, default: str | None) -> None:
        """A dimension group's error goes above its inputs; others on the form, named."""
        if key in _DIMENSION_GROUPS:
            self.group_errors.setdefault(_DIMENSION_GROUPS[key], []).append(text)
        else:
            self.add_error(default, f"{key}: {text}")

    def field_for(self, key: str) -> str | None:
        if key in _FIELD_FOR_DETAIL:
            return _FIELD_FOR_DETAIL[key]
        group, _, dim = key.rpartition(".")
        if group in _DIMENSION_GROUPS and dim in DIMENSIONS:
            return f"{_DIMENSION_GROUPS[group]}_{dim}"
        return None


# The runs list's sortable columns: the ``sort`` value and the field it orders by.
SORT_FIELDS = {
    "created": "created_at",
    "status": "status",
    "best": "best_score",
    "iterations": "iterations_done",
    "credits": "credits_consumed",
    "usd": "cost_usd",
}
_SORT_NAMES = {
    "created": ("Oldest first", "Newest first"),
    "status": ("Status A–Z", "Status Z–A"),
    "best": ("Lowest best score", "Highest best score"),
    "iterations": ("Fewest iterations", "Most iterations"),
    "credits": ("Fewest credits", "Most credits"),
    "usd": ("Cheapest", "Dearest"),
}
SORTS = {
    value: name
    for column, names in _SORT_NAMES.items()
    for value, name in zip((column, f"-{column}"), names, strict=True)
}


class RunFilterForm(forms.Form):
    """The runs list's filters (a GET form); ``filter`` applies the valid ones."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Run.Status.choices])
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), required=False, empty_label="Any project"
    )
    domain = forms.ChoiceField(
        required=False, choices=[("", "Any domain")] + [(d, d) for d in DOMAINS]
    )
    mode = forms.ChoiceField(
        required=False, choices=[("", "Any mode"), ("basic", "basic"), ("deep", "deep")]
    )
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    key = forms.CharField(required=False, label="API key prefix", max_length=80)
    q = forms.CharField(
        required=False,
        label="Text contains",
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "words in the content"}),
    )
    sort = forms.ChoiceField(
        required=False,
        label="Order",
        choices=[("", "Newest first"), *SORTS.items()],
        widget=forms.Select(attrs={"data-autosubmit": ""}),  # reorders at once (app.js)
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        projects = cast(forms.ModelChoiceField, self.fields["project"])
        projects.queryset = account.projects.order_by("name")
        projects.label_from_instance = project_label  # type: ignore[assignment]

    def clean(self) -> dict[str, Any]:
        """Refuse an inverted date range (it would match nothing) instead of showing nothing."""
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def ordering(self) -> OrderBy:
        """The list's order: a column, ascending or descending (``-``), newest by default."""
        sort = (self.cleaned_data.get("sort") if self.is_valid() else "") or "-created"
        field = SORT_FIELDS[sort.lstrip("-")]
        expression = F(field)
        if sort.startswith("-"):
            return expression.desc(nulls_last=True)
        return expression.asc(nulls_last=True)

    def sort_links(self) -> dict[str, dict[str, str]]:
        """Per sortable column, the ``sort`` value its header links to and its arrow."""
        current = (self.cleaned_data.get("sort") if self.is_valid() else "") or "-created"
        links = {}
        for column in SORT_FIELDS:
            if current == column:
                links[column] = {"value": f"-{column}", "arrow": "▲", "aria": "ascending"}
            elif current == f"-{column}":
                links[column] = {"value": column, "arrow": "▼", "aria": "descending"}
            else:
                links[column] = {"value": f"-{column}", "arrow": "", "aria": "none"}
        return links

    def clean_key(self) -> str:
        """Accept a bare prefix, or a pasted ``rail_<prefix>_…`` key."""
        value = self.cleaned_data["key"].strip()
        if value.startswith("rail_"):
            value = value[len("rail_") :].split("_", 1)[0]
        return value

    def filter(self, runs: RunQuerySet) -> RunQuerySet:
        """Narrow ``runs`` by every valid filter (invalid ones are ignored and shown)."""
        data = self.cleaned_data if self.is_valid() else {}
        for name in ("status", "domain", "mode"):
            if data.get(name):
                runs = runs.filter(**{name: data[name]})
        if data.get("project"):
            runs = runs.filter(project=data["project"])
        # bounds on created_at itself (not on its date) keep the (account, -created_at) index usable
        if data.get("since") and "until" not in self.errors:
            runs = runs.filter(created_at__gte=_day_start(data["since"]))
        if data.get("until"):
            runs = runs.filter(created_at__lt=_day_start(data["until"] + dt.timedelta(days=1)))
        if data.get("q"):
            text = data["q"].strip()
            runs = runs.filter(
                Q(original_content__icontains=text) | Q(best_content__icontains=text)
            )
        if data.get("key"):
            # the ids first (one small query): with literal ids the planner uses run_key_recent
            keys = APIKey.objects.filter(
                project__account=self.account, prefix__startswith=data["key"]
            )
            runs = runs.filter(api_key__in=list(keys.values_list("id", flat=True)[:100]))
        return runs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class WhatIfForm(ThresholdsForm):
    """Another policy to replay a project's runs under, and how many days back."""

    days = forms.IntegerField(
        label="Days back",
        min_value=1,
        max_value=365,
        initial=30,
        widget=forms.NumberInput(attrs={"min": 1, "max": 365}),
    )
    field_aliases = {**ThresholdsForm.field_aliases, "days": "days"}

    def request_body(self) -> dict[str, Any]:
        """The what-if as the API takes it (``whatif.parse_policy``)."""
        body = {**self.thresholds_and_weights(), "days": self.cleaned_data["days"]}
        if not body["weights"]:
            del body["weights"]  # all blank: equal weights (an empty map is not a request's)
        return body


class PromptTemplateForm(ServiceErrorsMixin, forms.Form):
    """A project's improvement-prompt templates, and a stored run to preview them on."""

    system_template = forms.CharField(
        label="System template", strip=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    user_template = forms.CharField(
        label="User template", strip=False, widget=forms.Textarea(attrs={"rows": 14})
    )
    run = forms.ChoiceField(label="Preview on the run", required=False)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recent = Run.objects.filter(project=project, iterations_done__gte=1).order_by(
            "-created_at"
        )[:20]
        field: Any = self.fields["run"]
        field.choices = [
            (str(run.id), f"{run.created_at:%Y-%m-%d %H:%M} · {run.original_content[:60]}")
            for run in recent.only("id", "created_at", "original_content")
        ]


SERVER_REGENERATOR_CHOICE = ("RAIL_Safe_LLM", "The project's regenerator (RAIL_Safe_LLM)")


class ComparisonForm(ServiceErrorsMixin, forms.Form):
    """A regenerator A/B's arms and its number of inputs; ``regen.comparisons`` checks it."""

    champion_model = forms.ChoiceField(label="Regenerator")
    champion_version = forms.TypedChoiceField(label="Prompt template", coerce=int)
    challenger_model = forms.ChoiceField(label="Regenerator")
    challenger_version = forms.TypedChoiceField(label="Prompt template", coerce=int)
    inputs = forms.IntegerField(label="Failing inputs (N)", min_value=1, max_value=200, initial=20)
    field_aliases = {
        "champion.regeneration_model": "champion_model",
        "champion.prompt_version": "champion_version",
        "challenger.regeneration_model": "challenger_model",
        "challenger.prompt_version": "challenger_version",
        "challenger": "challenger_model",
    }

    def __init__(self, *args: Any, versions: list[dict[str, Any]], **kwargs: Any) -> None:
        models = [SERVER_REGENERATOR_CHOICE, *regenerator_choices()]
        current = next(v["version"] for v in versions if v["current"])
        other = next((v["version"] for v in versions if not v["current"]), None)
        initial = {
            "champion_model": models[0][0],
            "champion_version": current,
            "challenger_model": models[0][0] if other is not None else EMBEDDED_REGENERATOR,
            "challenger_version": current if other is None else other,
            "inputs": 20,
        }
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        labels = [
            (v["version"], f"v{v['version']}" + (" (built-in)" if v["version"] == 0 else "")
             + (" · current" if v["current"] else ""))
            for v in versions
        ]  # fmt: skip
        for arm in ("champion", "challenger"):
            cast(forms.ChoiceField, self.fields[f"{arm}_model"]).choices = models
            cast(forms.ChoiceField, self.fields[f"{arm}_version"]).choices = labels

    def request_body(self, *, dry_run: bool) -> dict[str, Any]:
        """The API's JSON body for this form (cleaned)."""
        data = self.cleaned_data
        return {
            arm: {
                "regeneration_model": data[f"{arm}_model"],
                "prompt_version": data[f"{arm}_version"],
            }
            for arm in ("champion", "challenger")
        } | {"inputs": data["inputs"], "dry_run": dry_run}
