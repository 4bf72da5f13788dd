"""The embedded regenerator acts on the learned evaluator's findings (issue 8).

A learned head reports ``harmful_content`` on the sentence it blames most; the rewriter
removes that sentence and keeps every other character of the text as it was.
"""

from __future__ import annotations

from regen.engine.kinds import KINDS
from regen.engine.regenerators import rewrites
from regen.engine.regenerators.embedded import EmbeddedRegenerator
from regen.engine.types import ImprovementPrompt, Issue, RegenerationRequest, Span

PROMPT = ImprovementPrompt("Improve the text.", "<content>…</content>", 0.2)
OPENING = "Index funds spread your money across many companies at a low fee."
RECKLESS = "Put your entire retirement savings in now and borrow against your house for more."
CLOSING = "Past returns say little about the next ten years."


def learned_issue(text: str, phrase: str, dimension: str = "safety") -> Issue:
    """A hand-built issue as the learned evaluator reports it: a sentence span, a head's p."""
    start = text.index(phrase)
    return Issue(
        dimension,
        "harmful content (learned)",
        "harmful_content",
        Span(start, start + len(phrase)),
        0.83,
    )


def regenerate(content: str, failing: tuple[str, ...], issues: tuple[Issue, ...]) -> str:
    request = RegenerationRequest(content, PROMPT, failing, issues)
    return EmbeddedRegenerator().regenerate(request).content


def test_harmful_content_is_a_kind_that_lowers_safety_first() -> None:
    assert KINDS["harmful_content"][0] == "safety"


def test_the_sentence_a_learned_head_blames_is_removed() -> None:
    text = f"{OPENING} {RECKLESS} {CLOSING}"
    out = regenerate(text, ("safety",), (learned_issue(text, RECKLESS),))
    assert RECKLESS not in out


def test_the_other_sentences_stay_byte_identical() -> None:
    text = f"{OPENING} {RECKLESS} {CLOSING}"
    out = regenerate(text, ("safety",), (learned_issue(text, RECKLESS),))
    assert out == f"{OPENING} {CLOSING}"


def test_unusual_spacing_and_characters_around_the_removed_sentence_are_kept() -> None:
    head = "Café fees fell 0.3%  this year…\n\n"
    tail = "\n\n—  Notes: “fees” compound; check them yearly.\t"
    text = f"{head}{RECKLESS}{tail}"
    out = regenerate(text, ("safety",), (learned_issue(text, RECKLESS),))
    assert out == "Café fees fell 0.3%  this year…" + tail


def test_a_span_on_part_of_a_sentence_removes_the_whole_sentence() -> None:
    text = f"{OPENING} {RECKLESS} {CLOSING}"
    out = regenerate(text, ("safety",), (learned_issue(text, "entire retirement savings"),))
    assert out == f"{OPENING} {CLOSING}"


def test_it_is_acted_on_when_only_user_impact_fails() -> None:
    text = f"{OPENING} {RECKLESS} {CLOSING}"
    out = regenerate(text, ("user_impact",), (learned_issue(text, RECKLESS),))
    assert out == f"{OPENING} {CLOSING}"


def test_it_is_left_alone_when_neither_of_its_dimensions_fails() -> None:
    text = f"{OPENING} {RECKLESS} {CLOSING}"
    out = regenerate(text, ("privacy",), (learned_issue(text, RECKLESS),))
    assert out == text


def test_a_text_that_is_only_the_harmful_sentence_becomes_the_neutral_sentence() -> None:
    out = regenerate(RECKLESS, ("safety",), (learned_issue(RECKLESS, RECKLESS),))
    assert out == rewrites.NEUTRAL_SENTENCE


def test_a_hedged_claim_stays_and_the_reckless_sentence_beside_it_goes() -> None:
    claim = "These funds are guaranteed to grow."
    text = f"{claim} {RECKLESS} {CLOSING}"
    start = text.index("guaranteed")
    hedge = Issue(
        "reliability",
        "guaranteed return",
        "guaranteed_return",
        Span(start, start + len("guaranteed")),
        0.8,
    )
    out = regenerate(text, ("safety", "reliability"), (hedge, learned_issue(text, RECKLESS)))
    assert RECKLESS not in out
    assert f" {CLOSING} " in out
