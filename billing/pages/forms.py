"""Forms of the billing pages: they check shape; the domain modules check the rules.

A domain error (``RequestValidationError`` with ``details``, ``InvalidAmount``, ...) is
put back on the form beside the field it names, so the page shows the same message the
API would answer with.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from billing import ledger
from billing.accounts import POLICY_FIELDS, stored_thresholds
from billing.errors import InsufficientCredits, InvalidAmount
from billing.models import MODES, Account, LedgerEntry, LedgerEntryQuerySet, Project
from railsite.errors import ServiceError
from railsite.forms import ServiceErrorsMixin
from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS
from regen.engine.requests import (
    MAX_REGENERATIONS,
)
from regen.engine.thresholds import TRADEOFF_MODES
from regen.engine.types import DOMAINS


def _budget_field() -> forms.DecimalField:
    return forms.DecimalField(
        label="Monthly credit budget (optional)",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000000"),
        max_digits=12,
        decimal_places=2,
        help_text="Optional: the most credits this key may spend in a calendar month (UTC); "
        "a call that would pass it gets a 402. Empty: no limit but the balance.",
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "any", "placeholder": "no limit"}),
    )


class KeyForm(ServiceErrorsMixin, forms.Form):
    """Create an API key for one of the account's projects, with an optional budget."""

    name = forms.CharField(max_length=120, help_text="What uses the key, e.g. “billing worker”.")
    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)
    monthly_credit_budget = _budget_field()

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["project"]
        field.queryset = account.projects.order_by("name")  # no other account's project
        field.label_from_instance = lambda project: f"{project.name} ({project.environment})"


class BudgetForm(ServiceErrorsMixin, forms.Form):
    """Set or clear one key's monthly credit budget."""

    monthly_credit_budget = _budget_field()


class ProjectForm(ServiceErrorsMixin, forms.Form):
    """Create a project (an environment of the account) with the default policy."""

    field_aliases = {"slug": "name"}
    name = forms.CharField(max_length=120)
    environment = forms.CharField(max_length=40, initial="production")


class LedgerFilterForm(forms.Form):
    """Narrow the ledger to lines with one kind of entry and/or one reference (a req_id)."""

    kind = forms.ChoiceField(choices=[("", "All kinds"), *LedgerEntry.Kind.choices], required=False)
    reference = forms.CharField(max_length=100, required=False)

    def lines(self, entries: LedgerEntryQuerySet) -> QuerySet[Any]:
        """Return the ledger's lines (``LedgerEntry.objects.lines``) the filters keep."""
        if not self.is_valid():
            return entries.lines()
        if reference := self.cleaned_data["reference"].strip():
            entries = entries.filter(reference=reference)
        return entries.lines(kind=self.cleaned_data["kind"])


