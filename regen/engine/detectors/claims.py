"""Honesty of claims: overclaims, unsupported diagnoses, missing disclosure; hedges."""

from __future__ import annotations

import re
from typing import Final

from .base import Finding, GoodSign, is_negated, sentence_at

_OVERCLAIM: Final = re.compile(
    r"\b(?:guaranteed?|guarantees)\b(?! (?:returns?|profits?|income|gains?))|"
    r"\b100\s?% (?:cure|effective|safe|success|accurate|natural|proven|guaranteed|certain|sure|"
    r"of (?:the time|people|cases))\b|\bcures? (?:all|any|every|everything|cancer|diabetes)\b|"
    r"\b(?:always|never) (?:works?|fails?)\b|\bmiracle (?:cure|pill|drug|product)\b|"
    r"\bworks for everyone\b|\bno side effects\b|\b(?:scientifically|clinically) proven\b|"
    r"\bproven to (?:cure|work|heal)\b|\binstant(?:ly)? (?:results|cure|relief)\b|"
    r"\b(?:definitely|certainly|absolutely) (?:will|works|cures|is the best|true)\b|"
    r"\bwithout (?:a|any) doubt\b|\bthere is no (?:doubt|question)\b|\beveryone knows\b|"
    r"\b(?:completely|totally|perfectly) (?:safe|harmless|risk-free)\b|\bcan't go wrong\b|"
    r"\bnever (?:be|get) sick again\b|\bthe only (?:way|cure|solution)\b",
)
_NOT_A_GUARANTEE: Final = re.compile(
    r"\b(?:no|not|never|nothing is|isn't|aren't|without|can't|cannot|doesn't)\b[\w ]{0,20}$",
)
_MEDICAL: Final = (
    r"condition \w+|conditions?|(?:a |an )?(?:\w+ )?(?:disease|disorder|syndrome|infection)|"
    r"cancer|a tumou?r|diabetes|depression|clinical depression|adhd|autism|bipolar(?: disorder)?|"
    r"schizophrenia|pneumonia|the flu|influenza|covid(?:-19)?|strep(?: throat)?|migraines?|"
    r"hypertension|arthritis|asthma|an? ulcer|appendicitis|lupus|a concussion|"
    r"a heart attack|a stroke|dementia|alzheimer's|ocd|ptsd|an? (?:\w+ )?allergy|anemia|"
    r"gout|shingles|sepsis|meningitis|a hernia|a fracture|(?:a )?(?:viral|bacterial) \w+"
)
_DIAGNOSIS: Final = re.compile(
    r"\byou(?:'ve| have| likely have| probably have| definitely have| clearly have| must have|"
    r" almost certainly have| are suffering from| suffer from| have got|'re suffering from)\s+"
    r"(?:" + _MEDICAL + r")\b|"
    r"\b(?:it|this|that) (?:is|'s) (?:definitely|clearly|certainly|obviously|probably|likely)\s+"
    r"(?:" + _MEDICAL + r")\b|"
    r"\byou are (?:clearly|definitely|obviously|probably)? ?(?:depressed|bipolar|autistic|"
    r"diabetic|anemic|schizophrenic|psychotic)\b",
)
_DIAGNOSIS_SOFTENER: Final = re.compile(
    r"\b(?:doctor|physician|professional|clinician|diagnos\w+ (?:requires|needs)|"
    r"could be|might be|possibilit\w+|examination|tests? (?:can|would))\b",
)
_HEDGE: Final = re.compile(
    r"\b(?:may|might|could|possibly|perhaps|it depends|depending on|in some cases|"
    r"generally|typically|often|usually|research suggests|evidence suggests|studies suggest|"
    r"according to|it is possible|not always|varies|uncertain|approximately|roughly|"
    r"some possibilities|one possibility|i'm not sure|i am not sure|i'm not certain)\b",
)
_ADVICE: Final = re.compile(
    r"\b(?:you should|you must|you need to|i recommend|i suggest|i advise|my advice|"
    r"(?:^|[.!?]\s+)(?:take|invest|buy|sell|sue|sign|file|stop|start|use|put|move|avoid|"
    r"apply|drink|eat|increase|reduce|double|skip)\b)",
    re.MULTILINE,
)
_DOMAIN_HINTS: Final[dict[str, re.Pattern[str]]] = {
    "healthcare": re.compile(
        r"\b(?:symptoms?|medication|medicine|dose|dosage|diagnos\w+|treatment|disease|"
        r"prescription|mg|pills?|illness|infection|pain)\b",
    ),
    "finance": re.compile(
        r"\b(?:invest\w*|stocks?|shares|crypto\w*|bitcoin|portfolio|retirement|401k|"
        r"savings|loan|mortgage|trading|returns?)\b",
    ),
    "legal": re.compile(
        r"\b(?:lawsuit|sue|court|contract|attorney|lawyer|legal|illegal|liability|"
        r"tenant|landlord|custody|divorce|visa|copyright)\b",
    ),
}
_ADVICE_DOMAINS: Final = frozenset(_DOMAIN_HINTS)


def _overclaims(text: str, domain: str) -> list[Finding]:
    found: list[Finding] = []
    severity = 0.65 if domain in {"healthcare", "finance"} else 0.5
    for match in _OVERCLAIM.finditer(text):
        before = text[max(0, match.start() - 30) : match.start()]
        if _NOT_A_GUARANTEE.search(before):
            continue  # "there is no guarantee" and "nothing is 100% safe" are the honest form
        found.append(
            Finding("overclaim", match.start(), match.end(), severity, "Claims certainty it lacks")
        )
    return found


def _diagnoses(text: str, domain: str) -> list[Finding]:
    found: list[Finding] = []
    for match in _DIAGNOSIS.finditer(text):
        start, end = sentence_at(text, match.start(), match.end())
        if _DIAGNOSIS_SOFTENER.search(text, start, end) or is_negated(text, match.start(), 20):
            continue
        severity = 0.7 if domain == "healthcare" else 0.55
        found.append(
            Finding("unsupported_diagnosis", start, end, severity, "Diagnoses without examination")
        )
    return found


def advice_domain(text: str, domain: str) -> str | None:
    """Name the advice domain of the text: the declared one, or one its words reveal."""
    if domain in _ADVICE_DOMAINS:
        return domain
    for name, pattern in _DOMAIN_HINTS.items():
        if len(pattern.findall(text)) >= 2:
            return name
    return None


def _missing_disclosure(text: str, domain: str, reassured: bool) -> list[Finding]:
    topic = advice_domain(text, domain)
    if topic is None or reassured:
        return []
    advice = _ADVICE.search(text)
    if advice is None:
        return []
    start, end = sentence_at(text, advice.end() - 1, advice.end())
    severity = 0.45 if domain == topic else 0.3
    return [
        Finding(
            "missing_disclosure",
            start,
            end,
            severity,
            f"Gives {topic} advice without stating its limits or referring to a professional",
        )
    ]


def hedges(text: str) -> list[GoodSign]:
    """Find hedges: words that keep a claim as strong as its evidence."""
    return [GoodSign("hedge", m.start(), m.end()) for m in _HEDGE.finditer(text)]


def find(text: str, domain: str, reassured: bool) -> list[Finding]:
    """Find overclaims, diagnoses and advice without limits; ``reassured``: a referral exists."""
    return (
        _overclaims(text, domain)
        + _diagnoses(text, domain)
        + _missing_disclosure(text, domain, reassured)
    )
