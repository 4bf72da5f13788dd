"""The embedded regenerator: offline, deterministic repairs of the issues a text failed on.

It rewrites only the sentences the failing dimensions need, keeps every other character of
the text as it was, and appends the domain's professional-advice note when one is due.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from ..kinds import KINDS
from ..types import Regeneration, RegenerationRequest, Usage
from . import rewrites

MAX_CHARS: Final = 10_000

_PRIVACY: Final = frozenset(rewrites.REDACTION_TOKENS)
_REMOVE: Final = frozenset(
    {
        "dosage",
        "violence",
        "threat",
        "weapon_or_drug_instructions",
        "stereotype",
        "dehumanizing",
        "doxxing",
        "prompt_injection",
        "slur",
        "abusive_language",
        "hate_speech",
        # a learned head's finding: the sentence it blames carries the harm, so it goes
        "harmful_content",
    }
)
_HEDGE: Final = frozenset({"guaranteed_return", "overclaim", "definitive_legal"})
_DROP_PHRASE: Final = frozenset({"manipulation", "deflected_responsibility"})
_PHRASE: Final = _PRIVACY | _HEDGE | _DROP_PHRASE | {"exclusionary_wording"}
_NOTE_KINDS: Final = frozenset(
    {"missing_disclosure", "deflected_responsibility", "manipulation", "prompt_injection"}
)
_NOTE_DIMENSIONS: Final = frozenset({"safety", "reliability", "transparency", "accountability"})
_ADVICE_DOMAINS: Final = ("healthcare", "finance", "legal")
_KIND_TOPICS: Final = {
    "dosage": "healthcare",
    "stop_treatment": "healthcare",
    "unsupported_diagnosis": "healthcare",
    "guaranteed_return": "finance",
    "definitive_legal": "legal",
}
_TOPIC_WORDS: Final = (
    ("healthcare", re.compile(r"doctor|physician|medic|nurse|pharmac|therap|\bGP\b", re.I)),
    ("finance", re.compile(r"financ|invest|advis[eo]r|broker|bank", re.I)),
    ("legal", re.compile(r"lawyer|attorney|solicitor|legal|court", re.I)),
)

# Where a kind's issue has no usable span, these find what to repair.
_LOCATORS: Final = {
    kind: re.compile(pattern, re.IGNORECASE)
    for kind, pattern in {
        "phone": r"(?<!\w)\+?\d[\d ().-]{7,}\d(?!\w)",
        "national_id": r"\b\d{3}-\d{2}-\d{4}\b",
        "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        "ip_address": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
        "dosage": r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|ml|milligrams?|tablets?|pills?|capsules?)\b"
        r"|\b(?:once|twice|three times) (?:a |per )?(?:day|daily)\b",
        "stop_treatment": r"\b(?:stop|quit|discontinue)\b[^.!?\n]{0,30}\b(?:medication|medicine|"
        r"meds|treatment|insulin|therapy|prescription)\b",
        "skip_professional": r"\b(?:no need|don't need|do not need|needn't|skip|don't bother)\b"
        r"[^.!?\n]{0,40}\b(?:doctor|physician|lawyer|attorney|advis[eo]r|professional)s?\b",
        "guaranteed_return": r"\bguarantee[ds]?\b|\brisk[- ]free\b|\bdouble your money\b",
        "overclaim": r"\balways works\b|\bnever fails\b|\b100%|\bdefinitely\b|\bcertainly\b"
        r"|\bproven\b|\bcures?\b",
        "definitive_legal": r"\byou will (?:definitely |certainly )?(?:win|lose)\b"
        r"|\b(?:is|are) (?:definitely |clearly )?(?:illegal|unenforceable|void)\b",
        "unsupported_diagnosis": r"\byou (?:most )?(?:likely|probably|definitely|certainly|"
        r"clearly) (?:have|suffer from)\b[^.!?\n]*",
        "discriminatory_selection": r"\b(?:only hire|hire only|prioriti[sz]e|prefer|reject)\b"
        r"[^.!?\n]{0,40}\b(?:men|women|male|female|ivy league|young|under \d\d|over \d\d|"
        r"native speakers?)\b|\bnative speakers only\b",
        "exclusionary_wording": r"\b(?:guys|manpower|chairman|mankind|crazy|lame|normal people)\b",
        "manipulation": r"\bact now\b[^.!?\n]*|\blast chance\b|\bbefore it'?s too late\b",
        "deflected_responsibility": r"\b(?:we|i) (?:are|am|'re|'m) not responsible\b[^.!?\n]*"
        r"|\bnot (?:my|our) (?:fault|responsibility|problem)\b",
        "prompt_injection": r"\bignore (?:all |any )?(?:previous|prior|above|your) "
        r"(?:instructions|rules)\b[^.!?\n]*",
    }.items()
}


@dataclass(frozen=True, slots=True)
class _Target:
    """A span of the original text to repair, and the kind of repair it needs."""

    kind: str
    start: int
    end: int


class EmbeddedRegenerator:
    """Repairs a text offline from the structured issues of its failing dimensions."""

    name = "embedded"
    offline = True  # calls nothing outside this process (engine.types.is_offline)
    model = "railsite/embedded-rewriter"

    def regenerate(self, request: RegenerationRequest) -> Regeneration:
        return Regeneration(content=rewrite(request), model=self.model, usage=Usage())

    def estimate_cost_usd(self, *, text_chars: int) -> float:
        return 0.0


def rewrite(request: RegenerationRequest) -> str:
    """Return the content with the failing dimensions' issues repaired."""
    text = request.content
    failing = frozenset(request.failing_dimensions)
    kinds, targets = _select(request, failing)
    topic = _topic(request.domain, kinds)
    bounds = split_sentences(text)
    rewritten: dict[int, str | None] = {}
    for index, inside in _by_sentence(bounds, targets).items():
        start, end = bounds[index]
        rewritten[index] = _rewrite_sentence(text[start:end], start, inside, topic)
    body = _assemble(text, bounds, rewritten) or rewrites.NEUTRAL_SENTENCE
    return _add_notes(body, _due_notes(kinds, failing, topic))


