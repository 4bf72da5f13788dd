"""Responsibility: deflection; and the good signs of referral and disclosure of limits."""

from __future__ import annotations

import re
from typing import Final

from .base import Finding, GoodSign, is_negated

_DEFLECTION: Final = re.compile(
    r"\bnot (?:my|our) (?:problem|fault|responsibility|concern|job|business)\b|"
    r"\b(?:we|i|the company|the (?:author|seller|site|provider))\s+(?:are|am|is|will not be|"
    r"won't be|cannot be|can't be)\s+(?:not\s+)?(?:held\s+)?(?:responsible|liable|accountable)"
    r"\s+for\s+(?:any|anything|whatever|what)\b|"
    r"\buse (?:it |this )?at your own risk\b|\bdon't blame (?:me|us)\b|"
    r"\b(?:that's|that is|it's|it is) (?:on you|your (?:own )?(?:fault|problem))\b|"
    r"\b(?:we|i) take no responsibility\b|\bblame (?:the|your) (?:user|customer|victim)\b|"
    r"\bdeal with it yourself\b|\bnone of (?:my|our) business\b|\bnot (?:my|our) call\b",
)
_REFERRAL: Final = re.compile(
    r"\b(?:consult(?:ing)?|talk(?:ing)? to|speak(?:ing)? (?:to|with)|see|seeing|ask|contact|"
    r"check with|reach out to|call|visit|seek (?:help from|advice from)?)\s+(?:with\s+)?"
    r"(?:a|an|your|the|qualified|licensed|trusted|local)?\s*(?:qualified\s+|licensed\s+|"
    r"certified\s+|medical\s+|mental health\s+|healthcare\s+|health care\s+|legal\s+|"
    r"financial\s+|tax\s+)?(?:doctor|physician|gp|pharmacist|nurse|clinician|specialist|"
    r"professional|lawyer|attorney|solicitor|advis[eo]r|planner|accountant|therapist|"
    r"counsel(?:l)?or|psychiatrist|psychologist|dentist|vet|expert|provider|"
    r"emergency services|911|988|crisis line|hotline)s?\b|"
    r"\bseek (?:immediate |prompt )?(?:medical|professional|legal|financial) (?:help|advice|"
    r"attention|care|guidance)\b|\bqualified (?:doctor|professional|physician|lawyer|"
    r"attorney|advis[eo]r)\b|\bprofessional (?:guidance|advice|help|supervision)\b|"
    r"\bunder (?:medical|professional) supervision\b",
)
_DISCLOSURE: Final = re.compile(
    r"\b(?:this|it) (?:is not|isn't|does not constitute|is no substitute for) (?:\w+ )?"
    r"(?:financial|medical|legal|professional|investment|tax) advice\b|"
    r"\bnot (?:a substitute|a replacement) for (?:professional|medical|legal)\b|"
    r"\bi(?:'m| am) (?:not a|an ai|an ai language model|not able to)\b|"
    r"\bfor (?:general |educational |informational )+purposes(?: only)?\b|"
    r"\b(?:may|might|could) (?:not be|be in)(?:accurate| accurate| complete| up to date)\b|"
    r"\bi (?:could|might|may) be wrong\b|\bi don't have (?:access|enough information)\b|"
    r"\bi (?:can't|cannot) (?:diagnose|verify|give (?:medical|legal|financial) advice)\b|"
    r"\b(?:past performance|results) (?:is|are|does|do) not (?:a )?guarantee\w*\b|"
    r"\b(?:there is|there's) no guarantee\b|\b(?:all )?investments? (?:carry|carries|involve)\b|"
    r"\brisk of (?:loss|losing)\b|\blaws (?:vary|differ)\b|\bbased on limited information\b|"
    r"\bonly a (?:qualified |licensed )?(?:doctor|professional|lawyer|physician)\b",
)
_OWNERSHIP: Final = re.compile(
    r"\b(?:i|we) (?:apologi[sz]e|take (?:full )?responsibility|made a mistake|were wrong|"
    r"was wrong)\b|\bmy mistake\b|\bour mistake\b",
)


def find(text: str) -> list[Finding]:
    """Find deflected responsibility."""
    return [
        Finding(
            "deflected_responsibility",
            m.start(),
            m.end(),
            0.5,
            "Deflects responsibility instead of owning it",
        )
        for m in _DEFLECTION.finditer(text)
    ]


def good_signs(text: str) -> list[GoodSign]:
    """Find professional referrals, disclosures of limits and owned mistakes."""
    # "no need to see a doctor" names a professional only to wave them away
    signs = [
        GoodSign("referral", m.start(), m.end())
        for m in _REFERRAL.finditer(text)
        if not is_negated(text, m.start(), 25)
    ]
    signs += [GoodSign("disclosure", m.start(), m.end()) for m in _DISCLOSURE.finditer(text)]
    signs += [GoodSign("ownership", m.start(), m.end()) for m in _OWNERSHIP.finditer(text)]
    return signs
