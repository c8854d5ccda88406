"""The assessment page's content, shaped from a stored Warden assessment document
(:class:`governance.evidence.models.Assessment`): the verdict, the judged figures, per-group
tables by sensitive feature, and the Plotly figures (per-group bars with the threshold line,
ROC and calibration curves, drift per feature). Pure functions of the document: the numbers
on the page are the numbers the runner wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.evidence.models import Assessment, ScanRun
from governance.inventory.models import ModelVersion
from governance.metrics import figures
from scanners.parsers._assessment_common import holds

#: Per-group columns of the fairness tables: the by_group of these metrics, by their name.
GROUP_COLUMNS = (
    ("demographic_parity_difference", "selection rate"),
    ("equal_opportunity_difference", "true positive rate"),
    ("false_positive_rate_difference", "false positive rate"),
    ("accuracy_difference", "accuracy"),
    ("mean_prediction_difference", "mean prediction"),
    ("mean_absolute_error_difference", "mean absolute error"),
)


@dataclass
class GroupTable:
    feature: str
    columns: list[str]
    rows: list[dict[str, Any]]  # {"group", "size", "too_small", "values": [...]}
    gaps: list[dict[str, Any]]  # the feature's fairness figures: test, metric, value, verdict


@dataclass
class Chart:
    id: str
    title: str
    figure: dict[str, Any]


@dataclass
class AssessmentPage:
    verdict: str  # pass | fail | unjudged | none (nothing judged)
    results: list[dict[str, Any]]
    measurements: list[dict[str, Any]]
    group_tables: list[GroupTable]
    charts: list[Chart] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    thresholds: list[str] = field(default_factory=list)


def assessments_of_version(version: ModelVersion) -> list[ScanRun]:
    """The version's assessment runs, newest first (at most 20), each with its recorded
    assessment when it finished (one query)."""
    return list(
        ScanRun.objects.filter(version=version, scan_type="warden-assessment")
        .select_related("assessment")
        .order_by("-id")[:20]
    )


def assessment_latest(version: ModelVersion, run_id: int | None = None) -> Assessment | None:
    """The version's newest recorded assessment (or the one of run ``run_id``)."""
    qs = Assessment.objects.filter(version=version).select_related("scan_run")
    if run_id is not None:
        qs = qs.filter(scan_run_id=run_id)
    return qs.order_by("-assessed_at", "-id").first()


def _scope(test: str) -> str:
    return test[test.index("[") + 1 : -1] if "[" in test and test.endswith("]") else ""


def _line(item: dict[str, Any]) -> tuple[float | None, str]:
    """Where a group's bar must reach for the figure's threshold to hold: for a gap
    ``<= t``, the best group less t; for a ratio ``>= t``, t times the best group."""
    by_group = item.get("by_group") or {}
    if "threshold" not in item or not by_group:
        return None, ""
    best = max(by_group.values())
    metric, t, op = item.get("metric", item["test"]), item["threshold"], item["comparator"]
    if metric.endswith("_difference") and op in ("<=", "<"):
        return best - t, f"best group - {t:g}"
    if metric.endswith("_ratio") and op in (">=", ">"):
        return best * t, f"{t:g} x best group"
    return None, ""


def assessment_page(document: dict[str, Any]) -> AssessmentPage:
    results = [
        {**r, "passed": holds(r["value"], r["comparator"], r["threshold"])}
        for r in document.get("results", [])
    ]
    items = [*results, *document.get("measurements", [])]
    warnings = list(document.get("warnings", []))
    unjudged = [w for w in warnings if w.startswith("threshold ")]
    if any(not r["passed"] for r in results):
        verdict = "fail"
    elif unjudged:
        verdict = "unjudged"
    else:
        verdict = "pass" if results else "none"
    page = AssessmentPage(
        verdict=verdict,
        results=sorted(results, key=lambda r: (r["passed"], r["test"])),
        measurements=[
            m
            for m in document.get("measurements", [])
            if m.get("value") is not None or m.get("note")
        ],
        group_tables=_group_tables(items),
        warnings=warnings,
        thresholds=list((document.get("metadata") or {}).get("thresholds", [])),
    )
    page.charts = _charts(items, document)
    return page


