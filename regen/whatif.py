"""Threshold what-if: replay the stored scores of a project's past runs against another policy.

Every run keeps its iteration 0's per-dimension scores and confidences as columns
(``Run.first_*``, written by ``runs.apply_loop``). One SQL aggregation replays them: the
overall score and confidence are recomputed with the what-if weights and rounded as shown,
each dimension is judged against its threshold and the confidence rule, the tradeoff mode
decides, and the runs are counted per day and outcome. Nothing is scored, nothing charged.

The decision is ``regen.engine.thresholds.decide``'s, exactly (``tests/regen/
test_whatif.py`` recomputes it run by run): critical content goes to review whatever the
thresholds; a degraded evaluation never passes.

Credits (an estimate, from the price table of ``engines.get_prices``):
- passes at once: one evaluation (the run's mode, its number of dimensions);
- review (critical): one evaluation, as the loop charges;
- regenerate: the evaluation, then per regeneration one regeneration and one evaluation
  (no regeneration credits for a client-side session). How many regenerations: the run's
  own when it did regenerate (the best evidence of how hard the text is to fix), else its
  ``max_regenerations`` (the worst case a hold would take). ``worst_case`` prices every
  regenerating run at its ``max_regenerations``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from billing.accounts import policy_probe
from billing.models import Project
from railsite.errors import RequestValidationError
from regen.engine.dimensions import DIMENSIONS
from regen.engine.pricing import Prices
from regen.engine.requests import (
    FieldErrors,
    RequestInvalid,
    parse_regenerate_request,
    read_whole,
)
from regen.engine.scoring import Evaluation
from regen.engine.thresholds import Thresholds
from regen.models import Run

DAYS_DEFAULT, DAYS_MAX = 30, 365
FIELDS = frozenset({"thresholds", "weights", "days"})
PASS, REGENERATE, REVIEW = 0, 1, 2
OUTCOMES = {PASS: "pass", REGENERATE: "regenerate", REVIEW: "review"}


def first_columns(evaluation: Evaluation) -> dict[str, Any]:
    """Flatten an iteration-0 evaluation into the ``Run.first_*`` columns."""
    columns: dict[str, Any] = {}
    for dimension in DIMENSIONS:
        scored = evaluation.scores.get(dimension)
        columns[f"first_{dimension}"] = scored.score if scored else None
        columns[f"first_{dimension}_confidence"] = scored.confidence if scored else None
    columns["first_degraded"] = evaluation.degraded
    columns["first_critical"] = evaluation.is_critical
    return columns


class Shown(Func):
    """A 0-``high`` value rounded as the contract shows it (``round_score``,
    ``round_confidence``: clamp, add 1e-9, round to ``places``)."""

    output_field = FloatField()
    template = "ROUND(%(expressions)s)"

    def __init__(self, expression: Any, *, places: int, high: float) -> None:
        clamped = Least(Value(high), Greatest(Value(0.0), expression))
        super().__init__(clamped + Value(1e-9), Value(places))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # float8 -> text is the shortest exact form (as Python's repr), so numeric rounds
        # the same digits Python's round() does; a plain float8 -> numeric keeps 15 digits
        value, places = self.source_expressions
        value_sql, value_params = compiler.compile(value)
        places_sql, places_params = compiler.compile(places)
        sql = (
            f"CAST(ROUND(CAST(CAST(CAST({value_sql} AS double precision) AS text) AS numeric), "
            f"{places_sql}) AS double precision)"
        )
        return sql, [*value_params, *places_params]


def _float(value: float) -> Value:
    return Value(float(value), output_field=FloatField())


def _present(dimension: str, then: Any, default: Any) -> Case:
    return Case(When(**{f"first_{dimension}__isnull": False}, then=then), default=default)


def _weighted_sum(column: str, weights: Mapping[str, float]) -> Any:
    """Sum ``first_<d><column> * weight`` in dimension order, as ``scoring.aggregate`` does
    (an absent or weightless dimension adds 0.0, which changes no float: left out)."""
    terms = [
        Coalesce(F(f"first_{d}{column}") * _float(weights[d]), _float(0.0))
        for d in DIMENSIONS
        if weights[d]
    ]
    return _sum(terms)


def _weight_sum(weights: Mapping[str, float]) -> Any:
    """Sum the weights of the evaluated dimensions, in dimension order."""
    return _sum([_present(d, _float(weights[d]), _float(0.0)) for d in DIMENSIONS if weights[d]])


def _weighted_means(weights: Mapping[str, float]) -> tuple[Any, Any, dict[str, Any]]:
    """The overall score and confidence before rounding, weighed as ``scoring.aggregate``
    does (``effective_weights``): the weights given, else equal when those weigh the run's
    dimensions 0. Returns both expressions and the aliases they need."""
    equal = dict.fromkeys(DIMENSIONS, 1.0)
    aliases: dict[str, Any] = {"_equal_weight": _weight_sum(equal)}
    score = _weighted_sum("", equal) / F("_equal_weight")
    confidence = _weighted_sum("_confidence", equal) / F("_equal_weight")
    if any(weights.values()):
        given = {d: float(weights.get(d, 0.0)) for d in DIMENSIONS}
        aliases["_weight"] = _weight_sum(given)
        score = Case(
            When(_weight__gt=0, then=_weighted_sum("", given) / F("_weight")),
            default=score,
            output_field=FloatField(),
        )
        confidence = Case(
            When(_weight__gt=0, then=_weighted_sum("_confidence", given) / F("_weight")),
            default=confidence,
            output_field=FloatField(),
        )
    return score, confidence, aliases


def _fails(dimension: str, thresholds: Thresholds) -> Any:
    """1 when the dimension was evaluated and fails (score or confidence short), else 0."""
    score, confidence = f"first_{dimension}", f"first_{dimension}_confidence"
    short = Q(**{f"{score}__lt": thresholds.threshold_for(dimension)}) | Q(
        **{f"{confidence}__lt": thresholds.overall_confidence}
    )
    return Case(
        When(Q(**{f"{score}__isnull": False}) & short, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


def _sum(terms: list[Any]) -> Any:
    if not terms:
        return Value(0, output_field=IntegerField())
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def replay_rows(
    runs: Any, *, thresholds: Thresholds, weights: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Count ``runs`` per day and outcome under ``thresholds`` and ``weights``, with what
    prices them (mode, evaluated dimensions, client-side or not, regenerations): one SQL
    statement, each per-run expression computed once (grouped by position)."""
    strict = thresholds.tradeoff_mode == "strict"
    weighted = thresholds.tradeoff_mode == "weighted"
    required = [d for d in DIMENSIONS if strict or (not weighted and d in thresholds.dimensions)]
    optional = [d for d in DIMENSIONS if d not in required]
    score, confidence, aliases = _weighted_means(weights)
    passing = Q(
        _overall__gte=thresholds.overall_score,
        _confidence__gte=thresholds.overall_confidence,
        first_degraded=False,
        _required_fails=0,
    )
    if strict:
        passing &= Q(_optional_fails=0)
    elif not weighted:
        passing &= Q(_optional_fails__lte=thresholds.max_dimension_failures)
    regenerations = Case(
        When(iterations_done__gt=1, then=F("iterations_done") - 1),
        default=F("max_regenerations"),
        output_field=IntegerField(),
    )
    rows = (
        runs.filter(first_critical__isnull=False)
        .alias(**aliases)
        .alias(
            _overall=Shown(score, places=1, high=10.0),
            _confidence=Shown(confidence, places=2, high=1.0),
            _required_fails=_sum([_fails(d, thresholds) for d in required]),
            _optional_fails=_sum([_fails(d, thresholds) for d in optional]),
        )
        .annotate(
            day=TruncDate("created_at"),
            outcome=Case(
                When(first_critical=True, then=Value(REVIEW)),
                When(passing, then=Value(PASS)),
                default=Value(REGENERATE),
                output_field=IntegerField(),
            ),
            dimensions=_sum([_present(d, Value(1), Value(0)) for d in DIMENSIONS]),
        )
        .values("day", "outcome", "mode", "dimensions", "external")
        .annotate(
            runs=Count("id"),
            regenerations=Sum(regenerations),
            worst_regenerations=Sum("max_regenerations"),
            actual_credits=Sum("credits_consumed"),
        )
        .order_by("day", "outcome")
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Tally:
    """Runs and the credits they would cost, under one outcome or in all."""

    runs: int = 0
    credits: Decimal = Decimal(0)
    worst_case: Decimal = Decimal(0)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.runs + other.runs, self.credits + other.credits, self.worst_case + other.worst_case
        )

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "credits": self.credits, "credits_worst_case": self.worst_case}