class CreditChangeForm(ServiceErrorsMixin, forms.Form):
    """Staff: grant, record a purchase of, or adjust an account's credits, with a reason."""

    OPERATIONS = [
        ("grant", "Grant (add credits)"),
        ("purchase", "Purchase (add credits)"),
        ("adjustment", "Adjustment (signed correction)"),
    ]
    MAX_CHANGE = Decimal("1000000")
    """The most one change may move: a typo of a few extra digits cannot mint billions."""
    CONFIRM_FROM = Decimal("100000")
    """From this size on, a change must be confirmed."""

    operation = forms.ChoiceField(choices=OPERATIONS)
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Negative only for an adjustment; at most 1,000,000 at once.",
    )
    reason = forms.CharField(max_length=200, help_text="Kept in the ledger entry.")
    confirm = forms.BooleanField(
        required=False, label="I confirm this large change (100,000 credits or more)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("amount")
        if amount is None:
            return data
        if abs(amount) > self.MAX_CHANGE:
            self.add_error("amount", f"At most {self.MAX_CHANGE:,.0f} credits in one change.")
        elif abs(amount) >= self.CONFIRM_FROM and not data.get("confirm"):
            self.add_error(
                "confirm", f"Confirm a change of {abs(amount):,.2f} credits: it is unusually large."
            )
        return data

    def apply(self, *, account: Account, user: Any) -> LedgerEntry | None:
        """Call the ledger; return the new entry, or None with the errors on the form."""
        data = self.cleaned_data
        try:
            if data["operation"] == "adjustment":
                return ledger.adjust(
                    account=account, amount=data["amount"], reason=data["reason"], created_by=user
                )
            return ledger.grant(
                account=account,
                amount=data["amount"],
                memo=data["reason"],
                kind=data["operation"],
                created_by=user,
            )
        except (InvalidAmount, InsufficientCredits) as exc:
            self.add_error("amount", exc.message)
        except ServiceError as exc:
            self.add_service_error(exc)
        return None


def _score(label: str, *, high: float = 10.0, step: str = "0.1") -> forms.FloatField:
    widget = forms.NumberInput(attrs={"step": step, "min": 0, "max": high})
    return forms.FloatField(label=label, required=False, widget=widget)


THRESHOLD_ALIASES = {
    "thresholds": "overall_score",
    "thresholds.overall": "overall_score",
    "thresholds.overall.score": "overall_score",
    "thresholds.overall.confidence": "overall_confidence",
    "thresholds.tradeoff_mode": "tradeoff_mode",
    "thresholds.max_dimension_failures": "max_dimension_failures",
    **{f"thresholds.dimensions.{d}": f"threshold_{d}" for d in DIMENSIONS},
    **{f"weights.{d}": f"weight_{d}" for d in DIMENSIONS},
}


class ThresholdsForm(ServiceErrorsMixin, forms.Form):
    """Thresholds and weights, as the policy editor and the what-if edit them; the API's
    own parser checks them (``update_policy``, ``whatif.parse_policy``)."""

    overall_score = _score("Overall score (0–10)")
    overall_confidence = _score("Minimum confidence (0–1)", high=1.0, step="0.01")
    tradeoff_mode = forms.ChoiceField(choices=[(m, m) for m in TRADEOFF_MODES])
    max_dimension_failures = forms.IntegerField(
        label="Max failures",
        help_text="Priority mode: how many non-required dimensions may fail.",
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": len(DIMENSIONS)}),
    )
    field_aliases = THRESHOLD_ALIASES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weights_errors: list[str] = []
        for dim in DIMENSIONS:
            name = DIMENSION_INFO[dim].name
            self.fields[f"threshold_{dim}"] = _score(name)
            self.fields[f"weight_{dim}"] = _score(name, high=100.0, step="any")

    @staticmethod
    def initial_for(project: Project) -> dict[str, Any]:
        """The form's values for the project's stored thresholds and weights."""
        thresholds = stored_thresholds(project)
        weights = project.weights if isinstance(project.weights, dict) else {}
        return {
            "overall_score": thresholds.overall_score,
            "overall_confidence": thresholds.overall_confidence,
            "tradeoff_mode": thresholds.tradeoff_mode,
            "max_dimension_failures": thresholds.max_dimension_failures,
            **{f"threshold_{d}": v for d, v in thresholds.dimensions.items()},
            **{f"weight_{d}": v for d, v in weights.items()},
        }

    @property
    def threshold_fields(self) -> list[forms.BoundField]:
        return [self[f"threshold_{d}"] for d in DIMENSIONS]

    @property
    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{d}"] for d in DIMENSIONS]

    def thresholds_and_weights(self) -> dict[str, Any]:
        """Return the cleaned ``thresholds`` and ``weights`` as a request spells them."""
        data = self.cleaned_data
        overall = {
            key: data[name]
            for key, name in (("score", "overall_score"), ("confidence", "overall_confidence"))
            if data[name] is not None
        }
        thresholds: dict[str, Any] = {"tradeoff_mode": data["tradeoff_mode"]}
        if overall:
            thresholds["overall"] = overall
        if data["max_dimension_failures"] is not None:
            thresholds["max_dimension_failures"] = data["max_dimension_failures"]
        dims = {d: data[f"threshold_{d}"] for d in DIMENSIONS if data[f"threshold_{d}"] is not None}
        if dims:
            thresholds["dimensions"] = dims
        weights = {d: data[f"weight_{d}"] for d in DIMENSIONS if data[f"weight_{d}"] is not None}
        return {"thresholds": thresholds, "weights": weights}

    def add_service_error(self, exc: ServiceError, *, default: str | None = None) -> None:
        details = exc.extra.get("details") or {}
        self.weights_errors += details.pop("weights", [])
        super().add_service_error(exc, default=default)


class PolicyForm(ThresholdsForm):
    """A project's policy. Thresholds and weights are checked by the API's own parser."""

    default_mode = forms.ChoiceField(choices=[(m, m) for m in MODES])
    domain = forms.ChoiceField(choices=[(d, d) for d in DOMAINS])
    locked = forms.BooleanField(
        required=False, label="Locked: the policy overrides what requests ask for"
    )
    enforcement = forms.ChoiceField(choices=Project.Enforcement.choices)
    enforcement_mode = forms.ChoiceField(choices=Project.EnforcementMode.choices)
    regenerate_enabled = forms.BooleanField(required=False, label="Safe regenerate enabled")
    regenerate_max_attempts = forms.IntegerField(
        label="Max attempts",
        widget=forms.NumberInput(attrs={"min": MAX_REGENERATIONS[0], "max": MAX_REGENERATIONS[1]}),
    )
    regenerate_fallback = forms.ChoiceField(label="Fallback", choices=Project.Fallback.choices)
    webhook_url = forms.URLField(
        required=False,
        max_length=500,
        label="Webhook URL",
        assume_scheme="https",
        help_text="Receives a signed POST (review.decided) for every review decision.",
    )
    review_by_key = forms.BooleanField(
        required=False,
        label="API keys may decide review items (never those their own calls created)",
    )
    evaluator = forms.ChoiceField(
        required=False,
        choices=[
            ("", "The server's default"),
            ("embedded", "Embedded (offline, free)"),
            ("llm", "LLM judge"),
            ("cascade", "Cascade: embedded, the LLM judge only when unsure"),
        ],
        help_text="Who scores this project's texts.",
    )
    judge_model = forms.ChoiceField(
        required=False, label="Judge model", help_text="For the LLM judge and the cascade."
    )
    regenerator = forms.ChoiceField(
        required=False,
        label="Default regenerator",
        help_text="What RAIL_Safe_LLM means for this project's requests.",
    )

    field_aliases = {**THRESHOLD_ALIASES, "max_regenerations": "regenerate_max_attempts"}
    POLICY_FIELDS = POLICY_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        models = [(name, name) for name in _model_names()]
        initial = self.initial
        for name, first in (
            ("judge_model", [("", "The server's judge")]),
            ("regenerator", [("", "The server's regenerator"), ("embedded", "Embedded")]),
        ):
            stored = initial.get(name) or ""
            known = {value for value, _ in first + models}
            missing = [(stored, f"{stored} (no longer configured)")] if stored not in known else []
            field: Any = self.fields[name]
            field.choices = first + models + missing

    @classmethod
    def for_project(cls, project: Project, data: Any = None) -> PolicyForm:
        """Return the form for the project's policy, bound to ``data`` if given."""
        initial: dict[str, Any] = {name: getattr(project, name) for name in cls.POLICY_FIELDS}
        return cls(data, initial=initial | cls.initial_for(project))

    def policy(self) -> dict[str, Any]:
        """Return the cleaned policy as ``update_policy`` takes it."""
        values = {name: self.cleaned_data[name] for name in self.POLICY_FIELDS}
        return {**self.thresholds_and_weights(), **values}


def _model_names() -> list[str]:
    from regen.providers import model_names

    try:
        return model_names()
    except ServiceError:  # misconfigured providers: the page still opens, with none listed
        return []