def _group_tables(items: list[dict[str, Any]]) -> list[GroupTable]:
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.get("category") == "fairness" and _scope(item["test"]):
            by_scope.setdefault(_scope(item["test"]), []).append(item)
    tables = []
    for feature, found in by_scope.items():
        per_metric = {i.get("metric", i["test"]): i for i in found}
        columns = [(m, name) for m, name in GROUP_COLUMNS if per_metric.get(m, {}).get("by_group")]
        sizes: dict[str, int] = {}
        small: set[str] = set()
        for i in found:
            sizes.update(i.get("group_sizes") or {})
            small.update(i.get("groups_too_small") or [])
        rows = [
            {
                "group": g,
                "size": sizes[g],
                "too_small": g in small,
                "values": [per_metric[m]["by_group"].get(g) for m, _ in columns],
            }
            for g in sorted(sizes)
        ]
        gaps = [
            {
                "test": i["test"],
                "metric": i.get("metric", i["test"]),
                "value": i.get("value"),
                "note": i.get("note", ""),
                "limit": f"{i['comparator']} {i['threshold']:g}" if "threshold" in i else "",
                "passed": i.get("passed"),
            }
            for i in found
        ]
        tables.append(GroupTable(feature, [name for _, name in columns], rows, gaps))
    return tables


def _charts(items: list[dict[str, Any]], document: dict[str, Any]) -> list[Chart]:
    charts: list[Chart] = []
    for item in items:
        by_group = item.get("by_group") or {}
        if item.get("category") != "fairness" or not by_group:
            continue
        # one chart per judged fairness figure, and the selection rates of every feature
        if "threshold" not in item and item.get("metric") != "demographic_parity_difference":
            continue
        line, line_label = _line(item)
        groups = sorted(by_group)
        metric_name = (item.get("evidence") or {}).get("by_group_metric", "value")
        charts.append(
            Chart(
                f"fig-group-{len(charts)}",
                f"{item['test']}: {metric_name.replace('_', ' ')} per group",
                figures.group_metric_figure(
                    groups=groups,
                    values=[by_group[g] for g in groups],
                    too_small=list(item.get("groups_too_small") or []),
                    value_label=metric_name.replace("_", " "),
                    line=line,
                    line_label=line_label,
                ),
            )
        )
    for item in items:
        evidence = item.get("evidence") or {}
        roc = evidence.get("roc_curve")
        if item.get("metric") == "roc_auc" and roc and roc.get("fpr"):
            charts.append(
                Chart("fig-roc", "ROC curve",
                      figures.roc_figure(roc["fpr"], roc["tpr"], item.get("value")))
            )  # fmt: skip
        curve = evidence.get("calibration_curve")
        if item.get("metric") == "expected_calibration_error" and curve and curve.get("prob_pred"):
            charts.append(
                Chart("fig-calibration", "Calibration curve",
                      figures.calibration_figure(curve["prob_pred"], curve["prob_true"],
                                                 curve.get("count", [])))
            )  # fmt: skip
    psi = [i for i in items if i.get("metric") == "population_stability_index"
           and i.get("value") is not None]  # fmt: skip
    if psi:
        drift_options = ((document.get("metadata") or {}).get("options") or {}).get("drift") or {}
        charts.append(
            Chart(
                "fig-drift",
                "Drift per feature (against the reference table)",
                figures.drift_figure(
                    [_scope(i["test"]) for i in psi],
                    [float(i["value"]) for i in psi],
                    [bool((i.get("evidence") or {}).get("drifted")) for i in psi],
                    float(drift_options.get("psi_min", 0.1)),
                ),
            )
        )
    return charts
