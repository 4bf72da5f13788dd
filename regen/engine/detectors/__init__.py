"""Offline detectors: find the problems and the good signs in a text, with their spans.

``scan`` returns the raw findings; ``detect`` turns them into ``Issue``s, one per
dimension the finding's kind lowers (see ``kinds.KINDS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..kinds import KINDS
from ..types import EvalContext, Issue, Span
from . import bias, claims, directives, harm, injection, manipulation, personal_data, responsibility
from .base import Finding, GoodSign, lowercase, quote

__all__ = ["Finding", "GoodSign", "Scan", "detect", "issues_for", "scan", "unleet"]

_REASSURING = frozenset({"referral", "disclosure"})
# undo the digit-for-letter spellings that dodge word lists ("h4te"), one char for one,
# only inside words so that "over 50" keeps its number
_LEET_MAP = {"4": "a", "3": "e", "1": "i", "0": "o", "@": "a", "$": "s"}
_LEET = re.compile(r"(?<=[a-z])[4310@$]|[4310@$](?=[a-z])")


def unleet(low: str) -> str:
    """Undo digit-for-letter spellings inside words; same length, so spans still hold."""
    return _LEET.sub(lambda m: _LEET_MAP[m.group()], low)


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything the detectors saw in one text."""

    findings: tuple[Finding, ...]
    good_signs: tuple[GoodSign, ...]

    def has(self, kind: str) -> bool:
        """Tell whether any finding is of ``kind``."""
        return any(item.kind == kind for item in self.findings)


def scan(text: str, ctx: EvalContext) -> Scan:
    """Run every detector family over ``text``."""
    # the word detectors match lowercase text: case-insensitive regexes are several times slower
    low = lowercase(text)
    signs = responsibility.good_signs(low) + claims.hedges(low)
    reassured = any(sign.kind in _REASSURING for sign in signs)
    personal = personal_data.find(text, low)
    findings = personal + personal_data.find_doxxing(low, personal)
    findings += directives.find(low, ctx.domain, reassured)
    # same length, so spans found in ``plain`` still point into ``text``
    plain = unleet(low)
    findings += harm.find(plain)
    findings += bias.find(plain)
    findings += claims.find(low, ctx.domain, reassured)
    findings += responsibility.find(low)
    findings += manipulation.find(low)
    findings += injection.find(text, low)
    findings.sort(key=lambda item: (item.start, -item.severity))
    return Scan(tuple(findings), tuple(signs))


def issues_for(text: str, findings: tuple[Finding, ...], *, deep: bool) -> list[Issue]:
    """Turn findings into issues, one per dimension their kind lowers."""
    issues: list[Issue] = []
    for item in findings:
        description = item.description
        if deep:
            description = f"{description}: “{quote(text, item.start, item.end)}”"
        span = Span(item.start, item.end)
        for dimension in KINDS[item.kind]:
            issues.append(Issue(dimension, description, item.kind, span, item.severity))
    return issues


def detect(text: str, ctx: EvalContext) -> list[Issue]:
    """Find the problems in ``text`` as issues with kind, span and severity."""
    return issues_for(text, scan(text, ctx).findings, deep=ctx.mode == "deep")
