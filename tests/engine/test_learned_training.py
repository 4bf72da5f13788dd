"""The weights build: fixed seeds give the same weights, without torch (tiny synthetic set)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from regen.engine.evaluators.learned import LearnedEvaluator
from regen.engine.learned.features import FeatureSpec
from regen.engine.learned.model import load
from regen.engine.types import EvalContext

ROOT = Path(__file__).resolve().parents[2]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("train_scorer", ROOT / "scripts/train_scorer.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_scorer"] = module
    spec.loader.exec_module(module)
    return module


train = _script()

VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "the",
    "cat",
    "dog",
    "sat",
    "ran",
    "on",
    "mat",
    "bad",
    "awful",
    "nice",
    "kind",
    "##s",
    "a",
    "mean",
    "good",
    "day",
]
BAD = [
    "the dog was awful and mean",
    "a bad mean cat",
    "awful awful day",
    "mean dog ran",
    "the cat was bad",
    "bad dog on the mat",
    "a mean awful cat sat",
    "bad day mean cats",
]
GOOD = [
    "the cat sat on the mat",
    "a nice kind dog",
    "good day",
    "the dog ran on a nice day",
    "kind cats sat",
    "a good cat",
    "nice mat",
    "the kind dog sat on the mat",
]


def _rows() -> list[object]:
    rows = []
    for index, text in enumerate(BAD * 3):
        rows.append(train.Row(f"bad-{index}", "toy", text, 1, "statement"))
    for index, text in enumerate(GOOD * 3):
        rows.append(train.Row(f"good-{index}", "toy", text, 0, "statement"))
    return rows


def _build() -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    vectors = np.random.default_rng(7).normal(size=(len(VOCAB), 12)).astype(np.float32)
    return train.build(  # type: ignore[no-any-return]
        _rows(),
        [train.Family("toy", ("toy",))],
        vectors,
        VOCAB,
        spec=FeatureSpec(word_bits=8, char_bits=9),
        grid=[train.Config(4.0, 1.0, 1.0)],
        log=lambda _: None,
    )


def test_the_build_with_a_fixed_seed_reproduces_the_same_weights() -> None:
    first, second = _build(), _build()

    assert sorted(first) == sorted(second)
    assert all(np.array_equal(first[key], second[key]) for key in first)


def test_a_head_built_on_toy_data_separates_its_classes(tmp_path: Path) -> None:
    arrays = _build()
    np.savez_compressed(tmp_path / "weights.npz", **arrays)
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB), encoding="utf-8")
    model = load(tmp_path / "weights.npz", tmp_path / "vocab.txt")
    head = model.heads["toy"]

    bad = head.probability(model.features("a mean awful dog"))
    good = head.probability(model.features("a nice kind cat"))

    assert bad > good


def test_the_shipped_weights_load_with_every_head() -> None:
    model = load()

    assert sorted(model.heads) == ["harm", "hate", "privacy", "severe"]


def test_the_shipped_weights_fit_the_size_budget() -> None:
    folder = ROOT / "regen" / "engine" / "learned"
    size = (folder / "weights.npz").stat().st_size + (folder / "vocab.txt").stat().st_size

    assert size <= 20_000_000


@pytest.mark.parametrize("mode", ["basic", "deep"])
def test_scores_are_deterministic_across_evaluator_instances(mode: str) -> None:
    text = "The meeting moved to Thursday. Bring the report and your questions."
    ctx = EvalContext(mode=mode)  # type: ignore[arg-type]

    first = LearnedEvaluator().evaluate(text, ctx)
    second = LearnedEvaluator(load()).evaluate(text, ctx)

    assert first == second


NAMES = ["Kevin", "Alma", "Rubija", "Jildau", "Tomas", "Ines", "Marek", "Oona", "Bertil", "Sunniva"]
TEMPLATES = [
    "My name is {name} and I work on Monday.",
    "Please call {name} about the Report.",
    "{name} wrote the Budget on Friday.",
    "The Council asked {name} to join in March.",
    "Ask {name}, the Manager of Sales.",
    "We met {name} at the Museum in June.",
]


def _presidio_rows() -> list[object]:
    """Written for this test: names in templates, with Presidio-style spans."""
    rows = []
    for t, template in enumerate(TEMPLATES):
        for n, name in enumerate(NAMES):
            text = template.format(name=name)
            start = text.index(name)
            meta = {
                "template_id": t,
                "spans": [
                    {
                        "entity_type": "PERSON",
                        "start_position": start,
                        "end_position": start + len(name),
                    }
                ],
            }
            rows.append(
                train.Row(f"p-{t}-{n}", "presidio_synth_pii", text, 1, "synthetic_sentence", meta)
            )
    return rows


def test_the_name_tagger_built_on_toy_sentences_tells_names_from_capitalised_words(
    tmp_path: Path,
) -> None:
    vectors = np.random.default_rng(7).normal(size=(len(VOCAB), 12)).astype(np.float32)
    arrays = train.build(
        _rows() + _presidio_rows(),
        [train.Family("toy", ("toy",))],
        vectors,
        VOCAB,
        spec=FeatureSpec(word_bits=8, char_bits=9),
        grid=[train.Config(4.0, 1.0, 1.0)],
        log=lambda _: None,
    )
    np.savez_compressed(tmp_path / "weights.npz", **arrays)
    (tmp_path / "vocab.txt").write_text("\n".join(VOCAB), encoding="utf-8")
    tagger = load(tmp_path / "weights.npz", tmp_path / "vocab.txt").taggers["name"]

    found = {
        text: p
        for text, p in ((t[0], t[2]) for t in _spans(tagger, "Please call Sunniva on Monday."))
    }

    assert found["Sunniva"] > 0.5 > found["Monday"]


def _spans(tagger, text: str) -> list[tuple[str, int, float]]:  # type: ignore[no-untyped-def]
    return [(text[start:end], start, p) for start, end, p in tagger.names(text)]


def test_the_shipped_weights_load_with_every_tagger() -> None:
    assert sorted(load().taggers) == ["name", "number"]
