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


def threshold_bars(
    scores: Mapping[str, float], limits: Mapping[str, float], *, title: str = "Dimension scores"
) -> Figure:
    """Draw one evaluation's dimension scores as bars, each with its threshold marked and the
    ones below it in red."""
    dims = [d for d in DIMENSIONS if d in scores]
    names = _names(dims)
    below = [scores[d] < limits.get(d, 7.0) for d in dims]
    return {
        "data": [
            {
                "type": "bar",
                "x": names,
                "y": [scores[d] for d in dims],
                "marker": {"color": [COLORS[3] if b else COLORS[1] for b in below]},
                "text": [f"{scores[d]:.1f}" for d in dims],
                "textposition": "outside",
                "hovertemplate": "%{x}: %{y:.1f}<extra></extra>",
                "name": "score",
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": names,
                "y": [limits.get(d, 7.0) for d in dims],
                "marker": {"symbol": "line-ew-open", "size": 26, "color": COLORS[7],
                           "line": {"width": 2}},
                "hovertemplate": "%{x} threshold: %{y:.1f}<extra></extra>",
                "name": "threshold",
            },
        ],
        "layout": {
            "title": {"text": title},
            "yaxis": {"range": [0, 10.8], "title": {"text": "score"}},
            "xaxis": {"tickangle": -30},
            "showlegend": False,
            "margin": {"l": 44, "r": 12, "t": 40, "b": 90},
        },
    }  # fmt: skip


SCORE_SCALE = [[0.0, "#b3261e"], [0.5, "#f2c94c"], [0.7, "#cfe8d6"], [1.0, "#1c7c46"]]


def heatmap(rows: Sequence[Mapping[str, float]], limits: Mapping[str, float]) -> Figure:
    """Draw every dimension's score in every iteration as one grid (dimensions down,
    iterations across), each cell labelled, a cross on the cells below their threshold."""
    dims = [d for d in DIMENSIONS if any(d in row for row in rows)]
    z = [[row.get(d) for row in rows] for d in dims]
    text = [
        ["" if row.get(d) is None else _cell(row[d], limits.get(d, 7.0)) for row in rows]
        for d in dims
    ]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": [f"#{i}" for i in range(len(rows))],
                "y": _names(dims),
                "text": text,
                "texttemplate": "%{text}",
                "zmin": 0,
                "zmax": 10,
                "colorscale": SCORE_SCALE,
                "xgap": 2,
                "ygap": 2,
                "colorbar": {"thickness": 10, "len": 0.9},
                "hovertemplate": "%{y}, iteration %{x}: %{z:.1f}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": "Scores per iteration (✗ below threshold)", "font": {"size": 13}},
            "yaxis": {"autorange": "reversed", "automargin": True},
            "xaxis": {"side": "top", "type": "category"},
            "margin": {"l": 10, "r": 10, "t": 64, "b": 16},
        },
    }


def _cell(score: float, limit: float) -> str:
    return f"{score:.1f} ✗" if score < limit else f"{score:.1f}"


def dimension_trends(
    rows: Sequence[Mapping[str, float]], limits: Mapping[str, float]
) -> list[tuple[str, Figure]]:
    """Draw one small chart per dimension: its score per iteration against its threshold."""
    x = list(range(len(rows)))
    figures = []
    for dim in [d for d in DIMENSIONS if any(d in row for row in rows)]:
        y = [row.get(dim) for row in rows]
        limit = limits.get(dim, 7.0)
        colors = [COLORS[3] if v is not None and v < limit else COLORS[1] for v in y]
        figures.append((dim, {
            "data": [
                {"type": "scatter", "mode": "lines+markers", "x": x, "y": y,
                 "line": {"color": COLORS[0]}, "marker": {"color": colors, "size": 8},
                 "hovertemplate": "iteration %{x}: %{y:.1f}<extra></extra>"},
                {"type": "scatter", "mode": "lines", "x": [x[0] - 0.3, x[-1] + 0.3],
                 "y": [limit, limit], "line": {"color": COLORS[3], "dash": "dash", "width": 1},
                 "hovertemplate": f"threshold {limit:g}<extra></extra>"},
            ],
            "layout": {
                "title": {"text": f"{DIMENSION_INFO[dim].name} · {limit:g}", "font": {"size": 12}},
                "yaxis": {"range": [0, 10.4], "dtick": 5},
                "xaxis": {"dtick": 1},
                "showlegend": False,
                "margin": {"l": 28, "r": 8, "t": 30, "b": 24},
            },
        }))  # fmt: skip
    return figures


def run_charts(
    overall: Sequence[float],
    dimension_rows: Sequence[Mapping[str, float]],
    threshold: float,
    best: int | None,
    limits: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Draw a run's charts: the overall score line, every dimension per iteration (a grid,
    and one small chart each with its threshold), and the best version's radar (none for
    critical content, which has no best version)."""
    limits = limits or {}
    below = {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"}
    figures: dict[str, Any] = {
        "score": with_layout(
            score_per_iteration(overall, threshold),
            legend=below,
            margin={"l": 48, "r": 16, "t": 40, "b": 64},
            xaxis={"dtick": 1, "title": {"text": ""}},
        ),
        "heatmap": heatmap(dimension_rows, limits),
        "trends": dimension_trends(dimension_rows, limits),
        "bars": threshold_bars(
            dimension_rows[best if best is not None else 0],
            limits,
            title="Dimension scores" if best is None else f"Best version (iteration {best})",
        ),
    }
    if best is not None:
        figures["radar"] = with_layout(
            radar(dimension_rows[best], title=f"Best version (iteration {best})"),
            margin={"l": 72, "r": 72, "t": 72, "b": 40},
            polar={"radialaxis": {"range": [0, 10], "angle": 90, "tickfont": {"size": 9}}},
        )
    return figures


def credits_per_day(
    rows: Sequence[Mapping[str, Any]], field: str, *, title: str, start: dt.date, end: dt.date
) -> Figure:
    """Draw one bar per day over the whole window ``start``–``end``, even with no data.

    Bars are 0.7 day wide on a date axis spanning the window, so one day of data reads as
    one bar among the window's days (plotly would otherwise draw a lone bar 1 ms, 1 px,
    wide), and 90 days still leave a gap between bars.
    """
    figure = daily(rows, field, title=title)
    half_day = dt.timedelta(hours=12)
    window = [
        (dt.datetime.combine(start, dt.time.min) - half_day).isoformat(sep=" "),
        (dt.datetime.combine(end, dt.time.min) + half_day).isoformat(sep=" "),
    ]
    days = (end - start).days + 1
    trace = figure["data"][0]
    trace["width"] = DAY_MS * 0.7
    trace["hovertemplate"] = "%{x|%a %b %d}: %{y:,.2f} credits<extra></extra>"
    if 0 < len(rows) <= 10 and days <= 31:
        trace["text"] = [f"{r[field]:,.0f}" if r[field] >= 10 else f"{r[field]:g}" for r in rows]
        trace["textposition"] = "outside"
        trace["cliponaxis"] = False
    xaxis: dict[str, Any] = {"type": "date", "range": window, "tickformat": "%b %d"}
    if days <= 14:
        xaxis["dtick"] = DAY_MS
    figure["layout"].update(
        xaxis=xaxis,
        yaxis={
            "rangemode": "tozero",
            "title": {"text": "credits"},
            "tickformat": ",.2~f",
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
