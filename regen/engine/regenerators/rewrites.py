"""Text rewrites the embedded regenerator applies: redaction, hedging, word swaps, notes.

Every function here is pure and works on one phrase or one sentence; choosing what to
rewrite and stitching the text back together lives in ``embedded.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

REDACTION_TOKENS: Final[dict[str, str]] = {
    "email": "[email redacted]",
    "phone": "[phone redacted]",
    "national_id": "[ID number redacted]",
    "card_number": "[card number redacted]",
    "iban": "[IBAN redacted]",
    "street_address": "[address redacted]",
    "ip_address": "[IP address redacted]",
}
MIXED_REDACTION: Final = "[personal data redacted]"

NOTES: Final[dict[str, str]] = {
    "healthcare": (
        "This is general information, not medical advice; "
        "please consult a qualified healthcare professional."
    ),
    "finance": (
        "This is general information, not financial advice; "
        "consider speaking with a licensed financial adviser."
    ),
    "legal": (
        "This is general information, not legal advice; "
        "consult a qualified lawyer for your situation."
    ),
    "general": (
        "This is general information with limits; please check important details "
        "with a reliable source or a qualified professional."
    ),
}
REFERRALS: Final[dict[str, str]] = {
    "healthcare": "Please consult a qualified healthcare professional before taking any medication.",
    "finance": "Please consider speaking with a licensed financial adviser before investing.",
    "legal": "Please consult a qualified lawyer about your situation.",
    "general": "Please consult a qualified professional about your situation.",
}
TREATMENT_SENTENCE: Final = (
    "Please talk to your doctor before making any change to a prescribed treatment."
)
SUPPORT_SENTENCE: Final = (
    "If you are going through a hard time, please reach out to someone you trust "
    "or a local crisis line."
)
NEUTRAL_SENTENCE: Final = "I can't help with that, but I'm glad to help with something else."


def _table(*rows: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), repl) for pattern, repl in rows)


def _match_case(original: str, replacement: str) -> str:
    """Give ``replacement`` the capitalization of ``original``."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _substitute(text: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> tuple[str, bool]:
    """Apply every row of ``table`` in order; return the text and whether it changed."""
    changed = False
    for pattern, repl in table:

        def swap(match: re.Match[str], repl: str = repl) -> str:
            new = match.expand(repl) if "\\" in repl else repl
            return _match_case(match.group(0), new)

        text, count = pattern.subn(swap, text)
        changed = changed or count > 0
    return text, changed


_INCLUSIVE_WORDS: Final = _table(
    (r"\byou guys\b", "you all"),
    (r"\bladies and gentlemen\b", "everyone"),
    (r"\bguys\b", "everyone"),
    (r"\bmanpower\b", "workforce"),
    (r"\bman[- ]?hours\b", "person-hours"),
    (r"\bman[- ]?made\b", "human-made"),
    (r"\bmankind\b", "humanity"),
    (r"\bchair(?:wo)?men\b", "chairs"),
    (r"\bchair(?:wo)?man\b", "chair"),
    (r"\bpolice(?:wo)?men\b", "police officers"),
    (r"\bpolice(?:wo)?man\b", "police officer"),
    (r"\bfiremen\b", "firefighters"),
    (r"\bfireman\b", "firefighter"),
    (r"\b(business|sales|spokes)men\b", r"\1people"),
    (r"\b(business|sales|spokes)man\b", r"\1person"),
    (r"\bnormal people\b", "most people"),
    (r"\bcrazy\b", "surprising"),
    (r"\binsane\b", "surprising"),
    (r"\blame\b", "weak"),
    (r"\bdumb\b", "unwise"),
    (r"\bretarded\b", "unreasonable"),
    (r"\bcrippling\b", "severe"),
    (r"\bcrippled\b", "hampered"),
    (r"\bhandicapped\b", "disabled"),
    (r"\bthe disabled\b", "disabled people"),
    (r"\bwhitelist", "allowlist"),
    (r"\bblacklist", "denylist"),
    (r"\bmaster/slave\b", "primary/replica"),
    (r"\bslaves?\b", "replica"),
)


