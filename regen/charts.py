"""Plotly figures as plain JSON-able dicts, built from data (never from requests).

A template embeds one with ``<div class="chart" data-figure="ID"></div>`` and
``{{ figure|json_script:"ID" }}``; ``static/js/charts.js`` draws it.
"""

from __future__ import annotations

import datetime as dt
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
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": list(scores),
                "name": "Overall score",
                "line": {"color": COLORS[0], "width": 3},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [x[0] - 0.2, x[-1] + 0.2] if x else [0, 1],
                "y": [threshold, threshold],
                "name": f"Threshold {threshold:g}",
                "line": {"color": COLORS[3], "dash": "dash"},
            },
        ],
        "layout": {
            "title": {"text": "Overall score per iteration"},
            "yaxis": {"range": [0, 10.2], "title": {"text": "score"}},
            "xaxis": {"dtick": 1, "title": {"text": "iteration"}},
            "legend": {"orientation": "h"},
        },
    }


def dimensions_per_iteration(rows: Sequence[Mapping[str, float]]) -> Figure:
    """Group each dimension's score by iteration, one bar series per iteration."""
    dims = [d for d in DIMENSIONS if any(d in row for row in rows)]
    return {
        "data": [
            {
                "type": "bar",
                "name": f"Iteration {i}",
                "x": _names(dims),
                "y": [row.get(d) for d in dims],
                "marker": {"color": COLORS[i % len(COLORS)]},
            }
            for i, row in enumerate(rows)
        ],
        "layout": {
            "title": {"text": "Dimension scores per iteration"},
            "barmode": "group",
            "yaxis": {"range": [0, 10.2]},
            "legend": {"orientation": "h"},
        },
    }


def radar(scores: Mapping[str, float], *, title: str = "Best iteration") -> Figure:
    """Draw one evaluation's dimension scores as a radar."""
    dims = [d for d in DIMENSIONS if d in scores]
    closed = dims + dims[:1]
    return {
        "data": [
            {
                "type": "scatterpolar",
                "fill": "toself",
                "r": [scores[d] for d in closed],
                "theta": _names(closed),
                "name": title,
                "line": {"color": COLORS[1]},
            }
        ],
        "layout": {
            "title": {"text": title},
            "polar": {"radialaxis": {"range": [0, 10]}},
            "showlegend": False,
        },
    }


def dimension_bars(
    scores: Mapping[str, float], thresholds: Mapping[str, float] | None = None
) -> Figure:
    """Draw one evaluation's dimension scores as bars, failing ones in red."""
    dims = [d for d in DIMENSIONS if d in scores]
    limits = thresholds or {}
    colors = [COLORS[3] if scores[d] < limits.get(d, 7.0) else COLORS[1] for d in dims]
    return {
        "data": [
            {
                "type": "bar",
                "x": _names(dims),
                "y": [scores[d] for d in dims],
                "marker": {"color": colors},
            }
        ],
        "layout": {
            "title": {"text": "Dimension scores"},
            "yaxis": {"range": [0, 10.2]},
            "showlegend": False,
        },
    }


def daily(
    rows: Sequence[Mapping[str, Any]], field: str, *, title: str, kind: str = "bar"
) -> Figure:
    """Draw one value per day (``rows`` of ``{"day": date, field: value}``)."""
    return {
        "data": [
            {
                "type": "scatter" if kind == "line" else "bar",
                "mode": "lines+markers",
                "x": [str(r["day"]) for r in rows],
                "y": [r[field] for r in rows],
                "name": title,
                "marker": {"color": COLORS[0]},
            }
        ],
        "layout": {"title": {"text": title}, "showlegend": False, "xaxis": {"type": "date"}},
    }


def failing_bars(
    scores: Mapping[str, float], failing: Iterable[str], *, title: str = "Dimension scores"
) -> Figure:
    """Draw one evaluation's dimension scores as bars, the listed failing dimensions in red."""
    dims = [d for d in DIMENSIONS if d in scores]
    red = set(failing)
    return {
        "data": [
            {
                "type": "bar",
                "x": _names(dims),
                "y": [scores[d] for d in dims],
                "marker": {"color": [COLORS[3] if d in red else COLORS[1] for d in dims]},
                "text": [f"{scores[d]:.1f}" for d in dims],
                "textposition": "outside",
                "hovertemplate": "%{x}: %{y:.1f}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": title},
            "yaxis": {"range": [0, 10.8], "title": {"text": "score"}},
            "showlegend": False,
        },
    }


DAY_MS = 86_400_000


def with_layout(figure: Figure, **layout: Any) -> Figure:
    """Return the figure with some layout keys replaced (legend, margins, axes)."""
    return {**figure, "layout": {**figure.get("layout", {}), **layout}}


def per_day(
    rows: Sequence[Mapping[str, Any]],
    field: str,
    *,
    title: str,
    kind: str = "bar",
    y_range: Sequence[float] | None = None,
) -> Figure:
    """Draw one value per day on a date axis with day ticks, padded half a day each side."""
    figure = daily(rows, field, title=title, kind=kind)
    if kind == "bar":  # on a date axis a lone bar would be drawn 1 ms wide
        figure["data"] = [{**trace, "width": DAY_MS * 0.7} for trace in figure["data"]]
    xaxis: dict[str, Any] = {"type": "date", "tickformat": "%b %d", "hoverformat": "%Y-%m-%d"}
    if rows:
        first, last = rows[0]["day"], rows[-1]["day"]
        xaxis["range"] = [_shift(first, -0.5), _shift(last, 0.5)]
        if (last - first).days <= 14:
            xaxis["dtick"] = DAY_MS
    yaxis: dict[str, Any] = {"rangemode": "tozero"}
    if y_range is not None:
        yaxis["range"] = list(y_range)
    return with_layout(
        figure, xaxis=xaxis, yaxis=yaxis, margin={"l": 48, "r": 16, "t": 40, "b": 40}
    )