def _tally(row: Mapping[str, Any], prices: Prices) -> Tally:
    """Price one group of runs (see the module's docstring for the model)."""
    mode = row["mode"] if row["mode"] in ("basic", "deep") else "basic"
    one = prices.evaluation(mode, row["dimensions"])
    evaluations = one * row["runs"]
    if row["outcome"] != REGENERATE:
        return Tally(row["runs"], evaluations, evaluations)
    step = one + (Decimal(0) if row["external"] else prices.regeneration)
    return Tally(
        row["runs"],
        evaluations + step * row["regenerations"],
        evaluations + step * row["worst_regenerations"],
    )


def summarize(rows: list[dict[str, Any]], prices: Prices) -> dict[str, Any]:
    """Fold the rows (per day and outcome) into totals and a series per day."""
    totals = dict.fromkeys(OUTCOMES.values(), Tally())
    actual = Decimal(0)
    days: dict[dt.date, dict[str, Tally]] = {}
    charged: dict[dt.date, Decimal] = {}
    for row in rows:
        name, tally = OUTCOMES[row["outcome"]], _tally(row, prices)
        totals[name] = totals[name] + tally
        day = days.setdefault(row["day"], dict.fromkeys(OUTCOMES.values(), Tally()))
        day[name] = day[name] + tally
        charged[row["day"]] = charged.get(row["day"], Decimal(0)) + (row["actual_credits"] or 0)
        actual += row["actual_credits"] or 0
    runs = sum(t.runs for t in totals.values())
    everything = sum(totals.values(), Tally())
    return {
        "runs": runs,
        "pass_rate": round(100.0 * totals["pass"].runs / runs, 1) if runs else None,
        "outcomes": {name: t.to_dict() for name, t in totals.items()},
        "credits": everything.credits,
        "credits_worst_case": everything.worst_case,
        "credits_actual": actual,
        "per_day": [
            {
                "date": day.isoformat(),
                **{name: t.runs for name, t in tallies.items()},
                "credits": sum(tallies.values(), Tally()).credits,
                "credits_actual": charged[day],
            }
            for day, tallies in sorted(days.items())
        ],
    }


