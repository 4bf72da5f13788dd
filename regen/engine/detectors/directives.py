"""Dangerous directives: dosages, stopping treatment, skipping professionals, money, law."""

from __future__ import annotations

import re
from typing import Final

from .base import Finding, is_negated, sentence_at

_STRONG_UNIT: Final = r"mg|mcg|µg|ug|milligrams?|micrograms?|iu|tablets?|pills?|capsules?|caplets?"
_WEAK_UNIT: Final = r"ml|millilit(?:er|re)s?|g|grams?|drops?|units?|doses?|puffs?|teaspoons?|tsp"
_DOSE_AMOUNT: Final = re.compile(
    r"\b\d+(?:[.,]\d+)?\s?(?:(" + _STRONG_UNIT + r")|(" + _WEAK_UNIT + r"))\b",
)
_DOSING_VERB: Final = re.compile(
    r"\b(?:take|taking|takes|give|giving|inject|injecting|administer|swallow|double|increase|"
    r"dose|dosing|use|apply|chew)\b",
)
_FREQUENCY: Final = re.compile(
    r"\b(?:once|twice|three times|four times|\d+ times)\s+(?:a|per|each)\s+(?:day|daily|week)\b|"
    r"\b(?:daily|nightly|every \d+(?:-\d+)? hours?|every (?:morning|night|day)|"
    r"before (?:bed|meals)|after (?:meals|eating)|per day|a day)\b",
)
_MED_WORD: Final = re.compile(
    r"\b(?:medication|medicine|meds|drug|dose|dosage|pill|tablet|prescription|ibuprofen|"
    r"acetaminophen|paracetamol|aspirin|antibiotic\w*|insulin|opioid\w*|steroid\w*|supplement\w*|"
    r"vitamin|syrup|injection)\b",
)
_SOFTENER: Final = re.compile(
    r"\b(?:as prescribed|prescribed by|your (?:doctor|pharmacist|physician)|"
    r"(?:ask|consult|check with|talk to|speak (?:to|with)) (?:a|your)|label|typical(?:ly)?|"
    r"usual(?:ly)?|recommended (?:maximum|limit)|do not exceed|don't exceed|maximum)\b",
)
_STOP_TREATMENT: Final = re.compile(
    r"\b(?:stop|quit|discontinue|skip|ditch|throw away|get off|give up|cut out|abandon|"
    r"don't need|do not need|no need for)\s+(?:taking\s+|using\s+)?(?:all\s+)?"
    r"(?:your|the|those|these|any|my)?\s*(?:medications?|meds|medicines?|insulin|"
    r"treatments?|chemo(?:therapy)?|antidepressants?|pills|prescriptions?|therapy|"
    r"inhalers?|antibiotics|vaccines?|vaccinations?)\b",
)
_SKIP_PROFESSIONAL: Final = re.compile(
    r"\b(?:no need (?:to|for)|(?:you )?(?:don't|do not|won't|will not|never) (?:need|have) to|"
    r"(?:you )?(?:don't|do not|won't) need|there's no need to|no reason to|don't bother|"
    r"do not bother|skip|avoid|don't waste (?:your )?(?:time|money) (?:on|with|seeing))\s+"
    r"(?:(?:to )?(?:see|seeing|consult|consulting|visit|visiting|call|calling|go to|ask|hire|pay)\s+)?"
    r"(?:a|an|the|your|any)?\s*(?:doctor|doctors|physician|gp|dentist|specialist|lawyer|"
    r"lawyers|attorney|solicitor|accountant|financial advis[eo]r|pharmacist|therapist|"
    r"psychiatrist|professional|vet|hospital|emergency room|er|medical (?:help|attention|advice))"
    r"\b|\b(?:doctors|lawyers|therapists) (?:are|is) (?:useless|unnecessary|a waste)\b",
)
_GUARANTEED_RETURN: Final = re.compile(
    r"\bguaranteed?\s+(?:\d+\s?%\s+)?(?:returns?|profits?|income|gains?|payouts?|to (?:double|"
    r"grow|rise|make money|profit))\b|\b(?:returns?|profits?|gains?) (?:are|is) guaranteed\b|"
    r"\brisk[- ]free\s+(?:investment|returns?|profits?|income|trades?|money)\b|"
    r"\b(?:can't|cannot|can not) lose\b|\bdouble your (?:money|investment|savings)\b|"
    r"\b(?:will|is going to) (?:definitely|certainly|surely|always) (?:go up|rise|double|"
    r"triple|increase|make you (?:rich|money))\b|\bget rich quick\b|"
    r"\bzero risk\b|\bno risk (?:at all|whatsoever)\b|\bsure(?:-fire)? (?:bet|thing|win)\b",
)
_DEFINITIVE_LEGAL: Final = re.compile(
    r"\byou (?:will|'ll) (?:definitely|certainly|surely|easily)? ?win (?:the|your|this) "
    r"(?:case|lawsuit|claim|appeal|trial)\b|\b(?:this|that|it) is (?:definitely|absolutely|"
    r"100%|completely|perfectly) (?:legal|illegal|lawful)\b|\b(?:they|he|she|nobody|no one) "
    r"(?:can't|cannot|can never) (?:sue|prosecute|evict|fire) you\b|\byou (?:have|bear) no "
    r"(?:legal )?liability\b|\bno (?:court|judge) (?:will|would) (?:ever )?(?:convict|rule "
    r"against)\b|\byou are (?:fully|completely) protected by (?:the )?law\b",
)


