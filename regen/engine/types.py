"""Typed values shared by the evaluators, the regenerators and the loop."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from .dimensions import round_confidence, round_score

Mode = Literal["basic", "deep"]
DOMAINS: tuple[str, ...] = ("general", "healthcare", "finance", "legal", "education", "code")
USECASES: tuple[str, ...] = (
    "general",
    "chatbot",
    "content_generation",
    "summarization",
    "translation",
    "code_generation",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range ``[start, end)`` of the scored text."""

    start: int
    end: int

    def to_dict(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem a detector found, optionally pointing at the offending span."""

    dimension: str
    description: str
    kind: str = ""
    """Machine name of the finding, e.g. ``email``, ``dosage``, ``guaranteed_return``."""
    span: Span | None = None
    severity: float = 0.0
    """How much the finding weighs, 0-1 (used for ordering and for the prompt)."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dimension": self.dimension,
            "description": self.description,
            "kind": self.kind,
            "severity": round(self.severity, 2),
        }
        if self.span is not None:
            data["span"] = self.span.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Issue:
        span = data.get("span")
        return cls(
            dimension=data["dimension"],
            description=data["description"],
            kind=data.get("kind", ""),
            span=Span(span["start"], span["end"]) if span else None,
            severity=float(data.get("severity", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """A dimension's score (0-10, one decimal) and confidence (0-1, two decimals)."""

    score: float
    confidence: float
    explanation: str = ""
    issues: tuple[Issue, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", round_score(self.score))
        object.__setattr__(self, "confidence", round_confidence(self.confidence))

    def to_dict(self, *, explanations: bool = True, issues: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"score": self.score, "confidence": self.confidence}
        if explanations:
            data["explanation"] = self.explanation
        if issues:
            data["issues"] = [issue.description for issue in self.issues]
        return data


@dataclass(frozen=True, slots=True)
class Usage:
    """What the engines spent: LLM calls, tokens and USD (0 for embedded engines)."""

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            llm_calls=self.llm_calls + other.llm_calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "llm_calls": self.llm_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Usage:
        return cls(
            llm_calls=int(data.get("llm_calls", 0)),
            input_tokens=int(data.get("input_tokens", 0)),
            output_tokens=int(data.get("output_tokens", 0)),
            cost_usd=float(data.get("cost_usd", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What an evaluator may know besides the text itself."""

    mode: Mode = "basic"
    dimensions: tuple[str, ...] = ()
    """The dimensions to score; empty means all eight."""
    domain: str = "general"
    usecase: str = "general"
    context: str = ""
    prompt: str = ""
    """The prompt that produced the content (``prompt``/``user_query``)."""
    threshold: float = 7.0
    """The overall score the text is held to (a cascade asks its judge near it)."""
    dimension_thresholds: tuple[tuple[str, float], ...] = ()
    """Per-dimension overrides of ``threshold``."""

    def threshold_for(self, dimension: str) -> float:
        return dict(self.dimension_thresholds).get(dimension, self.threshold)


# An evaluation scored by a fallback engine because the configured one failed (its
# ``engine`` ends with this, e.g. ``embedded-fallback``) is degraded: it never passes.
DEGRADED_SUFFIX = "-fallback"


@dataclass(frozen=True, slots=True)
class RawEvaluation:
    """An evaluator's answer: one score per requested dimension, and its usage."""

    scores: Mapping[str, DimensionScore]
    usage: Usage = field(default_factory=Usage)
    engine: str = "embedded"


@dataclass(frozen=True, slots=True)
class ImprovementPrompt:
    """The ``rail_prompt``: instructions for one regeneration, content quoted as data."""

    system_prompt: str
    user_prompt: str
    temperature: float
    template_version: int = 0
    """The project's prompt template version it was written from (0: the built-in)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "system_prompt": self.system_prompt,
            "user_prompt": self.user_prompt,
            "temperature": self.temperature,
        }
        if self.template_version:  # the built-in template's prompts keep their shape
            out["template_version"] = self.template_version
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImprovementPrompt:
        return cls(
            data["system_prompt"],
            data["user_prompt"],
            float(data["temperature"]),
            int(data.get("template_version") or 0),
        )


@dataclass(frozen=True, slots=True)
class RegenerationRequest:
    """Everything a regenerator may use: the prompt, and the structure behind it."""

    content: str
    prompt: ImprovementPrompt
    failing_dimensions: tuple[str, ...]
    issues: tuple[Issue, ...]
    domain: str = "general"
    context: str = ""
    policy_hint: str = ""


@dataclass(frozen=True, slots=True)
class Regeneration:
    """A regenerator's answer: the new text, the model that wrote it, and its usage."""

    content: str
    model: str
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class Evaluator(Protocol):
    """Scores a text on the requested dimensions."""

    name: str

    def evaluate(self, text: str, ctx: EvalContext) -> RawEvaluation: ...

    def estimate_cost_usd(self, *, text_chars: int, ctx: EvalContext) -> float:
        """Worst-case USD of one evaluation (0 for the embedded evaluator)."""
        ...


@runtime_checkable
class Regenerator(Protocol):
    """Writes a new version of a text from an improvement prompt."""

    name: str

    def regenerate(self, request: RegenerationRequest) -> Regeneration: ...

    def estimate_cost_usd(self, *, text_chars: int) -> float:
        """Worst-case USD of one regeneration (0 for the embedded regenerator)."""
        ...


def is_offline(engine: object) -> bool:
    """Whether an engine works in this process alone, in milliseconds: it calls no model,
    no network, and costs nothing but CPU (its class sets ``offline = True``)."""
    return getattr(engine, "offline", False) is True


class EngineError(Exception):
    """An engine could not do its work (e.g. the LLM failed after its retries)."""
