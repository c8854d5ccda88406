"""Plotly figures for the dashboard, built on the server from the selectors' figures.

Each builder returns the figure as a JSON-ready dict (``{"data": [...], "layout": {...}}``)
that the template embeds with ``json_script`` and ``static/js/charts.js`` hands to
``Plotly.newPlot``: the numbers a chart shows are the numbers the selectors computed.
"""

from __future__ import annotations

from typing import Any

import orjson
import plotly.graph_objects as go

from governance.metrics.selectors import TrendPoint
from governance.metrics.sla import SEVERITIES
from governance.vocabulary import CATEGORY_CHOICES

#: The severity colours of the stylesheet (static/css/warden.css), lightest for info.
SEVERITY_COLORS = {
    "critical": "#b42318",
    "high": "#d9480f",
    "medium": "#b08800",
    "low": "#2f6f4f",
    "info": "#98a2b3",
}
_CATEGORY_LABELS = dict(CATEGORY_CHOICES)
_LAYOUT: dict[str, Any] = {
    "margin": {"l": 48, "r": 16, "t": 16, "b": 40},
    "height": 300,
    "legend": {"orientation": "h", "y": -0.2},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def _as_dict(fig: go.Figure) -> dict[str, Any]:
    # plotly's own encoder (numpy-free here, but dates and numbers as plotly wants them)
    return orjson.loads(fig.to_json())  # type: ignore[no-any-return]


def active_by_category_figure(matrix: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Stacked horizontal bars: active findings per supply-chain layer (first layer on top),
    one colour per severity."""
    categories = list(matrix)
    fig = go.Figure(
        data=[
            go.Bar(
                name=severity.capitalize(),
                y=[_CATEGORY_LABELS.get(c, c) for c in categories],
                x=[matrix[c][severity] for c in categories],
                orientation="h",
                marker_color=SEVERITY_COLORS[severity],
                # what a click filters the findings list by (static/js/charts.js)
                customdata=[{"category": c, "severity": severity} for c in categories],
            )
            for severity in SEVERITIES
        ]
    )
    fig.update_layout(
        barmode="stack",
        xaxis_title="active findings",
        yaxis={"autorange": "reversed", "automargin": True},
        **_LAYOUT,
    )
    return _as_dict(fig)


def trend_figure(points: list[TrendPoint]) -> dict[str, Any]:
    """Lines: active findings per severity per day; a day without a rollup is a gap."""
    days = [p.day.isoformat() for p in points]
    fig = go.Figure(
        data=[
            go.Scatter(
                name=severity.capitalize(),
                x=days,
                y=[None if p.by_severity is None else p.by_severity[severity] for p in points],
                mode="lines+markers",
                connectgaps=False,
                line={"color": SEVERITY_COLORS[severity]},
            )
            for severity in SEVERITIES
        ]
    )
    fig.update_layout(
        yaxis={"title": {"text": "active findings"}, "rangemode": "tozero"},
        xaxis_type="date",
        **_LAYOUT,
    )
    return _as_dict(fig)


def remediation_figure(
    mttr_by_severity: dict[str, float | None], compliance_by_severity: dict[str, float | None]
) -> dict[str, Any]:
    """Bars: mean days to remediate per severity, with SLA compliance (%) as the hover and
    label; a severity with nothing remediated has no bar."""
    labels = [s.capitalize() for s in SEVERITIES]
    compliance = [compliance_by_severity.get(s) for s in SEVERITIES]
    fig = go.Figure(
        data=[
            go.Bar(
                name="Mean days to remediate",
                x=labels,
                y=[mttr_by_severity.get(s) for s in SEVERITIES],
                marker_color=[SEVERITY_COLORS[s] for s in SEVERITIES],
                text=["SLA n/a" if c is None else f"SLA {round(c * 100)}%" for c in compliance],
                textposition="outside",
            )
        ]
    )
    fig.update_layout(
        yaxis={"title": {"text": "days"}, "rangemode": "tozero"}, showlegend=False, **_LAYOUT
    )
    return _as_dict(fig)


def event_rates_figure(series: list[tuple[str, list[str], list[int]]]) -> dict[str, Any]:
    """Lines: runtime events per hour, one line per (deployment, rule) ``(name, hours,
    counts)``, every hour of the window."""
    fig = go.Figure(
        data=[
            go.Scatter(name=name, x=hours, y=counts, mode="lines+markers")
            for name, hours, counts in series
        ]
    )
    fig.update_layout(
        yaxis={"title": {"text": "events per hour"}, "rangemode": "tozero"},
        xaxis_type="date",
        **_LAYOUT,
    )
    return _as_dict(fig)