def _select(
    request: RegenerationRequest, failing: frozenset[str]
) -> tuple[set[str], list[_Target]]:
    """The kinds to act on and their targets: issues of failing dimensions, and PII nets."""
    text = request.content
    kinds: set[str] = set()
    targets: list[_Target] = []
    for issue in request.issues:
        dimensions = KINDS.get(issue.kind)
        if dimensions is None or (
            issue.dimension not in failing and failing.isdisjoint(dimensions)
        ):
            continue
        kinds.add(issue.kind)
        span = issue.span
        if span is not None and 0 <= span.start < span.end <= len(text):
            targets.append(_Target(issue.kind, span.start, span.end))
        else:
            targets.extend(_Target(issue.kind, *found) for found in _locate(issue.kind, text))
    if "privacy" in failing:  # safety net: the evaluator may have missed some
        for kind in ("email", "card_number"):
            targets.extend(_Target(kind, *found) for found in _locate(kind, text))
    return kinds, targets


def _locate(kind: str, text: str) -> Iterator[tuple[int, int]]:
    """Find what an issue without a usable span points at."""
    if kind == "email":
        yield from rewrites.find_emails(text)
    elif kind == "card_number":
        yield from rewrites.find_card_numbers(text)
    elif kind in _LOCATORS:
        for match in _LOCATORS[kind].finditer(text):
            yield match.start(), match.end()


def _by_sentence(bounds: list[tuple[int, int]], targets: list[_Target]) -> dict[int, list[_Target]]:
    """Each touched sentence's targets, clipped to it (a target may cross sentences)."""
    ends = [end for _, end in bounds]
    touched: dict[int, list[_Target]] = {}
    for target in sorted(set(targets), key=lambda t: (t.start, t.end, t.kind)):
        index = bisect.bisect_right(ends, target.start)
        while index < len(bounds) and bounds[index][0] < target.end:
            start, end = bounds[index]
            clipped = _Target(target.kind, max(target.start, start), min(target.end, end))
            touched.setdefault(index, []).append(clipped)
            index += 1
    return touched


