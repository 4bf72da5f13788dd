"""Personal data: contact details, identifiers, cards, accounts, addresses; doxxing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from .base import Finding, lowercase, sentence_at

# Quantifiers are bounded so a long run of look-alike characters stays linear.
_EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,6}"
    r"\.[A-Za-z]{2,24}\b"
)
_PHONE: Final = re.compile(
    r"(?<![\w+/.-])(?:\+|00)?(?:\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){1,4}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/-]|\.\d)"
)
_PHONE_CUE: Final = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|call|text|fax|number|reach|contact|whatsapp)\b",
    re.IGNORECASE,
)
_PHONE_COMPACT: Final = re.compile(r"(?<![\w+])\+\d{10,14}\b")
_SSN: Final = re.compile(r"\b(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}\b")
_SSN_LABELLED: Final = re.compile(
    r"\b(?:ssn|social security(?: number| no\.?)?|national insurance(?: number)?|"
    r"passport(?: number| no\.?)?|driver'?s licen[cs]e(?: number| no\.?)?)\s*(?:is|:|#)?\s*"
    r"([A-Z]{0,2}\d[\dA-Z -]{5,14}\d)\b",
    re.IGNORECASE,
)
_CARD: Final = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_IPV4: Final = re.compile(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\d.]\d)"
)
_IPV6: Final = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])|"
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){1,6}(?![\w:])"
)
_STREET_SUFFIX: Final = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|circle|cir|parkway|pkwy|highway|hwy|square|sq|crescent|close|row|trail|"
    r"plaza|alley|strasse|straße|gasse|katu|calle|rue|via|weg"
)
_ADDRESS: Final = re.compile(
    # street words must be capitalized: "walked 5 miles down the road" is not an address
    r"\b\d{1,6}[A-Za-z]?,?\s+(?:[A-Z][\w'-]{0,30}\.?\s+){1,4}(?i:" + _STREET_SUFFIX + r")\b\.?"
    r"(?:,?\s*(?i:apt|apartment|suite|ste|unit|#)\.?\s*\w{1,6})?|"
    r"\b(?i:" + _STREET_SUFFIX + r")\s+(?:[A-Z][\w'-]{1,30}\s+){0,3}\d{1,5}[A-Za-z]?\b|"
    r"\b(?i:p\.?\s?o\.?\s+box)\s+\d{1,6}\b|(?i:\b(?:apt|apartment|suite)\.?\s*#?\d{1,5}[a-z]?\b)|"
    r"\b[A-Z][a-zäöüåæøþðé]{2,30}(?:tie|vej|gata|gatan|katu|straat|laan|gade|veien|vägen|"
    r"platz)\s+\d{1,5}[A-Za-z]?\b"
)
# Gates, matched against the lowercased text (case-insensitive patterns are ~3x slower);
# they only decide whether the exact patterns run, so matching a little more is harmless.
_ADDRESS_HINT: Final = re.compile(
    r"\b(?:" + _STREET_SUFFIX + r"|box|apt|apartment|suite)\b|"
    r"(?:tie|vej|gata|gatan|katu|straat|laan|gade|veien|vägen|platz)\s+\d"
)
_NUMBER: Final = re.compile(r"\d{1,6}")
_DIGIT_RUN: Final = re.compile(r"\d[\d .()+-]*\d")
_HEX_COLON: Final = re.compile(r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")
_ID_WORDS: Final = re.compile(r"ssn|social security|insurance|passport|licen[cs]e")
_DOX_INTENT: Final = re.compile(
    r"\b(?:here(?:'s| is) where (?:\w+ ){0,3}lives?|(?:he|she|they) lives? (?:at|on|in)|"
    r"(?:his|her|their) (?:home )?address is|go (?:get|find|visit|hurt|teach) (?:him|her|them)|"
    r"pay (?:him|her|them) a visit|show up at (?:his|her|their)|make (?:him|her|them) pay|"
    r"(?:find|hunt|track) (?:him|her|them) down|let'?s (?:get|hurt|find) (?:him|her|them)|"
    r"call (?:him|her|them) (?:day and night|nonstop|until)|flood (?:his|her|their) (?:phone|inbox)|"
    r"everyone (?:call|message|visit|harass)|harass (?:him|her|them)|"
    r"(?:hurt|beat|attack|kill|punish) (?:him|her|them))\b",
)

_SEVERITY: Final[dict[str, float]] = {
    "email": 0.5,
    "phone": 0.5,
    "national_id": 0.9,
    "card_number": 0.9,
    "iban": 0.8,
    "street_address": 0.55,
    "ip_address": 0.35,
}
_LABEL: Final[dict[str, str]] = {
    "email": "An e-mail address",
    "phone": "A phone number",
    "national_id": "A national identity number",
    "card_number": "A payment card number",
    "iban": "A bank account number (IBAN)",
    "street_address": "A street address",
    "ip_address": "An IP address",
}


def luhn_valid(digits: str) -> bool:
    """Check a digit string with the Luhn checksum that payment cards carry."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Check an IBAN with its ISO 13616 mod-97 checksum."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _is_card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group())
    return 13 <= len(digits) <= 19 and digits[0] in "123456" and luhn_valid(digits)


