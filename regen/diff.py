"""Mark up text for the pages: a word-level diff and highlighted issue spans.

Both return HTML built only from escaped pieces of the user's text and fixed tags, so
the result is safe to render even when the text itself is HTML or script.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

_WORDS = re.compile(r"(\S+)(\s*)")


def tokens(text: str) -> list[tuple[str, str]]:
    """Split text into words, each with the whitespace after it."""
    return [(m.group(1), m.group(2)) for m in _WORDS.finditer(text)]


def _marked(tag: str, pairs: list[tuple[str, str]]) -> str:
    """Wrap words (not the whitespace after the last one) in ``tag``."""
    text = "".join(word + space for word, space in pairs)
    body = text.rstrip()
    return format_html("<{}>{}</{}>", tag, body, tag) + escape(text[len(body) :])


def word_diff(before: str, after: str) -> SafeString:
    """Render ``after`` against ``before`` word by word: removed in <del>, added in <ins>."""
    old, new = tokens(before), tokens(after)
    matcher = difflib.SequenceMatcher(a=[w for w, _ in old], b=[w for w, _ in new], autojunk=False)
    parts: list[str] = [escape(after[: len(after) - len(after.lstrip())])]
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(word + space for word, space in new[b1:b2])))
            continue
        if a2 > a1:
            removed = _marked("del", old[a1:a2])
            parts.append(removed.rstrip() + " " if b2 > b1 else removed)
        if b2 > b1:
            parts.append(_marked("ins", new[b1:b2]))
    return mark_safe("".join(parts))  # every piece above is escaped


Span = tuple[int, int, str]
"""``[start, end)`` of a text, and what is wrong there."""


def issue_spans(evaluation: Mapping[str, Any]) -> list[Span]:
    """Collect the spans of a stored evaluation's issues (malformed ones are skipped)."""
    spans: list[Span] = []
    for score in (evaluation.get("scores") or {}).values():
        for issue in score.get("issues") or ():
            try:
                start, end = int(issue["span"]["start"]), int(issue["span"]["end"])
            except (KeyError, TypeError, ValueError):
                continue
            spans.append((start, end, str(issue.get("description") or "")))
    return spans


def merge_spans(spans: Iterable[Span], length: int) -> list[Span]:
    """Clip spans to ``[0, length)`` and merge overlapping ones, joining their descriptions."""
    merged: list[Span] = []
    for start, end, title in sorted((max(0, s), min(length, e), t) for s, e, t in spans):
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            first, last, titles = merged[-1]
            joined = (
                titles
                if not title or title in titles.split("; ")
                else f"{titles}; {title}".strip("; ")
            )
            merged[-1] = (first, max(last, end), joined)
        else:
            merged.append((start, end, title))
    return merged


def highlight(text: str, spans: Iterable[Span]) -> SafeString:
    """Render text with each span wrapped in <mark class="span" title="what is wrong">."""
    parts: list[str] = []
    cursor = 0
    for start, end, title in merge_spans(spans, len(text)):
        parts.append(escape(text[cursor:start]))
        parts.append(format_html('<mark class="span" title="{}">{}</mark>', title, text[start:end]))
        cursor = end
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(parts))  # every piece above is escaped
