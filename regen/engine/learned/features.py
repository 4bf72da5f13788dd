"""Turn a text into the learned heads' features: hashed n-grams and a static embedding.

Three blocks, each L2-normalised on its own: hashed word 1-2-grams and hashed character
3-5-grams (log term frequency × inverse document frequency, fixed hash sizes), and the
weighted mean of static word-piece vectors distilled from all-MiniLM-L6-v2. Hashes are
stable across processes (CRC-32 and a 64-bit mix, never Python's ``hash``). Identity
terms are replaced by one placeholder word before anything is counted, so a head cannot
learn that naming a group is itself a sign of hate.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from .tokens import WordPiece, words

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

PLACEHOLDER: Final = "group"
"""What an identity term becomes before features are counted."""
IDENTITY_TERMS: Final = frozenset(
    # plural and adjective forms of the groups hate speech targets; never a feature, never
    # the span an explanation blames
    "immigrant immigrants migrant migrants refugee refugees foreigner foreigners muslim muslims "  # noqa: SIM905
    "islam islamic jew jews jewish judaism christian christians hindu hindus sikh sikhs "
    "buddhist buddhists atheist atheists catholic catholics mormon mormons arab arabs "
    "mexican mexicans latino latinos latina latinas latinx hispanic hispanics asian asians "
    "chinese african africans black blacks white whites indian indians native natives "
    "indigenous aboriginal roma romani gypsy gypsies gay gays lesbian lesbians bisexual "
    "bisexuals homosexual homosexuals queer trans transgender transgenders nonbinary "
    "women woman men girls girl boys boy female females male males ladies "
    "disabled disability disabilities autistic deaf blind wheelchair elderly "
    "lgbt lgbtq lgbtqia feminist feminists".split()
)
_MASK32: Final = np.uint64(0xFFFFFFFF)
_BASE: Final = np.uint64(1_000_003)
_BIGRAM: Final = np.uint64(0x9E3779B97F4A7C15)
_SEEDS: Final = {3: 0x3C6EF372FE94F82B, 4: 0xA54FF53A5F1D36F1, 5: 0x510E527FADE682D1}
_CRC_MEMO: dict[str, int] = {}


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """The shape of the features: hash sizes and n-gram lengths."""

    word_bits: int = 17
    char_bits: int = 18
    char_sizes: tuple[int, ...] = (3, 4, 5)


@dataclass(frozen=True, slots=True)
class Features:
    """One text's features: sparse word and char blocks, and the dense embedding."""

    words: tuple[str, ...]
    word_index: I64
    word_value: F32
    char_index: I64
    char_value: F32
    embedding: F32
    word_hashes: U64
    """Per occurrence: the bucket of each unigram, then of each bigram (for attribution)."""
    char_hashes: U64
    char_owners: I64
    """Per character n-gram occurrence: its bucket and the index of the word it starts in."""
    piece_ids: I64
    piece_counts: I64
    """The word pieces of the words in order, and how many pieces each word has."""


def _mix(values: U64) -> U64:
    """Spread the bits of 64-bit hashes (the MurmurHash3 finaliser)."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint64(33))
        values = values * np.uint64(0xFF51AFD7ED558CCD)
        values = values ^ (values >> np.uint64(33))
        values = values * np.uint64(0xC4CEB9FE1A85EC53)
        return values ^ (values >> np.uint64(33))


def _crc(word: str) -> int:
    value = _CRC_MEMO.get(word)
    if value is None:
        value = zlib.crc32(word.encode("utf-8"))
        if len(_CRC_MEMO) < 200_000:
            _CRC_MEMO[word] = value
    return value


def mask_identity(tokens: Sequence[str]) -> list[str]:
    """Replace identity terms by the placeholder word."""
    return [PLACEHOLDER if token in IDENTITY_TERMS else token for token in tokens]


def word_buckets(tokens: Sequence[str], bits: int) -> U64:
    """Hash word unigrams and bigrams into ``2**bits`` buckets (unigrams first)."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter((_crc(token) for token in tokens), dtype=np.uint64, count=len(tokens))
    with np.errstate(over="ignore"):
        bigrams = hashes[:-1] * _BIGRAM + hashes[1:] + np.uint64(1) if len(tokens) > 1 else None
    joined = hashes if bigrams is None else np.concatenate((hashes, bigrams))
    return _mix(joined) >> np.uint64(64 - bits)