def _is_phone(match: re.Match[str]) -> bool:
    raw = match.group()
    digits = sum(char.isdigit() for char in raw)
    international = raw.startswith(("+", "00"))
    # short local numbers count only where the text says it is giving a number
    cue = _PHONE_CUE.search(match.string, max(0, match.start() - 40), match.start())
    least = 8 if international else 7 if cue else 10
    if not least <= digits <= 15:
        return False
    # a bare run of digits is an id or an amount, not a phone written for people
    return international or any(char in raw for char in " .-()")


def _add(found: list[Finding], kind: str, start: int, end: int) -> None:
    found.append(Finding(kind, start, end, _SEVERITY[kind], f"{_LABEL[kind]} is exposed"))


def _scan(
    found: list[Finding],
    kind: str,
    pattern: re.Pattern[str],
    text: str,
    accept: Callable[[re.Match[str]], bool] | None = None,
) -> None:
    for match in pattern.finditer(text):
        if accept is None or accept(match):
            _add(found, kind, match.start(), match.end())


def _address_windows(text: str) -> list[tuple[int, int]]:
    """Cut the text to the stretches around numbers: every address form holds one."""
    windows: list[tuple[int, int]] = []
    for number in _NUMBER.finditer(text):
        start, end = max(0, number.start() - 80), min(len(text), number.end() + 120)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _overlaps(found: list[Finding], start: int, end: int) -> bool:
    return any(item.start < end and start < item.end for item in found)


def find(text: str, low: str | None = None) -> list[Finding]:
    """Find personal data, strongest identifiers first so weaker ones don't double-count.

    ``low`` is ``text`` lowercased (length kept), if the caller already has it.
    """
    low = lowercase(text) if low is None else low
    found: list[Finding] = []
    if "@" in text:
        _scan(found, "email", _EMAIL, text)
    # cheap gates first: most prose has no long number, so the costly patterns never run
    runs = _DIGIT_RUN.findall(text)
    long_number = any(sum(char.isdigit() for char in run) >= 7 for run in runs)
    if long_number:
        _find_numbers(found, text)
    if _ID_WORDS.search(low):
        for match in _SSN_LABELLED.finditer(text):
            if not _overlaps(found, match.start(1), match.end(1)):
                _add(found, "national_id", match.start(1), match.end(1))
    if any(run.count(".") >= 3 for run in runs):
        _scan_free(found, "ip_address", _IPV4, text)
    if ":" in text and _HEX_COLON.search(text):
        _scan_free(found, "ip_address", _IPV6, text)
    if long_number or _PHONE_COMPACT.search(text):
        _find_phones(found, text)
    windows = _address_windows(text) if _ADDRESS_HINT.search(low) else []
    for start, end in windows:
        _scan_free(found, "street_address", _ADDRESS, text, start, end)
    return found


def _find_numbers(found: list[Finding], text: str) -> None:
    _scan(found, "card_number", _CARD, text, _is_card)
    _scan(found, "iban", _IBAN, text, lambda m: iban_valid(m.group()))
    _scan(found, "national_id", _SSN, text)


def _find_phones(found: list[Finding], text: str) -> None:
    for pattern in (_PHONE_COMPACT, _PHONE):
        for match in pattern.finditer(text):
            compact = pattern is _PHONE_COMPACT
            if (compact or _is_phone(match)) and not _overlaps(found, *match.span()):
                _add(found, "phone", match.start(), match.end())


def _scan_free(
    found: list[Finding],
    kind: str,
    pattern: re.Pattern[str],
    text: str,
    start: int = 0,
    end: int | None = None,
) -> None:
    """Add the matches that no stronger identifier already covers."""
    for match in pattern.finditer(text, start, len(text) if end is None else end):
        if not _overlaps(found, *match.span()):
            _add(found, kind, match.start(), match.end())


def find_doxxing(text: str, personal: list[Finding]) -> list[Finding]:
    """Flag personal data published together with a call to find or harm its owner."""
    locating = [f for f in personal if f.kind in {"street_address", "phone", "email", "ip_address"}]
    if not locating:
        return []
    intents = list(_DOX_INTENT.finditer(text))
    if not intents:
        return []
    # point at the call to action nearest to the data, which is what the rewrite must remove
    match = min(intents, key=lambda m: min(abs(m.start() - f.start) for f in locating))
    start, end = sentence_at(text, match.start(), match.end())
    return [
        Finding(
            "doxxing",
            start,
            end,
            0.95,
            "Personal data is published with a call to find or target the person",
        )
    ]
