"""Meaning preservation: how faithful a regenerated version is to the original (0-1).

A regeneration can raise its score by saying less: refusing, going vague, or dropping the
answer. ``measure_fidelity`` scores a version against the original on three counts:

- **meaning kept**: the cosine of the two texts' static embeddings (the word-piece vectors
  distilled from MiniLM that the learned heads use), rescaled so unrelated English scores
  near 0 and a paraphrase near 1;
- **facts kept**: the share of the original's numbers, named things, negations and key
  terms (its rarest content words) that the version still carries;
- **not a refusal, not empty**: a version that declines (a refusal phrase, and little of
  the original left) or says nothing scores at most ``REFUSAL_CAP``.

What the failing dimensions required removing (a dosage, a card number, the sentence a
head blamed: the spans of the original's issues) is cut from the original before either
count, so a rewrite is not blamed for removing it. Pure and fast: numpy and the shipped
tables, loaded once per process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np

from .detectors.base import REFUSAL
from .learned.features import F32, word_buckets
from .learned.model import LearnedModel, shipped
from .learned.tokens import WORD, words
from .types import Span

MEANING_FLOOR: Final = 0.55
"""The embedding cosine of two unrelated English texts: meaning 0 at or below it."""
MEANING_FULL: Final = 0.95
"""The cosine from which the meaning counts as fully kept."""
MEANING_SHARE: Final = 0.5
"""Fidelity = this share of meaning kept + the rest of facts kept."""
REFUSAL_CAP: Final = 0.1
"""The most a refusal or an empty answer can score."""
REFUSAL_BELOW: Final = 0.5
"""A version with a refusal phrase is a refusal when its fidelity otherwise is below this
(a referral that still answers, "I can't diagnose you, but ...", is not one)."""
KEY_TERMS: Final = 8
LOST_SHOWN: Final = 20
"""At most this many lost facts are named (all of them count)."""
MIN_REFERENCE_WORDS: Final = 3
"""Fewer words left once the removals are cut: measure against the whole original."""

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NAME = re.compile(r"\b[A-Z][\w'-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'-]*)*")
_STEM = 5
_STOP_WORDS = """about above after again against also although among another anyone anything
around because been before being below between both cannot could does doing down during each
either else enough even every from further have having here however into itself just like
made make many might more most much must need only other otherwise over perhaps please quite
rather really same should since some something still such than that their them then there
these they thing things this those though through thus very want well were what when where
whether which while whom whose will with within without would your yours yourself shall upon
onto sure okay"""
_STOP: Final = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class Fidelity:
    """How much of the original a version keeps, and what it lost."""

    score: float
    meaning: float
    facts: float
    refusal: bool = False
    empty: bool = False
    lost: tuple[str, ...] = ()
    """The original's facts the version dropped (numbers, names, negations, key terms)."""

    def keeps_meaning(self, minimum: float | None) -> bool:
        """Say whether the version keeps the original's meaning (and reaches ``minimum``)."""
        if self.refusal or self.empty:
            return False
        return minimum is None or self.score >= minimum

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "meaning": self.meaning,
            "facts": self.facts,
            "refusal": self.refusal,
            "empty": self.empty,
            "lost": list(self.lost),
        }


FULL: Final = Fidelity(score=1.0, meaning=1.0, facts=1.0)
"""The original's fidelity to itself."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing the original says: what to show when lost, and how to find it again."""

    label: str
    kind: str
    key: str


def measure_fidelity(original: str, version: str, *, removed: Sequence[Span] = ()) -> Fidelity:
    """Score how faithful ``version`` is to ``original``, ``removed`` spans excepted."""
    version_words = words(version.lower())
    if not version_words:
        return Fidelity(score=0.0, meaning=0.0, facts=0.0, empty=True, lost=("everything",))
    reference = cut(original, removed)
    if len(words(reference.lower())) < MIN_REFERENCE_WORDS:
        reference = original  # everything had to go: the topic is what is left to keep
    meaning = meaning_kept(reference, version)
    facts = extract_facts(original, removed)
    index = _Version(version, version_words)
    lost = [fact for fact in facts if not index.keeps(fact)]
    facts_kept = 1.0 - len(lost) / len(facts) if facts else meaning
    score = MEANING_SHARE * meaning + (1.0 - MEANING_SHARE) * facts_kept
    refusal = score < REFUSAL_BELOW and is_refusal(version) and not is_refusal(original)
    return Fidelity(
        score=round(min(score, REFUSAL_CAP) if refusal else score, 2),
        meaning=round(meaning, 2),
        facts=round(facts_kept, 2),
        refusal=refusal,
        lost=tuple(fact.label for fact in lost[:LOST_SHOWN]),
    )


def cut(text: str, spans: Iterable[Span]) -> str:
    """Return ``text`` without the characters inside ``spans``."""
    keep = bytearray(b"\x01") * len(text)
    for span in spans:
        start, end = max(0, span.start), min(len(text), span.end)
        if start < end:
            keep[start:end] = bytes(end - start)
    if all(keep):
        return text
    return "".join(char if keep[i] else " " for i, char in enumerate(text))


def is_refusal(text: str) -> bool:
    """Say whether ``text`` opens with a refusal phrase (in its first 200 characters)."""
    return REFUSAL.search(text[:200].lower().replace("\u2019", "'")) is not None


