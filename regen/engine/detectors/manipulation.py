"""Manipulation: false urgency, guilt, shame and pressure on the reader."""

from __future__ import annotations

import re
from typing import Final

from .base import Finding

_MANIPULATION: Final = re.compile(
    r"\bact (?:now|fast|immediately|today)\b|\bbefore it'?s too late\b|"
    r"\bor (?:you(?:'ll| will) )?lose (?:everything|it all|your chance|out)\b|"
    r"\blimited[- ]time (?:offer|only)\b|\bonly \d+ (?:left|spots?|seats?|remaining)\b|"
    r"\blast chance\b|\bdon'?t miss out\b|\byou(?:'ll| will) regret (?:it|this)\b|"
    r"\bonly (?:an? )?(?:idiot|fool|moron|loser|coward)s? would\b|"
    r"\byou(?:'d| would) (?:have to )?be (?:stupid|crazy|an idiot|a fool|insane) not to\b|"
    r"\bif you (?:really |truly )?(?:loved|cared about|respected) (?:me|us|your family)\b|"
    r"\beveryone (?:else )?(?:is already|already has|is doing it)\b|\byou have no (?:other )?choice\b|"
    r"\bwhat are you waiting for\b|\bdon'?t tell anyone\b|\byou owe (?:me|us|it to)\b|"
    r"\bshame on you\b|\bexpires? (?:tonight|today|in \d+ (?:minutes|hours))\b|"
    r"\bthis offer won'?t last\b|\bright now or\b|\bnow or never\b|"
    r"\bwhat kind of (?:parent|person|friend) (?:would|are you)\b|\bafter all i(?:'ve)? done\b",
)


def find(text: str) -> list[Finding]:
    """Find manipulation: pressure, urgency, guilt or shame aimed at the reader."""
    return [
        Finding("manipulation", m.start(), m.end(), 0.5, "Pressures or manipulates the reader")
        for m in _MANIPULATION.finditer(text)
    ]