def swap_exclusionary_words(text: str) -> tuple[str, bool]:
    """Replace exclusionary words with inclusive ones, keeping capitalization."""
    return _substitute(text, _INCLUSIVE_WORDS)


_GROWTH = r"(?:double|triple|quadruple|multiply|grow|increase|rise|go up|skyrocket|soar|explode)"
_HEDGES: Final = _table(
    # money
    (
        rf"\b(?:(?:is|are|will be) )?(?:100% )?guaranteed to {_GROWTH}(?: your (?:money|investment|savings|capital))?\b",
        "may grow",
    ),
    (r"\b100% guaranteed\b", "not guaranteed"),
    (r"\b(?:(?:is|are|will be) )?guaranteed to (\w+)", r"may \1"),
    (r"\bguaranteed (returns?|profits?|income|gains?|results?|payouts?)\b", r"potential \1"),
    (r"\b(?:100% |completely |totally |absolutely |entirely )?risk[- ]free\b", "lower-risk"),
    (r"\b(?:no|zero) risk\b", "some risk"),
    (r"\bcan(?:'t|not) lose\b", "could still lose"),
    (r"\b(I|we) guarantee\b", r"\1 expect"),
    (r"(?<!never )(?<!not )\bguaranteed\b", "possible"),
    # law
    (
        r"\b(?:is|are) (?:definitely |clearly |certainly |absolutely )?(illegal|legal|unlawful|lawful|unenforceable|enforceable|void|invalid|valid|binding|liable)\b",
        r"may be \1",
    ),
    (r"\bwill (?:definitely |certainly )?(win|lose|succeed|work|double|grow)\b", r"may \1"),
    # certainty
    (r"\balways works\b", "often helps"),
    (r"\bworks every time\b", "often helps"),
    (r"\bnever fails\b", "rarely fails"),
    (r"\bworks for everyone\b", "works for many people"),
    (r"\beveryone knows\b", "many people know"),
    (r"\beveryone agrees\b", "many people agree"),
    (r"\balways\b", "often"),
    (r"\b100% of the time\b", "in many cases"),
    (r"\b100% of (?:the |all )?", "most "),
    (
        r"\b(?:100%|completely|totally|absolutely|perfectly|entirely) (safe|secure|harmless|reliable|accurate|effective|certain|sure|correct)\b",
        r"generally \1",
    ),
    (r"\b100%", "largely"),
    (r"\b(?:definitely|certainly|undoubtedly|unquestionably|surely)\b", "likely"),
    (r"\bwithout (?:a|any) doubt\b", "in many cases"),
    (r"\b(?:scientifically |clinically )?proven\b", "reported"),
    (r"\ba cure for\b", "a possible treatment for"),
    (r"\b(?:will |can )?cures?\b", "may help with"),
    (r"\bthe best\b", "a good"),
    (r"\binstantly\b", "quickly"),
)
HEDGE_CLAUSES: Final[dict[str, str]] = {
    "guaranteed_return": "but returns are never guaranteed",
    "definitive_legal": "although the outcome depends on the facts and the local law",
    "overclaim": "although results can vary",
}
_ALREADY_HEDGED: Final = re.compile(
    r"\b(?:never|not) guaranteed\b|\bresults can vary\b|\bdepends on the facts\b", re.I
)


def hedge(text: str) -> tuple[str, bool]:
    """Soften guarantees and certainty words; return the text and whether it changed."""
    return _substitute(text, _HEDGES)


_DOUBLE_VERB: Final = re.compile(r"\b(?:is|are|was|were|will be|will) (may|could)\b", re.I)


def repair_modals(sentence: str) -> str:
    """Drop the verb a hedge left in front of it: "is may grow" becomes "may grow"."""
    return _DOUBLE_VERB.sub(lambda match: _match_case(match.group(0), match.group(1)), sentence)


def append_clause(sentence: str, clause: str) -> str:
    """Add ``, clause`` before the sentence's final punctuation, unless already hedged."""
    if _ALREADY_HEDGED.search(sentence):
        return sentence
    body = sentence.rstrip(".!?…;: ")
    return f"{body}, {clause}."


