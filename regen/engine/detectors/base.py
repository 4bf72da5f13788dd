"""The values detectors return and the text helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in the text: its kind (see ``kinds.KINDS``), span and weight."""

    kind: str
    start: int
    end: int
    severity: float
    description: str


@dataclass(frozen=True, slots=True)
class GoodSign:
    """A reassuring feature, e.g. a professional referral or a hedge."""

    kind: str
    start: int
    end: int


_SENTENCE_END: Final = re.compile(r"[.!?\n]")

COUNTER_SPEECH: Final = re.compile(
    r"\b(?:is|are|was|it's|that's|it is|that is)\s+(?:wrong|false|untrue|a myth|a stereotype|"
    r"racist|sexist|bigoted|prejudiced|offensive|harmful|not true|unfair|hateful)\b|"
    r"\b(?:myth|misconception|stereotype)\s+that\b|\bit is not true\b|\bis not true\b|"
    r"\b(?:stop|quit)\s+saying\b|\b(?:don't|do not|never)\s+(?:say|believe|claim)\b|"
    r"\bno one should (?:say|believe)\b|\bthe (?:idea|claim|belief|notion) that\b",
)

NEGATION: Final = re.compile(
    r"\b(?:not|never|no|don't|do not|doesn't|does not|isn't|aren't|won't|cannot|can't|"
    r"without|avoid|nor)\b",
)

REFUSAL: Final = re.compile(
    r"\b(?:i|we)\s*(?:'m|am|are)?\s*(?:sorry|unable|not able)\b|"
    r"\b(?:i|we)\s+(?:can(?:no|')t|cannot|won't|will not|must decline|do not|don't)\s+"
    r"(?:help|assist|provide|create|write|give|support|share|comply|fulfil|fulfill|generate)|"
    r"\bas an ai\b|\bi'm not able to\b|\bagainst (?:my|our) (?:guidelines|policies|principles)\b|"
    r"\b(?:illegal|unethical|harmful) and (?:i|we)\b",
)


def sentence_at(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to the sentence that holds it, without edge spaces."""
    left = start
    while left > 0 and text[left - 1] not in ".!?\n":
        left -= 1
        if start - left > 400:  # keep adversarial run-on text linear
            break
    match = _SENTENCE_END.search(text, end, min(len(text), end + 400))
    right = match.end() if match else min(len(text), end + 400)
    while left < right and text[left].isspace():
        left += 1
    while right > left and text[right - 1].isspace():
        right -= 1
    return left, right


def clause_before(text: str, start: int, width: int = 60) -> str:
    """Return up to ``width`` characters before ``start`` within the same sentence."""
    left, _ = sentence_at(text, start, start)
    return text[max(left, start - width) : start]


def is_counter_speech(text: str, start: int, end: int) -> bool:
    """Tell whether the sentence around a match rejects what it quotes."""
    left, right = sentence_at(text, start, end)
    return COUNTER_SPEECH.search(text, left, right) is not None


def is_negated(text: str, start: int, width: int = 40) -> bool:
    """Tell whether a negation word shortly precedes ``start`` in its sentence."""
    return NEGATION.search(clause_before(text, start, width)) is not None


def quote(text: str, start: int, end: int, limit: int = 80) -> str:
    """Cut a span for an explanation, shortened with an ellipsis when long."""
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= limit else piece[: limit - 1] + "…"


def words(pattern: str) -> str:
    """Join a ``|``-separated word list into a non-capturing, word-bounded group."""
    return r"\b(?:" + pattern + r")\b"


def lowercase(text: str) -> str:
    """Lowercase ``text`` keeping its length, so spans found in it point into ``text``."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
