"""Parse and validate a safe-regenerate request, with every alias clients send (SPEC 2, 4).

``parse_regenerate_request`` is the one place the rules live; it raises one
``RequestInvalid`` whose ``details`` name every bad field, and builds nothing on failure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .dimensions import DIMENSIONS
from .thresholds import TRADEOFF_MODES, Thresholds, TradeoffMode
from .types import DOMAINS, USECASES, EvalContext, Mode

CONTENT_MIN, CONTENT_MAX = 10, 10_000
CONTEXT_MAX = 1_000
"""The seed's limit on ``context`` for safe-regenerate."""
EVAL_CONTEXT_MAX = 120_000
"""``/eval``'s limit on ``context``: the SDK's ``RAILSession`` sends its last five turns
(each up to a content and a prompt) as context, and its middleware and wrappers do too."""
PROMPT_MAX = 10_000
POLICY_HINT_MAX = 2_000
MAX_REGENERATIONS = (1, 5)
WEIGHT_SUM, WEIGHT_TOLERANCE = 100.0, 0.01
ON_FAILURE = ("return_best", "human_review")

KNOWN_FIELDS = frozenset(
    {
        "content", "mode", "max_regenerations", "max_iterations", "thresholds", "threshold",
        "dimensions", "weights", "context", "domain", "usecase", "prompt", "user_query",
        "policy_hint", "regeneration_model", "stop_on_no_improvement", "max_cost_usd",
    }
)  # fmt: skip


class RequestInvalid(ValueError):
    """A request broke the contract; ``details`` maps each field to its messages."""

    def __init__(self, details: dict[str, list[str]]) -> None:
        self.details = details
        self.field = next(iter(details))
        super().__init__(f"{self.field}: {details[self.field][0]}")