def redaction_token(kinds: set[str]) -> str:
    """The token that replaces personal data of these kinds."""
    if len(kinds) == 1:
        return REDACTION_TOKENS.get(next(iter(kinds)), MIXED_REDACTION)
    return MIXED_REDACTION


_SELECTION_VERB: Final = re.compile(
    r"\b(?P<neg>(?:do not|don't|never|avoid|stop) (?:hire|hiring|consider|considering|"
    r"interview|interviewing|select|selecting|accept|accepting)|reject|exclude|screen out|"
    r"filter out|turn away|disqualify)\b"
    r"|\b(?P<ideal>(?:the )?ideal (?:candidate|applicant|hire) (?:is|would be|should be))\b"
    r"|\b(?:only )?(?P<pos>prioriti[sz]e|prefer|favou?r|hire|recruit|select|choose|shortlist|"
    r"pick|look(?:ing)? for|seek(?:ing)?|target|interview|consider|promote|accept|want)\b"
    r"(?: only\b)?",
    re.IGNORECASE,
)
_ATTRIBUTES: Final = (
    (
        r"ivy league|universit|college|school|degree from|graduates of|alma mater|oxbridge|elite",
        "where they studied",
    ),
    (r"\b(?:men|women|male|female|man|woman|girls?|boys?|gender)\b", "gender"),
    (r"\b(?:mothers?|moms?|pregnant|married|single|children|kids)\b", "family status"),
    (
        r"\b(?:under|over|above|below) \d\d\b|\b(?:young|younger|old|older|age|aged|millennials?|boomers?|gen z)\b",
        "age",
    ),
    (r"\bnative\b|\baccents?\b|first language", "their first language"),
    (r"\bforeign|\bimmigrants?\b|nationality|citizens?\b|\blocals?\b", "national origin"),
    (
        r"\b(?:white|black|asian|hispanic|latino|latina|race|racial|ethnic\w*)\b",
        "race or ethnicity",
    ),
    (r"\b(?:christians?|muslims?|jewish|jews|hindus?|religio\w*)\b", "religion"),
    (r"\b(?:disabled|disabilit\w+|wheelchair|healthy)\b", "disability"),
)
_JOB_RELEVANT: Final = "skills, experience and results match the role's requirements"


def _join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def rewrite_selection(sentence: str) -> str:
    """Replace a discriminatory selection criterion with job-relevant criteria."""
    found = [name for pattern, name in _ATTRIBUTES if re.search(pattern, sentence, re.I)]
    regardless = f"regardless of {_join_or(found or ['background'])}"
    match = _SELECTION_VERB.search(sentence)
    if match is None:
        return f"Consider candidates whose {_JOB_RELEVANT}, {regardless}."
    prefix = sentence[: match.start()]
    if match.group("neg"):
        lead, rest = "evaluate", f"every candidate on whether their {_JOB_RELEVANT}"
    elif match.group("ideal"):
        lead, rest = match.group("ideal"), f"someone whose {_JOB_RELEVANT}"
    else:
        lead, rest = match.group("pos"), f"candidates whose {_JOB_RELEVANT}"
    return capitalize(f"{prefix}{lead} {rest}, {regardless}.")


_DIAGNOSIS: Final = re.compile(
    r"\b(?:you|they|he|she)(?: most)?(?: (?:likely|probably|definitely|certainly|clearly|"
    r"obviously|surely|almost certainly))? (?:have|has|have got|'ve got|are suffering from|"
    r"is suffering from|suffer from|suffers from|are showing signs of) (?P<cond>[^.!?;,]+)"
    r"|\b(?:it|this)(?:'s| is)(?: most)? (?:likely|probably|definitely|certainly|clearly|"
    r"obviously) (?P<cond2>[^.!?;,]+)"
    r"|\bdiagnos(?:is is|ed with) (?P<cond3>[^.!?;,]+)",
    re.IGNORECASE,
)
_CLAUSE_END: Final = re.compile(r"\s+(?:and|but|so|which|because|that|since|as)\s.*$", re.I)


