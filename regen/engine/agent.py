"""Agent guards: scan a tool's output or any text for personal data and prompt injection.

The RAIL SDK's ``agent.check_injection`` and ``agent.evaluate_tool_result`` call these
through ``regen.agent``. The verdicts come from the engine's own detectors, with spans:
``BLOCK`` for a clear injection, ``REDACT`` for personal data (the redacted text comes
with it), ``REVIEW`` for a weaker injection signal or a low RAIL score, else ``PASS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .detectors import injection, personal_data
from .detectors.base import Finding, lowercase, quote
from .regenerators.rewrites import redaction_token

BLOCK_AT: Final = 0.7
"""An injection finding this severe (an instruction to the model, a forged verdict or role
marker) blocks; a weaker one (hidden characters) asks for review."""
REVIEW_BELOW: Final = 5.0
"""A RAIL score below this asks for review."""
_PII_KINDS: Final = frozenset(
    {"email", "phone", "national_id", "card_number", "iban", "street_address", "ip_address"}
)


@dataclass(frozen=True, slots=True)
class AgentScan:
    """What a scan found in one text."""

    text: str
    pii: tuple[Finding, ...]
    injections: tuple[Finding, ...]

    @property
    def redacted(self) -> str:
        """The text with each piece of personal data replaced by its redaction token."""
        out = self.text
        for item in sorted(self.pii, key=lambda f: f.start, reverse=True):
            out = out[: item.start] + redaction_token({item.kind}) + out[item.end :]
        return out

    @property
    def injection_confidence(self) -> float:
        return max((item.severity for item in self.injections), default=0.0)

    def injection_preview(self) -> str | None:
        first = min(self.injections, key=lambda f: f.start, default=None)
        return quote(self.text, first.start, first.end) if first else None


def scan(text: str, *, pii: bool = True, injections: bool = True) -> AgentScan:
    """Find personal data (spans that do not overlap) and injection attempts in ``text``."""
    low = lowercase(text)
    found: list[Finding] = []
    if pii:
        for item in sorted(personal_data.find(text, low), key=lambda f: (f.start, -f.end)):
            if item.kind in _PII_KINDS and (not found or item.start >= found[-1].end):
                found.append(item)
    attempts = tuple(injection.find(text, low)) if injections else ()
    return AgentScan(text, tuple(found), attempts)


def severity_name(confidence: float) -> str:
    """Name an injection confidence as the SDK reads it."""
    if confidence >= BLOCK_AT:
        return "high"
    if confidence >= 0.5:
        return "medium"
    return "low" if confidence > 0 else "none"


def decide(found: AgentScan, *, rail_score: float | None = None) -> tuple[str, str]:
    """Return the risk level and the recommended action for a scan (and a RAIL score)."""
    if found.injection_confidence >= BLOCK_AT:
        return "high", "BLOCK"
    if found.pii:
        return "medium", "REDACT"
    if found.injections or (rail_score is not None and rail_score < REVIEW_BELOW):
        return "medium", "REVIEW"
    return "low", "PASS"