def char_buckets(tokens: Sequence[str], spec: FeatureSpec) -> tuple[U64, I64]:
    """Hash the character n-grams of the words joined by spaces; also each one's word index."""
    joined = " " + " ".join(tokens) + " "
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    # which word each character position starts in (the leading space belongs to word 0)
    lengths = np.fromiter((len(t) + 1 for t in tokens), dtype=np.int64, count=len(tokens))
    starts = np.concatenate(([0], np.cumsum(lengths)))[:-1]
    buckets: list[U64] = []
    owners: list[I64] = []
    with np.errstate(over="ignore"):
        for size in spec.char_sizes:
            count = len(codes) - size + 1
            if count <= 0:
                continue
            rolling = codes[:count].copy()
            for offset in range(1, size):
                rolling = rolling * _BASE + codes[offset : offset + count]
            rolling = rolling ^ np.uint64(_SEEDS.get(size, size))
            buckets.append(_mix(rolling) >> np.uint64(64 - spec.char_bits))
            positions = np.arange(count, dtype=np.int64)
            owners.append(np.searchsorted(starts, positions, side="right") - 1)
    if not buckets:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(buckets), np.concatenate(owners)


def weigh(buckets: U64, idf: F32) -> tuple[I64, F32]:
    """Count buckets into log-TF × IDF values, L2-normalised."""
    if not len(buckets):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    index, counts = np.unique(buckets.astype(np.int64), return_counts=True)
    values = (1.0 + np.log(counts)).astype(np.float32) * idf[index]
    norm = float(np.sqrt(np.dot(values, values)))
    return index, values / norm if norm > 0 else values


class Featurizer:
    """Compute the features of texts with fixed IDF tables and a static embedding table."""

    def __init__(
        self,
        spec: FeatureSpec,
        *,
        word_idf: F32,
        char_idf: F32,
        table: F32,
        pieces: WordPiece,
    ) -> None:
        self.spec = spec
        self.word_idf = word_idf
        self.char_idf = char_idf
        self.table = table
        """Static piece vectors, already multiplied by each piece's frequency weight."""
        self.pieces = pieces

    def tokens(self, low: str) -> list[str]:
        """Return the words of lowercased text with identity terms masked."""
        return mask_identity(words(low))

    def features(self, low: str) -> Features:
        """Compute the three feature blocks of lowercased text."""
        tokens = self.tokens(low)
        hashes = word_buckets(tokens, self.spec.word_bits)
        word_index, word_value = weigh(hashes, self.word_idf)
        chars, owners = char_buckets(tokens, self.spec)
        char_index, char_value = weigh(chars, self.char_idf)
        ids, counts = self.pieces.ids_per_word(tokens)
        piece_ids = np.asarray(ids, dtype=np.int64)
        return Features(
            tuple(tokens),
            word_index,
            word_value,
            char_index,
            char_value,
            self.embed(piece_ids),
            hashes,
            chars,
            owners,
            piece_ids,
            np.asarray(counts, dtype=np.int64),
        )

    def embed(self, piece_ids: I64) -> F32:
        """Average the weighted static vectors of the pieces, L2-normalised."""
        if not len(piece_ids):
            return np.zeros(self.table.shape[1], dtype=np.float32)
        total = self.table[piece_ids].sum(axis=0)
        norm = float(np.sqrt(np.dot(total, total)))
        out: F32 = (total / norm if norm > 0 else total).astype(np.float32)
        return out
