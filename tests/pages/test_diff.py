"""The word diff and the span highlighting escape every piece of the user's text."""

from regen.diff import highlight, issue_spans, merge_spans, tokens, word_diff


def test_tokens_keep_the_whitespace_after_each_word():
    assert tokens("Take  500mg\nof Y.") == [
        ("Take", "  "),
        ("500mg", "\n"),
        ("of", " "),
        ("Y.", ""),
    ]


def test_the_diff_marks_removed_and_added_words():
    assert word_diff("take 500mg of Y daily", "ask a doctor about Y daily") == (
        "<del>take 500mg of</del> <ins>ask a doctor about</ins> Y daily"
    )


def test_the_diff_marks_a_removed_word_and_an_added_one():
    assert word_diff("a b c", "a c d") == "a <del>b</del> c <ins>d</ins>"


def test_the_diff_of_equal_texts_has_no_marks():
    assert word_diff("same text", "same text") == "same text"


def test_the_diff_escapes_markup_in_every_piece():
    html = word_diff('<b>old</b> "><img src=x onerror=alert(1)>', "<script>alert(1)</script> kept")
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img" in html


def test_highlight_wraps_spans_and_escapes_the_rest():
    text = "<i>call</i> me at a@b.example now"
    start = text.index("a@b")
    html = highlight(text, [(start, start + len("a@b.example"), "E-mail <address>")])
    assert html == (
        '&lt;i&gt;call&lt;/i&gt; me at <mark class="span" title="E-mail &lt;address&gt;">a@b.example</mark> now'
    )


def test_highlight_escapes_inside_a_span():
    assert highlight("<script>x</script>", [(0, 8, "")]) == (
        '<mark class="span" title="">&lt;script&gt;</mark>x&lt;/script&gt;'
    )


def test_overlapping_and_out_of_range_spans_are_merged_and_clipped():
    spans = [(5, 9, "b"), (0, 3, "a"), (2, 6, "c"), (12, 50, "d"), (40, 41, "e"), (7, 7, "f")]
    assert merge_spans(spans, 20) == [(0, 9, "a; c; b"), (12, 20, "d")]


def test_issue_spans_are_read_from_a_stored_evaluation_and_malformed_ones_skipped():
    evaluation = {
        "scores": {
            "privacy": {"issues": [{"description": "E-mail", "span": {"start": 3, "end": 9}}]},
            "safety": {"issues": [{"description": "No span"}, {"span": {"start": "x", "end": 2}}]},
        }
    }
    assert issue_spans(evaluation) == [(3, 9, "E-mail")]