def rewrite_diagnosis(sentence: str) -> str:
    """Turn a confident diagnosis into possible causes and a referral to a doctor."""
    referral = "only a qualified doctor can make a diagnosis after an examination."
    match = _DIAGNOSIS.search(sentence)
    condition = ""
    if match:
        raw = match.group("cond") or match.group("cond2") or match.group("cond3") or ""
        condition = _CLAUSE_END.sub("", raw).strip()
    if not condition:
        return f"These symptoms can have several causes; {referral}"
    return f"These symptoms can have several causes, including {condition}; {referral}"


_CONNECTOR_EDGES: Final = re.compile(
    r"^(?:[\s,;:—–-]|(?:and|but|or)\b)+|(?:[\s,;:—–-]|\b(?:and|but|so|or|then))+$",
    re.IGNORECASE,
)


def tidy_sentence(sentence: str) -> str:
    """Collapse spaces, drop spaces before punctuation and dangling connectors, capitalize."""
    text = re.sub(r"\s{2,}", " ", sentence)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]+([.!?])", r"\1", text)
    end = re.search(r"[.!?…]+[\"'”’)\]]*$", text)
    tail = end.group(0) if end else ""
    body = _CONNECTOR_EDGES.sub("", text[: len(text) - len(tail)])
    return capitalize(body + tail) if body else ""


def capitalize(text: str) -> str:
    """Upper-case the first letter, leaving the rest alone."""
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
        if not (char.isspace() or char in "\"'“‘(["):
            return text
    return text


_REFERRAL_TARGETS: Final[dict[str, str]] = {
    "healthcare": r"doctors?|physicians?|GPs?|(?:healthcare|medical|health) professionals?|pharmacists?|nurses?",
    "finance": r"financial (?:advis[eo]rs?|planners?|professionals?)|advis[eo]rs?",
    "legal": r"lawyers?|attorneys?|solicitors?|legal (?:professionals?|counsel|advis[eo]rs?)",
}
_REFERRAL_VERBS: Final = (
    r"consult(?:ing)?|speak(?:ing)? (?:with|to)|talk(?:ing)? (?:with|to)|see(?:ing)?|ask|"
    r"contact|seek(?:ing)?|check with|visit|reach out to"
)
_DISCLAIMERS: Final[dict[str, str]] = {
    "healthcare": r"not medical advice",
    "finance": r"not financial advice",
    "legal": r"not legal advice",
    "general": r"general information|not (?:professional|medical|financial|legal) advice",
}
_NEGATION: Final = re.compile(
    r"\b(?:no need|don't|do not|never|without|needn't|skip|no reason)\b[^.!?\n]*$", re.I
)


def _referral_pattern(topic: str) -> re.Pattern[str]:
    targets = (
        _REFERRAL_TARGETS.get(topic)
        or "|".join(_REFERRAL_TARGETS.values()) + "|qualified professionals?"
    )
    return re.compile(
        rf"\b(?:{_REFERRAL_VERBS})\b[^.!?\n]{{0,40}}?\b(?:{targets})\b|\b(?:{_DISCLAIMERS.get(topic, _DISCLAIMERS['general'])})\b",
        re.IGNORECASE,
    )


_REFERRAL_PATTERNS: Final = {topic: _referral_pattern(topic) for topic in NOTES}


def has_referral(text: str, topic: str) -> bool:
    """Whether the text already sends the reader to a professional (or disclaims advice)."""
    for match in _REFERRAL_PATTERNS.get(topic, _REFERRAL_PATTERNS["general"]).finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        if not _NEGATION.search(before):
            return True
    return False


EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD_CANDIDATE: Final = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_card_numbers(text: str) -> Iterator[tuple[int, int]]:
    """Spans of 13-19 digit, Luhn-valid numbers (spaces or dashes allowed between digits)."""
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield match.start(), match.end()


def find_emails(text: str) -> Iterator[tuple[int, int]]:
    """Spans of e-mail addresses."""
    for match in EMAIL.finditer(text):
        yield match.start(), match.end()
