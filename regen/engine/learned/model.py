"""The learned heads: load the shipped weights, predict probabilities, attribute them to words.

Each head is a logistic model over the three feature blocks, followed by Platt scaling
fitted on out-of-fold predictions of the calibration half (``scripts/train_scorer.py``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .features import F32, I64, Features, FeatureSpec, Featurizer
from .names import NameTagger
from .tokens import WordPiece

WEIGHTS: Final = Path(__file__).resolve().parent / "weights.npz"
VOCAB: Final = Path(__file__).resolve().parent / "vocab.txt"


@dataclass(frozen=True, slots=True)
class Head:
    """One logistic head with its Platt scaling."""

    name: str
    word: F32
    char: F32
    embedding: F32
    bias: float
    scale: float
    shift: float

    def logit(self, features: Features) -> float:
        """Return the raw logit of the head."""
        return (
            self.bias
            + float(np.dot(self.word[features.word_index], features.word_value))
            + float(np.dot(self.char[features.char_index], features.char_value))
            + float(np.dot(self.embedding, features.embedding))
        )

    def probability(self, features: Features) -> float:
        """Return the calibrated probability that the text belongs to the head's class."""
        return _sigmoid(self.scale * self.logit(features) + self.shift)


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


class LearnedModel:
    """The featurizer and the heads, as built by ``make train-scorer``."""

    def __init__(
        self,
        featurizer: Featurizer,
        heads: Mapping[str, Head],
        meta: dict[str, Any],
        taggers: Mapping[str, NameTagger] | None = None,
    ):
        self.featurizer = featurizer
        self.heads = dict(heads)
        self.meta = meta
        self.taggers = dict(taggers or {})
        """The personal-detail taggers (``name``, ``number``) the weights have."""
        self._projections: dict[str, F32] = {}

    def _projection(self, head: str) -> F32:
        """Each piece's static vector dotted with the head's embedding weights, computed once.

        A matrix product per evaluation would wait on BLAS threads on a busy machine.
        """
        projection = self._projections.get(head)
        if projection is None:
            table = self.featurizer.table
            weights = self.heads[head].embedding
            projection = np.einsum("ij,j->i", table, weights).astype(np.float32)
            self._projections[head] = projection
        return projection

    def features(self, low: str) -> Features:
        """Compute the features of lowercased text."""
        return self.featurizer.features(low)

    def probabilities(self, features: Features) -> dict[str, float]:
        """Return every head's calibrated probability."""
        return {name: head.probability(features) for name, head in self.heads.items()}

    def word_contributions(self, head: str, features: Features) -> F32:
        """Split a head's logit (less its bias) over the words, by the features they start."""
        chosen = self.heads[head]
        count = len(features.words)
        if not count:
            return np.zeros(0, dtype=np.float32)
        words = features.word_hashes.astype(np.int64)
        owners = np.concatenate((np.arange(count), np.arange(count - 1)))[: len(words)]
        out = _spread(words, owners, chosen.word, features.word_index, features.word_value, count)
        out += _spread(
            features.char_hashes.astype(np.int64),
            features.char_owners,
            chosen.char,
            features.char_index,
            features.char_value,
            count,
        )
        ids = features.piece_ids
        if len(ids):
            piece_owner = np.repeat(np.arange(count), features.piece_counts)
            total = self.featurizer.table[ids].sum(axis=0)
            norm = float(np.sqrt(np.dot(total, total))) or 1.0
            out += np.bincount(piece_owner, self._projection(head)[ids] / norm, minlength=count)
        result: F32 = out.astype(np.float32)
        return result


def _spread(
    buckets: I64, owners: I64, weights: F32, index: I64, values: F32, count: int
) -> npt.NDArray[np.float64]:
    """Give each occurrence of a bucket its share of the bucket's weighted value."""
    if not len(buckets) or not len(index):
        return np.zeros(count, dtype=np.float64)
    uniq, inverse, per = np.unique(buckets, return_inverse=True, return_counts=True)
    position = np.searchsorted(index, uniq).clip(0, len(index) - 1)
    value = np.where(index[position] == uniq, values[position], 0.0)
    share = (weights[uniq] * value / per)[inverse]
    out: npt.NDArray[np.float64] = np.bincount(owners, share, minlength=count).astype(np.float64)
    return out


def load(path: Path = WEIGHTS, vocab_path: Path = VOCAB) -> LearnedModel:
    """Read the weights file and the vocabulary into a model."""
    with np.load(path, allow_pickle=False) as data:
        meta: dict[str, Any] = json.loads(bytes(data["meta"]).decode("utf-8"))
        spec = FeatureSpec(
            word_bits=int(meta["word_bits"]),
            char_bits=int(meta["char_bits"]),
            char_sizes=tuple(int(size) for size in meta["char_sizes"]),
        )
        table = data["table"].astype(np.float32) * data["table_scale"].astype(np.float32)[:, None]
        vocab = vocab_path.read_text(encoding="utf-8").split("\n")
        featurizer = Featurizer(
            spec,
            word_idf=data["word_idf"].astype(np.float32),
            char_idf=data["char_idf"].astype(np.float32),
            table=table,
            pieces=WordPiece(vocab),
        )
        heads = {}
        for name in meta["heads"]:
            bias, scale, shift = (float(v) for v in data[f"{name}.scalars"])
            heads[name] = Head(
                name=name,
                word=data[f"{name}.word"].astype(np.float32),
                char=data[f"{name}.char"].astype(np.float32),
                embedding=data[f"{name}.embedding"].astype(np.float32),
                bias=bias,
                scale=scale,
                shift=shift,
            )
        taggers = {}
        for kind, info in meta.get("taggers", {}).items():
            bias, scale, shift = (float(v) for v in data[f"tagger.{kind}.scalars"])
            taggers[kind] = NameTagger(
                bits=int(info["bits"]),
                weights=data[f"tagger.{kind}.weights"].astype(np.float32),
                embedding=data[f"tagger.{kind}.embedding"].astype(np.float32),
                bias=bias,
                scale=scale,
                shift=shift,
                table=table,
                pieces=featurizer.pieces,
                kind=kind,
            )
    return LearnedModel(featurizer, heads, meta, taggers)


@lru_cache(maxsize=1)
def shipped() -> LearnedModel:
    """Return the model shipped with the code, loaded once per process."""
    return load()
