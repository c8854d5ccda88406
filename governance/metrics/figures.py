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


# -- assessment page (governance.metrics.assessments shapes the document) ------------------

VERDICT_COLORS = {"pass": "#2f6f4f", "fail": "#b42318", "small": "#98a2b3", "line": "#1d2939"}


def group_metric_figure(
    *,
    groups: list[str],
    values: list[float | None],
    too_small: list[str],
    value_label: str,
    line: float | None,
    line_label: str,
) -> dict[str, Any]:
    """Bars: one per group (grey when too small to judge), with the threshold as a dashed
    horizontal line when the figure has one (``line``: where a group's bar must reach)."""
    colours = [
        VERDICT_COLORS["small"] if g in too_small
        else VERDICT_COLORS["fail"] if line is not None and v is not None and v < line
        else VERDICT_COLORS["pass"]
        for g, v in zip(groups, values, strict=True)
    ]  # fmt: skip
    fig = go.Figure(
        data=[go.Bar(name=value_label, x=groups, y=values, marker_color=colours,
                     hovertemplate="%{x}: %{y:.4f}<extra></extra>")]
    )  # fmt: skip
    if line is not None:
        fig.add_hline(
            y=line,
            line_dash="dash",
            line_color=VERDICT_COLORS["line"],
            annotation_text=line_label,
            annotation_position="top left",
        )
    fig.update_layout(
        yaxis={"title": {"text": value_label}, "rangemode": "tozero"},
        showlegend=False,
        **_LAYOUT,
    )
    return _as_dict(fig)


def roc_figure(fpr: list[float], tpr: list[float], auc: float | None) -> dict[str, Any]:
    """The ROC curve as the runner recorded it (at most 101 points), with the chance line."""
    name = f"ROC (AUC {auc:.3f})" if auc is not None else "ROC"
    fig = go.Figure(
        data=[
            go.Scatter(name=name, x=fpr, y=tpr, mode="lines",
                       line={"color": VERDICT_COLORS["pass"]}),
            go.Scatter(name="chance", x=[0, 1], y=[0, 1], mode="lines",
                       line={"dash": "dot", "color": VERDICT_COLORS["small"]}),
        ]
    )  # fmt: skip
    fig.update_layout(
        xaxis={"title": {"text": "false positive rate"}, "range": [0, 1]},
        yaxis={"title": {"text": "true positive rate"}, "range": [0, 1]},
        **_LAYOUT,
    )
    return _as_dict(fig)


def calibration_figure(
    prob_pred: list[float], prob_true: list[float], counts: list[int]
) -> dict[str, Any]:
    """Observed frequency of the positive class against the mean predicted probability per
    bin (sklearn's calibration_curve), with the perfectly calibrated diagonal."""
    fig = go.Figure(
        data=[
            go.Scatter(name="model", x=prob_pred, y=prob_true, mode="lines+markers",
                       customdata=counts, line={"color": VERDICT_COLORS["pass"]},
                       hovertemplate="predicted %{x:.3f}, observed %{y:.3f} "
                       "(%{customdata} rows)<extra></extra>"),
            go.Scatter(name="perfectly calibrated", x=[0, 1], y=[0, 1], mode="lines",
                       line={"dash": "dot", "color": VERDICT_COLORS["small"]}),
        ]
    )  # fmt: skip
    fig.update_layout(
        xaxis={"title": {"text": "mean predicted probability"}, "range": [0, 1]},
        yaxis={"title": {"text": "observed frequency"}, "range": [0, 1]},
        **_LAYOUT,
    )
    return _as_dict(fig)


def drift_figure(features: list[str], psi: list[float], drifted: list[bool],
                 psi_min: float) -> dict[str, Any]:  # fmt: skip
    """Bars: PSI per feature (red: drifted, i.e. its two-sample test and PSI both say so),
    with the PSI level from which a feature can count as drifted."""
    fig = go.Figure(
        data=[go.Bar(name="PSI", x=features, y=psi,
                     marker_color=[VERDICT_COLORS["fail"] if d else VERDICT_COLORS["pass"]
                                   for d in drifted],
                     hovertemplate="%{x}: PSI %{y:.4f}<extra></extra>")]
    )  # fmt: skip
    fig.add_hline(
        y=psi_min,
        line_dash="dash",
        line_color=VERDICT_COLORS["line"],
        annotation_text=f"PSI {psi_min:g}",
        annotation_position="top left",
    )
    fig.update_layout(
        yaxis={"title": {"text": "population stability index"}, "rangemode": "tozero"},
        showlegend=False,
        **_LAYOUT,
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