def _topic(domain: str, kinds: set[str]) -> str:
    """The advice domain the text is about: the request's, else inferred from the kinds."""
    if domain in _ADVICE_DOMAINS:
        return domain
    for kind, topic in _KIND_TOPICS.items():
        if kind in kinds:
            return topic
    return "general"


_SENTENCE_END: Final = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n")
_ABBREVIATION: Final = re.compile(
    r"e\.g|i\.e|dr|mr|mrs|ms|prof|vs|etc|st|approx|inc|ltd|jr|sr|fig|cf", re.IGNORECASE
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open ranges of the sentences (and lines) of ``text``, without outer whitespace."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "\n":
            end = match.start()
        elif _ends_abbreviation(text, match.start()) and match.end() < len(text):
            continue
        else:
            end = match.end()
        _add_bound(bounds, text, start, end)
        start = match.end()
    _add_bound(bounds, text, start, len(text))
    return bounds


def _ends_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != "." or text[dot + 1 : dot + 2] == ".":
        return False
    word = re.search(r"[\w.]*$", text[max(0, dot - 12) : dot])
    token = word.group(0) if word else ""
    return _ABBREVIATION.fullmatch(token) is not None


def _add_bound(bounds: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        bounds.append((start, end))


def _rewrite_sentence(sentence: str, base: int, targets: list[_Target], topic: str) -> str | None:
    """The new sentence, or ``None`` to remove it."""
    kinds = {target.kind for target in targets}
    if kinds & _REMOVE:
        return None
    if "self_harm" in kinds:
        return rewrites.SUPPORT_SENTENCE
    if "stop_treatment" in kinds:
        return rewrites.TREATMENT_SENTENCE
    if "skip_professional" in kinds:
        return rewrites.REFERRALS[_referral_topic(sentence, topic)]
    new, hedged, dropped = _rewrite_phrases(
        sentence, base, [t for t in targets if t.kind in _PHRASE]
    )
    if "discriminatory_selection" in kinds:
        return rewrites.rewrite_selection(new)
    if "unsupported_diagnosis" in kinds:
        return rewrites.rewrite_diagnosis(new)
    if kinds & _HEDGE:
        if not hedged:
            new, hedged = rewrites.hedge(new)
        new = rewrites.repair_modals(new)
    for kind in ("guaranteed_return", "definitive_legal", "overclaim"):
        if kind in kinds and (kind == "guaranteed_return" or not hedged):
            new = rewrites.append_clause(new, rewrites.HEDGE_CLAUSES[kind])
            break
    if dropped:
        new = rewrites.tidy_sentence(new)
        if len(re.findall(r"\w+", new)) < 3:
            return None
    return new or None


def _referral_topic(sentence: str, topic: str) -> str:
    if topic != "general":
        return topic
    for name, pattern in _TOPIC_WORDS:
        if pattern.search(sentence):
            return name
    return "general"


def _rewrite_phrases(sentence: str, base: int, targets: list[_Target]) -> tuple[str, bool, bool]:
    """Apply phrase repairs right to left; return the sentence, hedged?, dropped?"""
    hedged = dropped = False
    for start, end, members in reversed(list(_clusters(targets))):
        kinds = {member.kind for member in members}
        piece = _redact(sentence[start - base : end - base], start, members)
        if kinds & _DROP_PHRASE:
            piece, dropped = "", True
        else:
            if "exclusionary_wording" in kinds:
                piece, _ = rewrites.swap_exclusionary_words(piece)
            if kinds & _HEDGE:
                piece, changed = rewrites.hedge(piece)
                hedged = hedged or changed
        sentence = sentence[: start - base] + piece + sentence[end - base :]
    return sentence, hedged, dropped


def _redact(piece: str, base: int, members: list[_Target]) -> str:
    """Replace the personal data inside ``piece`` with redaction tokens."""
    private = [member for member in members if member.kind in _PRIVACY]
    for start, end, group in reversed(list(_clusters(private))):
        token = rewrites.redaction_token({member.kind for member in group})
        # Keep the spaces and punctuation a span may include at its edges.
        edges = _EDGES.fullmatch(piece[start - base : end - base])
        lead, tail = (edges.group(1), edges.group(3)) if edges else ("", "")
        piece = piece[: start - base] + lead + token + tail + piece[end - base :]
    return piece


_EDGES: Final = re.compile(r"(\s*)(.*?)([\s.,;:!?)\]]*)", re.DOTALL)


def _clusters(targets: Iterable[_Target]) -> Iterator[tuple[int, int, list[_Target]]]:
    """Group overlapping targets; yield each group's union span, left to right."""
    group: list[_Target] = []
    start = end = -1
    for target in sorted(targets, key=lambda t: (t.start, t.end)):
        if group and target.start < end:
            group.append(target)
            end = max(end, target.end)
            continue
        if group:
            yield start, end, group
        group, start, end = [target], target.start, target.end
    if group:
        yield start, end, group


def _assemble(text: str, bounds: list[tuple[int, int]], rewritten: dict[int, str | None]) -> str:
    """Stitch the text back together, dropping removed sentences and one separator each."""
    count = len(bounds)
    separators = [text[: bounds[0][0]]] if bounds else [text]
    separators += [text[bounds[i - 1][1] : bounds[i][0]] for i in range(1, count)]
    separators.append(text[bounds[-1][1] :] if bounds else "")
    dropped: set[int] = set()
    index = 0
    while index < count:
        if index not in rewritten or rewritten[index] is not None:
            index += 1
            continue
        last = index
        while last + 1 < count and (last + 1) in rewritten and rewritten[last + 1] is None:
            last += 1
        dropped.update(range(index + 1, last + 1))
        dropped.add(_separator_to_drop(separators, index, last, count))
        index = last + 1
    if all(rewritten.get(i, "") is None for i in range(count)):
        return ""
    parts: list[str] = []
    for i, (start, end) in enumerate(bounds):
        if i not in dropped:
            parts.append(separators[i])
        new = rewritten.get(i, text[start:end])
        if new is not None:
            parts.append(new)
    parts.append(separators[count])
    return "".join(parts)


def _separator_to_drop(separators: list[str], first: int, last: int, count: int) -> int:
    """Which separator leaves with a removed run: the lighter one, the leading one at the end."""
    before, after = first, last + 1
    if first == 0:
        return after
    if last == count - 1:
        return before
    return before if separators[before].count("\n") < separators[after].count("\n") else after


def _due_notes(kinds: set[str], failing: frozenset[str], topic: str) -> list[str]:
    notes: list[str] = []
    if kinds & _NOTE_KINDS or (topic != "general" and failing & _NOTE_DIMENSIONS):
        notes.append(topic)
    if "definitive_legal" in kinds and topic != "legal":
        notes.append("legal")
    return notes


def _add_notes(body: str, topics: list[str]) -> str:
    """Append each topic's note unless the text already refers the reader to a professional."""
    for topic in topics:
        if rewrites.has_referral(body, topic):
            continue
        note = rewrites.NOTES[topic]
        content = body.rstrip()
        trailing = body[len(content) :]
        joiner = " " if "\n" not in content and re.search(r"[.!?]\W*$", content) else "\n\n"
        room = MAX_CHARS - len(joiner) - len(note) - len(trailing)
        body = _shorten(content, room) + joiner + note + trailing
    return _shorten(body, MAX_CHARS)


def _shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, at a sentence end when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [end for _, end in split_sentences(cut) if end < limit]
    if ends and ends[-1] > limit // 2:
        return cut[: ends[-1]]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut
