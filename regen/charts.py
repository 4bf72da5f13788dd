"""Plotly figures as plain JSON-able dicts, built from data (never from requests).

A template embeds one with ``<div class="chart" data-figure="ID"></div>`` and
``{{ figure|json_script:"ID" }}``; ``static/js/charts.js`` draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from regen.engine.dimensions import DIMENSION_INFO, DIMENSIONS

Figure = dict[str, Any]
COLORS = ("#2454d6", "#1c7c46", "#a86400", "#b3261e", "#5b3fa6", "#0f7b8a", "#8a4b0f", "#4f5b66")


def _names(dimensions: Iterable[str]) -> list[str]:
    return [DIMENSION_INFO[d].name for d in dimensions]


def score_per_iteration(scores: Sequence[float], threshold: float) -> Figure:
    """Draw the overall score of each iteration against the threshold line."""
    x = list(range(len(scores)))
    return {
        "data": [
            {"type": "scatter", "mode": "lines+markers", "x": x, "y": list(scores), "name": "Overall score",
             "line": {"color": COLORS[0], "width": 3}},
            {"type": "scatter", "mode": "lines", "x": [x[0] - 0.2, x[-1] + 0.2] if x else [0, 1],
             "y": [threshold, threshold], "name": f"Threshold {threshold:g}",
             "line": {"color": COLORS[3], "dash": "dash"}},
        ],
        "layout": {"title": {"text": "Overall score per iteration"}, "yaxis": {"range": [0, 10.2], "title": {"text": "score"}},
                   "xaxis": {"dtick": 1, "title": {"text": "iteration"}}, "legend": {"orientation": "h"}},
    }


def dimensions_per_iteration(rows: Sequence[Mapping[str, float]]) -> Figure:
    """Group each dimension's score by iteration, one bar series per iteration."""
    dims = [d for d in DIMENSIONS if any(d in row for row in rows)]
    return {
        "data": [
            {"type": "bar", "name": f"Iteration {i}", "x": _names(dims), "y": [row.get(d) for d in dims],
             "marker": {"color": COLORS[i % len(COLORS)]}}
            for i, row in enumerate(rows)
        ],
        "layout": {"title": {"text": "Dimension scores per iteration"}, "barmode": "group",
                   "yaxis": {"range": [0, 10.2]}, "legend": {"orientation": "h"}},
    }


def radar(scores: Mapping[str, float], *, title: str = "Best iteration") -> Figure:
    """Draw one evaluation's dimension scores as a radar."""
    dims = [d for d in DIMENSIONS if d in scores]
    closed = dims + dims[:1]
    return {
        "data": [{"type": "scatterpolar", "fill": "toself", "r": [scores[d] for d in closed],
                  "theta": _names(closed), "name": title, "line": {"color": COLORS[1]}}],
        "layout": {"title": {"text": title}, "polar": {"radialaxis": {"range": [0, 10]}}, "showlegend": False},
    }


def dimension_bars(scores: Mapping[str, float], thresholds: Mapping[str, float] | None = None) -> Figure:
    """Draw one evaluation's dimension scores as bars, failing ones in red."""
    dims = [d for d in DIMENSIONS if d in scores]
    limits = thresholds or {}
    colors = [COLORS[3] if scores[d] < limits.get(d, 7.0) else COLORS[1] for d in dims]
    return {
        "data": [{"type": "bar", "x": _names(dims), "y": [scores[d] for d in dims], "marker": {"color": colors}}],
        "layout": {"title": {"text": "Dimension scores"}, "yaxis": {"range": [0, 10.2]}, "showlegend": False},
    }


def daily(rows: Sequence[Mapping[str, Any]], field: str, *, title: str, kind: str = "bar") -> Figure:
    """Draw one value per day (``rows`` of ``{"day": date, field: value}``)."""
    return {
        "data": [{"type": "scatter" if kind == "line" else "bar", "mode": "lines+markers",
                  "x": [str(r["day"]) for r in rows], "y": [r[field] for r in rows], "name": title,
                  "marker": {"color": COLORS[0]}}],
        "layout": {"title": {"text": title}, "showlegend": False, "xaxis": {"type": "date"}},
    }