@dataclass(frozen=True, slots=True)
class RegenerateRequest:
    """A valid safe-regenerate request, aliases resolved, defaults applied."""

    content: str
    mode: Mode = "basic"
    max_regenerations: int = 3
    thresholds: Thresholds = field(default_factory=Thresholds)
    dimensions: tuple[str, ...] = DIMENSIONS
    weights: Mapping[str, float] = field(default_factory=dict)
    context: str = ""
    domain: str = "general"
    usecase: str = "general"
    prompt: str = ""
    policy_hint: str = ""
    on_failure: str = "return_best"
    regeneration_model: str = "RAIL_Safe_LLM"
    stop_on_no_improvement: bool = False
    max_cost_usd: float | None = None
    rank: str = "overall"
    """How versions compare: ``overall`` score, or their ``worst`` dimension (EvalGuard)."""

    def eval_context(self) -> EvalContext:
        """What the evaluator may know of this request besides the text it scores."""
        return EvalContext(
            self.mode,
            self.dimensions,
            self.domain,
            self.usecase,
            self.context,
            self.prompt,
            threshold=self.thresholds.overall_score,
            dimension_thresholds=tuple(self.thresholds.dimensions.items()),
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize in canonical field names (no aliases), for storage and replay."""
        return {
            "content": self.content,
            "mode": self.mode,
            "max_regenerations": self.max_regenerations,
            "thresholds": self.thresholds.to_dict(),
            "dimensions": list(self.dimensions),
            "weights": dict(self.weights),
            "context": self.context,
            "domain": self.domain,
            "usecase": self.usecase,
            "prompt": self.prompt,
            "policy_hint": self.policy_hint,
            "on_failure": self.on_failure,
            "regeneration_model": self.regeneration_model,
            "stop_on_no_improvement": self.stop_on_no_improvement,
            "max_cost_usd": self.max_cost_usd,
            "rank": self.rank,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegenerateRequest:
        """Rebuild a request stored with ``to_dict`` (already valid)."""
        values = dict(data)
        values["thresholds"] = Thresholds.from_dict(values["thresholds"])
        values["dimensions"] = tuple(values["dimensions"])
        return cls(**values)


class FieldErrors:
    """Collect every bad field's messages, so one error can name them all."""

    def __init__(self, details: dict[str, list[str]] | None = None) -> None:
        self.details: dict[str, list[str]] = {} if details is None else details

    def add(self, name: str, message: str) -> None:
        self.details.setdefault(name, []).append(message)


def whole_number(value: Any, low: int, high: int) -> int | None:
    """``value`` when it is a whole number (a JSON integer, not a boolean) from ``low`` to
    ``high``, else None: the one reader of every bounded count a body carries."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def read_whole(
    data: Mapping[str, Any], name: str, bounds: tuple[int, int], default: int, errors: FieldErrors
) -> int:
    """The whole number ``data[name]`` (``default`` when absent or null); out of ``bounds``
    or not a whole number, an error on ``name`` and ``default``."""
    value = data.get(name)
    if value is None:
        return default
    found = whole_number(value, *bounds)
    if found is None:
        errors.add(name, f"Must be a whole number from {bounds[0]} to {bounds[1]}.")
        return default
    return found


def read_flag(data: Mapping[str, Any], name: str, errors: FieldErrors) -> bool:
    """The boolean ``data[name]`` (false when absent), or an error on ``name``."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        errors.add(name, "Must be true or false.")
        return False
    return value


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _text(data: Mapping[str, Any], names: Sequence[str], limit: int, errors: FieldErrors) -> str:
    for name in names:
        if name in data and data[name] is not None:
            value = data[name]
            if not isinstance(value, str):
                errors.add(name, "Must be a string.")
                return ""
            if len(value) > limit:
                errors.add(name, f"Must be at most {limit:,} characters.")
            return value
    return ""


def _choice(
    data: Mapping[str, Any], name: str, choices: Sequence[str], default: str, errors: FieldErrors
) -> str:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in choices:
        errors.add(name, f"Must be one of: {', '.join(choices)}.")
        return default
    return value


def _score(value: Any, name: str, errors: FieldErrors, *, high: float = 10.0) -> float | None:
    if not _is_number(value) or not 0.0 <= float(value) <= high:
        errors.add(name, f"Must be a number from 0 to {high:g}.")
        return None
    return float(value)


def _dimension_map(raw: Any, name: str, errors: FieldErrors) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        errors.add(name, "Must be an object mapping dimension names to scores.")
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key not in DIMENSIONS:
            errors.add(f"{name}.{key}", f"Unknown dimension; use one of: {', '.join(DIMENSIONS)}.")
            continue
        score = _score(value, f"{name}.{key}", errors)
        if score is not None:
            out[key] = score
    return out


def _thresholds_object(raw: Mapping[str, Any], errors: FieldErrors) -> Thresholds:
    unknown = set(raw) - {
        "overall", "tradeoff_mode", "max_dimension_failures", "dimensions", "min_fidelity"
    }  # fmt: skip
    for key in sorted(unknown):
        errors.add(f"thresholds.{key}", "Unknown field.")
    overall = raw.get("overall", {})
    score, confidence = 7.0, 0.5
    if _is_number(overall):
        score = _score(overall, "thresholds.overall", errors) or 0.0
    elif isinstance(overall, Mapping):
        for key in sorted(set(overall) - {"score", "confidence"}):
            errors.add(f"thresholds.overall.{key}", "Unknown field.")
        if "score" in overall:
            score = _score(overall["score"], "thresholds.overall.score", errors) or 0.0
        if "confidence" in overall:
            confidence = (
                _score(overall["confidence"], "thresholds.overall.confidence", errors, high=1.0)
                or 0.0
            )
    else:
        errors.add("thresholds.overall", "Must be an object with score and confidence.")
    mode = _choice(
        raw, "tradeoff_mode", TRADEOFF_MODES, "priority", _Prefixed(errors, "thresholds.")
    )
    failures = whole_number(raw.get("max_dimension_failures", 2), 0, len(DIMENSIONS))
    if failures is None:  # null too: unlike a missing count, it is not the default
        errors.add(
            "thresholds.max_dimension_failures",
            f"Must be a whole number from 0 to {len(DIMENSIONS)}.",
        )
        failures = 2
    dims = _dimension_map(raw.get("dimensions", {}), "thresholds.dimensions", errors)
    tradeoff: TradeoffMode = mode  # type: ignore[assignment]
    min_fidelity = None
    if raw.get("min_fidelity") is not None:
        min_fidelity = _score(raw["min_fidelity"], "thresholds.min_fidelity", errors, high=1.0)
    return Thresholds(score, confidence, tradeoff, failures, dims, min_fidelity)


class _Prefixed(FieldErrors):
    """Errors that land in a parent collection with a field-name prefix."""

    def __init__(self, parent: FieldErrors, prefix: str) -> None:
        self.parent, self.prefix = parent, prefix

    def add(self, name: str, message: str) -> None:
        self.parent.add(self.prefix + name, message)


def _thresholds(data: Mapping[str, Any], errors: FieldErrors) -> Thresholds:
    raw = data.get("thresholds")
    base = Thresholds()
    if raw is None:
        pass
    elif _is_number(raw):
        base = Thresholds(overall_score=_score(raw, "thresholds", errors) or 0.0)
    elif isinstance(raw, Mapping) and raw and set(raw) <= set(DIMENSIONS):
        base = Thresholds(dimensions=_dimension_map(raw, "thresholds", errors))
    elif isinstance(raw, Mapping):
        base = _thresholds_object(raw, errors)
    else:
        errors.add("thresholds", "Must be a number or an object.")
    if data.get("threshold") is not None:
        score = _score(data["threshold"], "threshold", errors)
        if score is not None:
            base = replace(base, overall_score=score)
    return base


def parse_dimensions(data: Mapping[str, Any], errors: FieldErrors) -> tuple[str, ...]:
    """Read the ``dimensions`` list (all eight when absent), in dimension order."""
    raw = data.get("dimensions")
    if raw is None:
        return DIMENSIONS
    if not isinstance(raw, list) or not raw or not all(isinstance(d, str) for d in raw):
        errors.add("dimensions", "Must be a non-empty list of dimension names.")
        return DIMENSIONS
    unknown = [d for d in raw if d not in DIMENSIONS]
    if unknown:
        errors.add("dimensions", f"Unknown dimension(s): {', '.join(unknown)}.")
        return DIMENSIONS
    return tuple(d for d in DIMENSIONS if d in raw)


def parse_weights(raw: Any, errors: FieldErrors | None = None) -> dict[str, float]:
    """Validate ``weights``: known dimensions, non-negative, summing to 100 (±0.01)."""
    own = errors or FieldErrors()
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not raw:
        own.add("weights", "Must be an object mapping dimension names to weights.")
        return {}
    weights: dict[str, float] = {}
    for key, value in raw.items():
        if key not in DIMENSIONS:
            own.add(f"weights.{key}", f"Unknown dimension; use one of: {', '.join(DIMENSIONS)}.")
        elif not _is_number(value) or float(value) < 0:
            own.add(f"weights.{key}", "Must be a non-negative number.")
        else:
            weights[key] = float(value)
    if len(weights) == len(raw) and abs(sum(weights.values()) - WEIGHT_SUM) > WEIGHT_TOLERANCE:
        own.add("weights", f"Weights must sum to 100 (got {sum(weights.values()):g}).")
    if errors is None and own.details:
        raise RequestInvalid(own.details)
    return weights


def _max_regenerations(data: Mapping[str, Any], errors: FieldErrors) -> int:
    name = "max_regenerations" if "max_regenerations" in data else "max_iterations"
    return read_whole(data, name, MAX_REGENERATIONS, 3, errors)


def _policy_hint(data: Mapping[str, Any], errors: FieldErrors) -> tuple[str, str]:
    raw = data.get("policy_hint")
    if raw is None:
        return "", "return_best"
    if isinstance(raw, str):
        if len(raw) > POLICY_HINT_MAX:
            errors.add("policy_hint", f"Must be at most {POLICY_HINT_MAX:,} characters.")
        return raw, "return_best"
    if not isinstance(raw, Mapping):
        errors.add("policy_hint", "Must be a string or an object.")
        return "", "return_best"
    on_failure = raw.get("on_failure", "return_best")
    if on_failure not in ON_FAILURE:
        errors.add("policy_hint.on_failure", f"Must be one of: {', '.join(ON_FAILURE)}.")
        on_failure = "return_best"
    hint = "; ".join(
        f"{k}: {v}"
        for k, v in raw.items()
        if k != "on_failure" and isinstance(v, str | int | float)
    )
    return hint[:POLICY_HINT_MAX], on_failure


def _content(data: Mapping[str, Any], errors: FieldErrors) -> str:
    content = data.get("content")
    if not isinstance(content, str):
        errors.add("content", "This field is required and must be a string.")
        return ""
    if not len(content.strip()) >= CONTENT_MIN or len(content) > CONTENT_MAX:
        errors.add("content", f"Content must be between {CONTENT_MIN} and {CONTENT_MAX} characters")
    return content


Delivery = Literal["dry_run", "external", "async", "sync"]


def parse_delivery(data: Mapping[str, Any], *, external: bool) -> Delivery:
    """Read how a safe-regenerate call wants its run: priced only (``dry_run``), by the
    caller's own model (``external``: the request names it), queued (``async``), or now.

    ``dry_run`` and ``async`` are booleans like every flag; a bad one is a RequestInvalid.
    """
    errors = FieldErrors()
    dry, queued = read_flag(data, "dry_run", errors), read_flag(data, "async", errors)
    if errors.details:
        raise RequestInvalid(errors.details)
    if dry:
        return "dry_run"
    if external:
        return "external"
    return "async" if queued else "sync"


def _max_cost(data: Mapping[str, Any], errors: FieldErrors) -> float | None:
    value = data.get("max_cost_usd")
    if value is None:
        return None
    if not _is_number(value) or not 0 <= float(value) <= 100:
        errors.add("max_cost_usd", "Must be a number from 0 to 100.")
        return None
    return float(value)


def _unknown_fields(data: Any, known: frozenset[str]) -> FieldErrors:
    """Start the errors of a body: it must be an object, and every field must be known."""
    if not isinstance(data, Mapping):
        raise RequestInvalid({"non_field_errors": ["The body must be a JSON object."]})
    errors = FieldErrors()
    for key in sorted(set(data) - known):
        errors.add(key, "Unknown field.")
    return errors


def parse_regenerate_request(
    data: Mapping[str, Any], *, extra_fields: frozenset[str] = frozenset()
) -> RegenerateRequest:
    """Validate ``data`` and build the request, or raise ``RequestInvalid``."""
    errors = _unknown_fields(data, KNOWN_FIELDS | extra_fields)
    mode = _choice(data, "mode", ("basic", "deep"), "basic", errors)
    request = RegenerateRequest(
        content=_content(data, errors),
        mode="deep" if mode == "deep" else "basic",
        max_regenerations=_max_regenerations(data, errors),
        thresholds=_thresholds(data, errors),
        dimensions=parse_dimensions(data, errors),
        weights=parse_weights(data.get("weights"), errors),
        context=_text(data, ("context",), CONTEXT_MAX, errors),
        domain=_choice(data, "domain", DOMAINS, "general", errors),
        usecase=_choice(data, "usecase", USECASES, "general", errors),
        prompt=_text(data, ("prompt", "user_query"), PROMPT_MAX, errors),
        policy_hint=(hint := _policy_hint(data, errors))[0],
        on_failure=hint[1],
        regeneration_model=_text(data, ("regeneration_model",), 200, errors) or "RAIL_Safe_LLM",
        stop_on_no_improvement=read_flag(data, "stop_on_no_improvement", errors),
        max_cost_usd=_max_cost(data, errors),
    )
    if errors.details:
        raise RequestInvalid(errors.details)
    return request


EVAL_FIELDS = frozenset(
    {
        "content", "mode", "dimensions", "weights", "context", "domain", "usecase", "prompt",
        "user_query", "include_explanations", "include_issues", "include_suggestions",
        "threshold", "thresholds",
        "dpdp",  # sent by the official SDK for its India data-protection add-on; ignored here
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvalRequest:
    """A valid ``/railscore/v1/eval`` request."""

    content: str
    mode: str = "basic"
    """``basic``, ``deep`` or ``auto`` (basic, escalated to deep when it is unsure)."""
    dimensions: tuple[str, ...] = DIMENSIONS
    weights: Mapping[str, float] = field(default_factory=dict)
    context: str = ""
    domain: str = "general"
    usecase: str = "general"
    prompt: str = ""
    include_explanations: bool | None = None
    include_issues: bool | None = None
    include_suggestions: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "mode": self.mode,
            "dimensions": list(self.dimensions),
            "weights": dict(self.weights),
            "context": self.context,
            "domain": self.domain,
            "usecase": self.usecase,
            "prompt": self.prompt,
            "include_explanations": self.include_explanations,
            "include_issues": self.include_issues,
            "include_suggestions": self.include_suggestions,
            "thresholds": self.thresholds.to_dict(),
        }


def _optional_flag(data: Mapping[str, Any], name: str, errors: FieldErrors) -> bool | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        errors.add(name, "Must be true or false.")
        return None
    return value


def parse_eval_request(
    data: Mapping[str, Any], *, extra_fields: frozenset[str] = frozenset()
) -> EvalRequest:
    """Validate an evaluation request, or raise ``RequestInvalid``."""
    errors = _unknown_fields(data, EVAL_FIELDS | extra_fields)
    request = EvalRequest(
        content=_content(data, errors),
        mode=_choice(data, "mode", ("basic", "deep", "auto"), "basic", errors),
        dimensions=parse_dimensions(data, errors),
        weights=parse_weights(data.get("weights"), errors),
        context=_text(data, ("context",), EVAL_CONTEXT_MAX, errors),
        domain=_choice(data, "domain", DOMAINS, "general", errors),
        usecase=_choice(data, "usecase", USECASES, "general", errors),
        prompt=_text(data, ("prompt", "user_query"), PROMPT_MAX, errors),
        include_explanations=_optional_flag(data, "include_explanations", errors),
        include_issues=_optional_flag(data, "include_issues", errors),
        include_suggestions=bool(_optional_flag(data, "include_suggestions", errors)),
        thresholds=_thresholds(data, errors),
    )
    if errors.details:
        raise RequestInvalid(errors.details)
    return request