def _shift(day: dt.date, days: float) -> str:
    moment = dt.datetime.combine(day, dt.time.min) + dt.timedelta(days=days)
    return moment.isoformat(sep=" ")


def run_charts(
    overall: Sequence[float],
    dimension_rows: Sequence[Mapping[str, float]],
    threshold: float,
    best: int,
) -> dict[str, Figure]:
    """Draw a run's charts: overall score line, dimension bars per iteration, best radar."""
    below = {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"}
    return {
        "score": with_layout(
            score_per_iteration(overall, threshold),
            legend=below,
            margin={"l": 48, "r": 16, "t": 40, "b": 64},
            xaxis={"dtick": 1, "title": {"text": ""}},
        ),
        "dims": with_layout(
            dimensions_per_iteration(dimension_rows),
            legend={**below, "y": -0.32},
            margin={"l": 40, "r": 16, "t": 40, "b": 96},
            xaxis={"tickangle": -30},
        ),
        "radar": with_layout(
            radar(dimension_rows[best], title=f"Best version (iteration {best})"),
            margin={"l": 72, "r": 72, "t": 72, "b": 40},
            polar={"radialaxis": {"range": [0, 10], "angle": 90, "tickfont": {"size": 9}}},
        ),
    }


def credits_per_day(
    rows: Sequence[Mapping[str, Any]], field: str, *, title: str, start: dt.date, end: dt.date
) -> Figure:
    """Draw one bar per day over the whole window ``start``–``end``, even with no data."""
    figure = daily(rows, field, title=title)
    half_day = dt.timedelta(hours=12)
    window = [
        (dt.datetime.combine(start, dt.time.min) - half_day).isoformat(sep=" "),
        (dt.datetime.combine(end, dt.time.min) + half_day).isoformat(sep=" "),
    ]
    figure["data"][0]["hovertemplate"] = "%{x|%Y-%m-%d}: %{y} credits<extra></extra>"
    figure["layout"].update(
        xaxis={"type": "date", "range": window, "tickformat": "%b %d"},
        yaxis={
            "rangemode": "tozero",
            "title": {"text": "credits"},
            **({} if rows else {"range": [0, 1]}),
        },
        margin={"l": 56, "r": 16, "t": 40, "b": 40},
    )
    if not rows:
        figure["layout"]["annotations"] = [
            {"text": "No credits charged in this period", "showarrow": False,
             "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "font": {"color": "#5b6577"}}
        ]  # fmt: skip
    return figure


def agreement_bars(rows: Mapping[str, Mapping[str, int]]) -> Figure:
    """Per dimension, the share of decisions in which reviewers overturned the scorer."""
    dims = [d for d in DIMENSIONS if rows.get(d, {}).get("decided")]
    shares = [100.0 * rows[d]["overturned"] / rows[d]["decided"] for d in dims]
    return {
        "data": [
            {
                "type": "bar",
                "x": _names(dims),
                "y": shares,
                "marker": {"color": COLORS[0]},
                "text": [
                    f"{share:.0f}% of {rows[d]['decided']}"
                    for share, d in zip(shares, dims, strict=True)
                ],
                "textposition": "outside",
                "hovertemplate": "%{x}: %{y:.0f}% overturned<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": "Reviewers overturning the scorer"},
            "yaxis": {"range": [0, 110], "title": {"text": "% of decisions"}},
            "showlegend": False,
        },
    }


WHAT_IF_COLORS = {"pass": COLORS[1], "regenerate": COLORS[2], "review": COLORS[3]}


def what_if_outcomes(per_day: Sequence[Mapping[str, Any]]) -> Figure:
    """Stack, per day, the runs that would pass at once, regenerate or go to review."""
    days = [row["date"] for row in per_day]
    return {
        "data": [
            {
                "type": "bar",
                "x": days,
                "y": [row[outcome] for row in per_day],
                "name": label,
                "marker": {"color": WHAT_IF_COLORS[outcome]},
            }
            for outcome, label in (
                ("pass", "Pass at once"),
                ("regenerate", "Regenerate"),
                ("review", "Review"),
            )
        ],
        "layout": {
            "title": {"text": "Runs per day under this policy"},
            "barmode": "stack",
            "xaxis": {"type": "date", "tickformat": "%b %d"},
            "legend": {"orientation": "h"},
        },
    }


def what_if_credits(per_day: Sequence[Mapping[str, Any]]) -> Figure:
    """Draw, per day, the credits the policy would cost beside those actually charged."""
    days = [row["date"] for row in per_day]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": days,
                "y": [float(row["credits"]) for row in per_day],
                "name": "Would cost",
                "line": {"color": COLORS[0], "width": 3},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": days,
                "y": [float(row["credits_actual"]) for row in per_day],
                "name": "Charged",
                "line": {"color": COLORS[7], "dash": "dot"},
            },
        ],
        "layout": {
            "title": {"text": "Credits per day"},
            "xaxis": {"type": "date", "tickformat": "%b %d"},
            "yaxis": {"rangemode": "tozero"},
            "legend": {"orientation": "h"},
        },
    }
