"""Small learned taggers for personal details the PII rules cannot see by their form.

The PII rules see identifiers with a fixed form (e-mail, US phone, card, US address); a
name has none, and foreign addresses and phone numbers take many forms. Two token
taggers, each a logistic model over hashed features of a word and its neighbours:

- ``name``: each capitalised word (not all capitals, not an identity term): the word, its
  prefix and suffixes, the words before and after, their shapes, whether it starts a
  sentence, and the word's static MiniLM vector. Label: inside a PERSON span.
- ``number``: each word with a digit: its digit pattern, the two words on each side, their
  shapes and the characters between, and the static vectors of the neighbours. Label:
  inside a street address, phone, card, IBAN, SSN, licence, e-mail or IP span.

Both are trained by ``scripts/train_scorer.py`` on the calibration half's Presidio
sentences with their spans (never the ``{{MASKED}}`` templates). A detail alone is low
risk: the evaluator turns the strongest one into a mild privacy finding with its span.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from .features import F32, IDENTITY_TERMS
from .tokens import WORD, WordPiece

MAX_CANDIDATES: Final = 300
"""Words scored per text at most (a long text's first ones): keeps latency bounded."""
_SENTENCE_GAP: Final = frozenset('.!?\n:;"“(')


def shape(word: str | None) -> str:
    """A word's shape: boundary, digits, mixed digits, all capitals, capitalised, lower."""
    if word is None:
        return "B"
    if word.isdigit():
        return "d"
    if any(char.isdigit() for char in word):
        return "D"
    if word.isupper() and len(word) > 1:
        return "A"
    if word[0].isupper():
        return "C"
    return "l"


def is_candidate(word: str) -> bool:
    """Capitalised words of two letters or more, not all capitals, not identity terms."""
    return (
        word[0].isupper()
        and len(word) > 1
        and not word.isupper()
        and _DIGIT.search(word) is None
        and word.lower() not in IDENTITY_TERMS
    )


_DIGIT: Final = re.compile(r"\d")


def is_number(word: str) -> bool:
    """Words with a digit: parts of addresses, phone numbers and other identifiers."""
    return _DIGIT.search(word) is not None


def digit_pattern(word: str) -> str:
    """The word with digits as ``d`` and letters as ``a`` (at most 12 characters)."""
    return "".join("d" if c.isdigit() else "a" if c.isalpha() else c for c in word[:12])


def number_strings(text: str, tokens: Sequence[tuple[str, int, int]], i: int) -> list[str]:
    """The hashed feature strings of number word ``i`` (``tokens``: word, start, end)."""
    word = tokens[i][0]
    around = [tokens[j][0] if 0 <= j < len(tokens) else None for j in (i - 2, i - 1, i + 1, i + 2)]
    p2, p, n, n2 = ((w or "^").lower() for w in around)
    left = text[tokens[i - 1][2] : tokens[i][1]][:4] if i > 0 else "^"
    right = text[tokens[i][2] : tokens[i + 1][1]][:4] if i + 1 < len(tokens) else "$"
    return [
        "dp=" + digit_pattern(word),
        f"dl={min(sum(c.isdigit() for c in word), 12)}",
        "pw=" + p,
        "nw=" + n,
        "p2=" + p2,
        "n2=" + n2,
        "ps=" + shape(around[1]),
        "ns=" + shape(around[2]),
        "p2s=" + shape(around[0]),
        "n2s=" + shape(around[3]),
        "gl=" + left,
        "gr=" + right,
        "pw+nw=" + p + "|" + n,
        "shapes=" + "".join(shape(w) for w in around),
        "bias",
    ]


def context_words(tokens: Sequence[tuple[str, int, int]], i: int) -> list[str]:
    """The lowercased words on each side of word ``i`` (for the number tagger's vector)."""
    return [tokens[j][0].lower() for j in (i - 1, i + 1) if 0 <= j < len(tokens)]


def token_strings(text: str, tokens: Sequence[tuple[str, int, int]], i: int) -> list[str]:
    """The hashed feature strings of name candidate ``i`` (``tokens``: word, start, end)."""
    word = tokens[i][0]
    low = word.lower()
    prev = tokens[i - 1][0] if i > 0 else None
    nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
    prev2 = tokens[i - 2][0] if i > 1 else None
    gap = text[tokens[i - 1][2] : tokens[i][1]] if i > 0 else ""
    initial = i == 0 or any(char in _SENTENCE_GAP for char in gap)
    p, n = (prev or "^").lower(), (nxt or "$").lower()
    return [
        "w=" + low,
        "s3=" + low[-3:],
        "s2=" + low[-2:],
        "p3=" + low[:3],
        "pw=" + p,
        "nw=" + n,
        "p2=" + (prev2 or "^").lower(),
        "ps=" + shape(prev),
        "ns=" + shape(nxt),
        f"init={initial}",
        f"len={min(len(word), 12)}",
        f"ascii={word.isascii()}",
        "pw+ns=" + p + shape(nxt),
        "ps+ns=" + shape(prev) + shape(nxt) + str(initial),
        "bias",
    ]


def buckets(strings: Sequence[str], bits: int) -> list[int]:
    """Hash feature strings into ``2**bits`` buckets (CRC-32, stable across processes)."""
    return sorted({zlib.crc32(s.encode("utf-8")) >> (32 - bits) for s in strings})


def word_vector(low: str | Sequence[str], table: F32, pieces: WordPiece) -> F32:
    """The mean of the word's (or words') static piece vectors, L2-normalised."""
    ids = pieces.ids([low] if isinstance(low, str) else low)
    if not ids:
        return np.zeros(table.shape[1], dtype=np.float32)
    total = table[np.asarray(ids)].mean(axis=0)
    norm = float(np.sqrt(np.dot(total, total)))
    out: F32 = (total / norm if norm > 0 else total).astype(np.float32)
    return out


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` (case kept) with their spans."""
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


def candidates(kind: str, tokens: Sequence[tuple[str, int, int]]) -> list[int]:
    """The indices of the words a tagger of ``kind`` scores."""
    # cheap C-level string tests first: most words are lowercase letters only
    if kind == "name":
        found = [i for i, (w, _, _) in enumerate(tokens) if w[0].isupper() and is_candidate(w)]
    else:
        found = [i for i, (w, _, _) in enumerate(tokens) if not w.isalpha() and is_number(w)]
    return found[:MAX_CANDIDATES]


def strings(kind: str, text: str, tokens: Sequence[tuple[str, int, int]], i: int) -> list[str]:
    """The hashed feature strings a tagger of ``kind`` reads for word ``i``."""
    return (token_strings if kind == "name" else number_strings)(text, tokens, i)


def vector_key(kind: str, tokens: Sequence[tuple[str, int, int]], i: int) -> str:
    """What a tagger's static vector is of: the word itself, or its neighbours."""
    return tokens[i][0].lower() if kind == "name" else " ".join(context_words(tokens, i))


@dataclass
class NameTagger:
    """A tagger's weights: hashed features, the word-vector weights, bias and Platt."""

    bits: int
    weights: F32
    embedding: F32
    bias: float
    scale: float
    shift: float
    table: F32
    pieces: WordPiece
    kind: str = "name"
    _dense: dict[str, float] = field(default_factory=dict, repr=False)

    def _dense_logit(self, key: str) -> float:
        value = self._dense.get(key)
        if value is None:
            vector = word_vector(key.split(), self.table, self.pieces)
            value = float(np.dot(self.embedding, vector))
            if len(self._dense) < 100_000:
                self._dense[key] = value
        return value

    def names(
        self, text: str, tokens: Sequence[tuple[str, int, int]] | None = None
    ) -> list[tuple[int, int, float]]:
        """Every candidate word's (start, end, probability that it is a personal detail).

        ``tokens``: the text's words with their spans (``tokenize``), if already known.
        """
        tokens = tokenize(text) if tokens is None else tokens
        out: list[tuple[int, int, float]] = []
        for i in candidates(self.kind, tokens):
            index = buckets(strings(self.kind, text, tokens, i), self.bits)
            logit = self.bias + float(self.weights[index].sum())
            logit += self._dense_logit(vector_key(self.kind, tokens, i))
            out.append((tokens[i][1], tokens[i][2], _sigmoid(self.scale * logit + self.shift)))
        return out

    def strongest(
        self, text: str, tokens: Sequence[tuple[str, int, int]] | None = None
    ) -> tuple[int, int, float] | None:
        """The likeliest find, its span widened over adjacent likely words."""
        found = self.names(text, tokens)
        if not found:
            return None
        best = max(range(len(found)), key=lambda k: found[k][2])
        start, end, probability = found[best]
        for k in range(best + 1, len(found)):  # "Kevin Smith": one span
            if found[k][2] < 0.5 or text[end : found[k][0]].strip(" ,.-"):
                break
            end = found[k][1]
        for k in range(best - 1, -1, -1):
            if found[k][2] < 0.5 or text[found[k][1] : start].strip(" ,.-"):
                break
            start = found[k][0]
        return start, end, probability


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)