@dataclass(frozen=True, slots=True)
class Policy:
    """What a what-if asks: thresholds and weights (checked by the API's own parser) and
    how many days back to replay."""

    thresholds: Thresholds
    weights: Mapping[str, float]
    days: int = DAYS_DEFAULT


def parse_policy(data: Any) -> Policy:
    """Validate a what-if request with the rules of a request's thresholds and weights;
    raise ``RequestValidationError`` (400, details per field) otherwise."""
    if not isinstance(data, Mapping):
        raise RequestValidationError("The body must be a JSON object.")
    details: dict[str, list[str]] = {
        key: ["Unknown field."] for key in sorted(set(data) - FIELDS, key=str)
    }
    days = read_whole(data, "days", (1, DAYS_MAX), DAYS_DEFAULT, FieldErrors(details))
    try:
        probe = policy_probe(thresholds=data.get("thresholds"), weights=data.get("weights"))
        parsed = parse_regenerate_request(probe)
    except RequestInvalid as exc:
        details |= exc.details
        parsed = None
    if details or parsed is None:
        raise RequestValidationError("The what-if is not valid.", details=details)
    return Policy(parsed.thresholds, dict(parsed.weights), days)


def what_if(
    *,
    project: Project,
    thresholds: Thresholds,
    weights: Mapping[str, float],
    prices: Prices,
    days: int = DAYS_DEFAULT,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Replay the project's runs of the last ``days`` days under another policy."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    # an A/B's replays are the same inputs again: counting them would count those twice
    runs = Run.objects.filter(project=project, created_at__gte=since).exclude(
        kind=Run.Kind.COMPARISON
    )
    rows = runs.replayed(thresholds=thresholds, weights=weights)
    return {
        "project": {"id": project.pk, "name": project.name},
        "days": days,
        "thresholds": thresholds.to_dict(),
        "weights": dict(weights),
        **summarize(rows, prices),
    }


def replay_policy(
    *, project: Project, policy: Policy, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Replay the project's runs under ``policy`` at the configured prices."""
    from regen.engines import get_prices

    return what_if(
        project=project,
        thresholds=policy.thresholds,
        weights=policy.weights,
        prices=get_prices(),
        days=policy.days,
        now=now,
    )