@lru_cache(maxsize=1)
def _model() -> LearnedModel:
    return shipped()


def embed(text: str) -> F32:
    """Return the text's static embedding (unit length, or zeros)."""
    featurizer = _model().featurizer
    ids = featurizer.pieces.ids(words(text.lower()))
    return featurizer.embed(np.asarray(ids, dtype=np.int64))


def meaning_kept(original: str, version: str) -> float:
    """Rescale the embedding cosine of the two texts to 0 (unrelated) - 1 (same meaning)."""
    cosine = float(np.dot(embed(original), embed(version)))
    return min(1.0, max(0.0, (cosine - MEANING_FLOOR) / (MEANING_FULL - MEANING_FLOOR)))


def extract_facts(text: str, removed: Sequence[Span] = ()) -> list[Fact]:
    """List the numbers, named things, negations and key terms of ``text``, once each.

    A fact inside a ``removed`` span is not listed: the version was meant to drop it.
    """

    def inside(position: int) -> bool:
        return any(span.start <= position < span.end for span in removed)

    found: dict[str, Fact] = {}
    for match in _NUMBER.finditer(text):
        if not inside(match.start()):
            digits = re.sub(r"\D", "", match.group())
            found.setdefault("n:" + digits, Fact(match.group(), "number", digits))
    for start, name in _names(text):
        if not inside(start):
            found.setdefault("a:" + name.lower(), Fact(name, "name", name.lower()))
    located = [(m.start(), m.group()) for m in WORD.finditer(text.lower())]
    tokens = [token for _, token in located]
    for index, (start, token) in enumerate(located):
        if _negates(token) and not inside(start):
            target = next((t for t in tokens[index + 1 : index + 4] if _content(t)), None)
            if target is not None:
                label = f"{token} … {target}"
                found.setdefault("g:" + target, Fact(label, "negation", target))
    kept_tokens = [token for start, token in located if not inside(start)]
    for term in key_terms(kept_tokens):
        if not any(f.kind == "name" and term in f.key.split() for f in found.values()):
            found.setdefault("t:" + term, Fact(term, "term", term))
    return list(found.values())


def _names(text: str) -> list[tuple[int, str]]:
    names = []
    for match in _NAME.finditer(text):
        name = match.group()
        at_start = _opens_sentence(text, match.start())
        if at_start and " " not in name:
            continue  # a capital that only opens a sentence
        if at_start:
            name = name.split(" ", 1)[1] if name.split(" ", 1)[0].lower() in _STOP else name
        if name not in {"I", "I'm", "I'll", "I've", "I'd"} and len(name) > 1:
            names.append((match.start(), name))
    return names


def _content(token: str) -> bool:
    return len(token) >= 4 and token.isalpha() and token not in _STOP


def key_terms(tokens: Sequence[str]) -> list[str]:
    """Return the text's rarest content words (by the heads' IDF), up to ``KEY_TERMS``."""
    content = sorted({t for t in tokens if _content(t)})
    if not content:
        return []
    model = _model()
    buckets = word_buckets(content, model.featurizer.spec.word_bits)[: len(content)]
    idf = model.featurizer.word_idf[buckets.astype(np.int64)]
    count = min(KEY_TERMS, max(2, len(content) // 3))
    ranked = sorted(zip(content, idf.tolist(), strict=True), key=lambda p: (-p[1], p[0]))
    return [term for term, _ in ranked[:count]]


def _opens_sentence(text: str, start: int) -> bool:
    """Say whether ``start`` opens a sentence (or the text, a line, a quote)."""
    at = start - 1
    while at >= 0 and (text[at].isspace() or text[at] in "\"'(“‘") and text[at] != "\n":
        at -= 1
    return at < 0 or text[at] in ".!?:\n"


class _Version:
    """What a version says, indexed once, so each fact is looked up in constant time."""

    def __init__(self, version: str, tokens: Sequence[str]) -> None:
        self.numbers = {re.sub(r"\D", "", m.group()) for m in _NUMBER.finditer(version)}
        self.words = set(tokens)
        self.stems = {_stem(t) for t in tokens if len(t) > _STEM}
        self.negated: set[str] = set()
        for index in (i for i, token in enumerate(tokens) if _negates(token)):
            for token in tokens[index + 1 : index + 5]:  # the four words after a negation
                self.negated.add(token)
                if len(token) > _STEM:
                    self.negated.add(_stem(token))

    def has(self, term: str) -> bool:
        return term in self.words or (len(term) > _STEM and _stem(term) in self.stems)

    def keeps(self, fact: Fact) -> bool:
        if fact.kind == "number":
            return fact.key in self.numbers
        if fact.kind == "name":
            return all(self.has(part) for part in fact.key.split())
        if fact.kind == "negation":
            key = fact.key
            return key in self.negated or (len(key) > _STEM and _stem(key) in self.negated)
        return self.has(fact.key)


_NEGATIONS: Final = frozenset(("not", "no", "never", "cannot", "without", "nor", "none", "nothing"))


def _negates(token: str) -> bool:
    return token in _NEGATIONS or token.endswith("n't")


def _stem(word: str) -> str:
    """Compare long words loosely: by their first five letters ("diagnose", "diagnosis")."""
    return "~" + word[:_STEM]