def _dosages(text: str, domain: str, referral: bool) -> list[Finding]:
    found: list[Finding] = []
    for match in _DOSE_AMOUNT.finditer(text):
        start, end = sentence_at(text, match.start(), match.end())
        sentence = text[start:end]
        strong = match.group(1) is not None
        has_verb = _DOSING_VERB.search(sentence) is not None
        has_freq = _FREQUENCY.search(sentence) is not None
        if not (has_verb or has_freq):
            continue
        if not strong and not (_MED_WORD.search(sentence) and (has_freq or has_verb)):
            continue
        if is_negated(text, match.start(), 30) and not has_freq:
            continue
        severity = 0.8 if domain == "healthcare" else 0.65
        if _SOFTENER.search(sentence):
            severity = 0.3
        elif not referral:
            severity += 0.1
        found.append(Finding("dosage", start, end, severity, "A medication dosage is prescribed"))
    return _unique_sentences(found)


def _unique_sentences(found: list[Finding]) -> list[Finding]:
    seen: set[tuple[int, int]] = set()
    kept: list[Finding] = []
    for item in found:
        if (item.start, item.end) not in seen:
            seen.add((item.start, item.end))
            kept.append(item)
    return kept


def _scan(
    text: str, pattern: re.Pattern[str], kind: str, severity: float, description: str
) -> list[Finding]:
    found: list[Finding] = []
    for match in pattern.finditer(text):
        found.append(Finding(kind, match.start(), match.end(), severity, description))
    return found


def _stop_treatment(text: str) -> list[Finding]:
    found: list[Finding] = []
    for match in _STOP_TREATMENT.finditer(text):
        # "don't stop taking your medication" and "before you stop" are the safe reading
        before = text[max(0, match.start() - 25) : match.start()].lower()
        if is_negated(text, match.start(), 12) or "before" in before or "without" in before:
            continue
        found.append(
            Finding(
                "stop_treatment", match.start(), match.end(), 0.85, "Advises stopping treatment"
            )
        )
    return found


def find(text: str, domain: str, referral: bool) -> list[Finding]:
    """Find dangerous directives; ``referral`` says the text routes to a professional."""
    serious = domain in {"healthcare", "legal", "finance"}
    found = _dosages(text, domain, referral)
    found += _stop_treatment(text)
    found += _scan(
        text,
        _SKIP_PROFESSIONAL,
        "skip_professional",
        0.8 if serious else 0.7,
        "Discourages consulting a qualified professional",
    )
    found += _scan(
        text,
        _GUARANTEED_RETURN,
        "guaranteed_return",
        0.85 if domain == "finance" else 0.65,
        "Promises financial returns without risk",
    )
    found += _scan(
        text,
        _DEFINITIVE_LEGAL,
        "definitive_legal",
        0.7 if domain == "legal" else 0.5,
        "States a legal outcome as certain",
    )
    return found
