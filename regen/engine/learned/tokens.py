"""Words and word pieces: the tokenisation the learned heads were trained with.

Words are runs of letters, digits and inner apostrophes, lowercased. Word pieces follow
BERT's uncased WordPiece (accents stripped, greedy longest match, ``##`` continuations),
written in plain Python so that serving needs no tokenizer package.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Final

WORD: Final = re.compile(r"\w+(?:'\w+)*")
"""A word: letters or digits, with inner apostrophes ("don't" is one word)."""
_MAX_PIECES_CHARS: Final = 100
_MEMO_LIMIT: Final = 200_000


def words(low: str) -> list[str]:
    """Split lowercased text into words."""
    return WORD.findall(low)


def _strip_accents(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


class WordPiece:
    """Greedy longest-match WordPiece over a fixed vocabulary, memoised per word."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self._ids: Mapping[str, int] = {token: index for index, token in enumerate(vocab)}
        self._unk = self._ids.get("[UNK]", 0)
        self._memo: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self, tokens: Sequence[str]) -> list[int]:
        """Return the piece ids of the words, in order."""
        return self.ids_per_word(tokens)[0]

    def ids_per_word(self, tokens: Sequence[str]) -> tuple[list[int], list[int]]:
        """Return the piece ids of the words, and how many pieces each word has."""
        memo = self._memo
        out: list[int] = []
        counts: list[int] = []
        for word in tokens:
            pieces = memo.get(word)
            if pieces is None:
                pieces = self._pieces(word)
                if len(memo) < _MEMO_LIMIT:
                    memo[word] = pieces
            out.extend(pieces)
            counts.append(len(pieces))
        return out, counts

    def _pieces(self, word: str) -> tuple[int, ...]:
        plain = _strip_accents(word).replace("'", " ' ")
        result: list[int] = []
        for part in plain.split():
            result.extend(self._greedy(part))
        return tuple(result)

    def _greedy(self, word: str) -> list[int]:
        if len(word) > _MAX_PIECES_CHARS:
            return [self._unk]
        ids = self._ids
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = -1
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = ids.get(piece, -1)
                if found >= 0:
                    break
                end -= 1
            if found < 0:
                return [self._unk]
            pieces.append(found)
            start = end
        return pieces
