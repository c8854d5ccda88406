"""Fairness: fairlearn's MetricFrame and disparity metrics, by each sensitive feature and by
their intersection.

For classification every per-group figure here (selection rate, TPR, FPR, accuracy) is a
function of the group's confusion counts. The rows are therefore first counted per
``(group, label, prediction)`` and fairlearn's MetricFrame runs on those few weighted rows
(``sample_weight`` = the count): the same numbers as on the raw rows, exactly (a test
checks it against fairlearn's functions on raw rows), in milliseconds instead of the ~20 s
per feature MetricFrame takes on a million raw rows. Three frames per grouping: every group
(the per-group values), the judged groups (selection rate, accuracy) and the judged groups
that hold both label classes (TPR and FPR are undefined otherwise; fairlearn would say 0).

Groups with fewer than ``min_group_size`` rows are reported (``by_group``, ``group_sizes``)
and listed in ``groups_too_small``, but take no part in a difference or ratio: a handful of
rows would decide the verdict by chance. fairlearn's own caution holds: a threshold such as
the four-fifths rule (``demographic_parity_ratio>=0.8``) is an example policy, not a default.

Regression has no confusion counts: the per-group mean absolute error and mean prediction
are sums per group (numpy ``bincount``) divided by the group sizes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from fairlearn import metrics as flm  # type: ignore[import-untyped]
from sklearn.metrics import accuracy_score  # type: ignore[import-untyped]

from scanners.assess.measurement import Measurement, metric, scoped
from scanners.assess.outcomes import BINARY, Grouping, Outcomes

Array = np.ndarray[Any, Any]


@metric("demographic_parity_difference", "fairness")
def demographic_parity_difference(rates: Any) -> float:
    """Largest gap in selection rate between groups (fairlearn's definition:
    MetricFrame(selection_rate).difference()).
    dpd = max_g P(pred=1 | g) - min_g P(pred=1 | g). 0 is parity."""
    return float(rates.difference()["selection_rate"])


@metric("demographic_parity_ratio", "fairness")
def demographic_parity_ratio(rates: Any) -> float:
    """Smallest over largest selection rate (fairlearn: MetricFrame(selection_rate).ratio()).
    dpr = min_g P(pred=1 | g) / max_g P(pred=1 | g). 1 is parity."""
    return float(rates.ratio()["selection_rate"])


@metric("equalized_odds_difference", "fairness")
def equalized_odds_difference(odds: Any) -> float:
    """The larger of the TPR gap and the FPR gap between groups (fairlearn, worst case).
    eod = max(max_g TPR_g - min_g TPR_g, max_g FPR_g - min_g FPR_g)."""
    gaps = odds.difference()
    return float(max(gaps["true_positive_rate"], gaps["false_positive_rate"]))


@metric("equalized_odds_ratio", "fairness")
def equalized_odds_ratio(odds: Any) -> float:
    """The smaller of the TPR ratio and the FPR ratio between groups (fairlearn, worst case).
    eor = min(min_g TPR_g / max_g TPR_g, min_g FPR_g / max_g FPR_g)."""
    ratios = odds.ratio()
    return float(min(ratios["true_positive_rate"], ratios["false_positive_rate"]))


@metric("equal_opportunity_difference", "fairness")
def equal_opportunity_difference(odds: Any) -> float:
    """Largest gap in true positive rate (recall) between groups (fairlearn).
    eopp = max_g P(pred=1 | y=1, g) - min_g P(pred=1 | y=1, g)."""
    return float(odds.difference()["true_positive_rate"])


@metric("false_positive_rate_difference", "fairness")
def false_positive_rate_difference(odds: Any) -> float:
    """Largest gap in false positive rate between groups (MetricFrame.difference).
    fprd = max_g P(pred=1 | y=0, g) - min_g P(pred=1 | y=0, g)."""
    return float(odds.difference()["false_positive_rate"])


@metric("accuracy_difference", "fairness")
def accuracy_difference(rates: Any) -> float:
    """Largest gap in accuracy between groups (MetricFrame.difference of sklearn's
    accuracy_score). accd = max_g accuracy_g - min_g accuracy_g."""
    return float(rates.difference()["accuracy"])


@metric("mean_absolute_error_difference", "fairness")
def mean_absolute_error_difference(mae_by_group: dict[str, float]) -> float:
    """Regression: largest gap in mean absolute error between groups.
    maed = max_g mean(|y - pred| in g) - min_g mean(|y - pred| in g)."""
    values = list(mae_by_group.values())
    return max(values) - min(values)


@metric("mean_prediction_difference", "fairness")
def mean_prediction_difference(mean_by_group: dict[str, float]) -> float:
    """Regression: largest gap in mean prediction between groups (the analogue of a
    selection-rate gap). mpd = max_g mean(pred in g) - min_g mean(pred in g)."""
    values = list(mean_by_group.values())
    return max(values) - min(values)


class _Counted:
    """Rows counted per (group, label, prediction), as fairlearn input with sample weights."""

    def __init__(self, grouping: Grouping, y: Array, pred: Array, groups: list[int]) -> None:
        k = max(int(y.max(initial=0)), int(pred.max(initial=0))) + 1
        cells = np.bincount(
            (grouping.codes * k + y) * k + pred, minlength=len(grouping.labels) * k * k
        )
        keep = np.zeros(len(grouping.labels), dtype=bool)
        keep[groups] = True
        index = np.flatnonzero(cells * np.repeat(keep, k * k))
        self.group = np.asarray(grouping.labels, dtype=object)[index // (k * k)]
        self.y = (index // k) % k
        self.pred = index % k
        self.weight = cells[index].astype(np.float64)

    def frame(self, funcs: dict[str, Callable[..., Any]]) -> Any:
        """fairlearn's MetricFrame of ``funcs`` over these rows, weighted by their counts."""
        return flm.MetricFrame(
            metrics=funcs,
            y_true=self.y,
            y_pred=self.pred,
            sensitive_features=self.group,
            sample_params={name: {"sample_weight": self.weight} for name in funcs},
        )


_RATES: dict[str, Callable[..., Any]] = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "accuracy": accuracy_score,
}
_ODDS = {k: _RATES[k] for k in ("true_positive_rate", "false_positive_rate")}


def _by_group(frame: Any) -> dict[str, dict[str, float]]:
    table = frame.by_group
    return {name: {str(g): float(v) for g, v in table[name].items()} for name in table.columns}


def measure(o: Outcomes, groupings: list[Grouping], *, min_group_size: int) -> list[Measurement]:
    """Fairness figures for every grouping (each sensitive feature and their intersection)."""
    out: list[Measurement] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn/sklearn zero-division notes
        for grouping in groupings:
            if o.task == BINARY:
                out.extend(_binary(o, grouping, min_group_size))
            elif o.is_classification:
                out.extend(_multiclass(o, grouping, min_group_size))
            else:
                out.extend(_regression(o, grouping, min_group_size))
    return out


def _split(grouping: Grouping, min_size: int) -> tuple[dict[str, int], list[int], list[str]]:
    sizes = grouping.sizes()
    present = grouping.present()
    group_sizes = {grouping.labels[i]: int(sizes[i]) for i in present}
    judged = [i for i in present if sizes[i] >= min_size]
    small = [grouping.labels[i] for i in present if sizes[i] < min_size]
    return group_sizes, judged, small


def _binary(o: Outcomes, grouping: Grouping, min_size: int) -> list[Measurement]:
    group_sizes, judged, small = _split(grouping, min_size)
    per = _by_group(_Counted(grouping, o.y, o.pred, grouping.present()).frame(_RATES))
    positives = np.bincount(grouping.codes, weights=o.y, minlength=len(grouping.labels))
    sizes = grouping.sizes()
    # fairlearn answers 0 for the TPR of a group without positives; it is undefined.
    for i in grouping.present():
        label = grouping.labels[i]
        if positives[i] == 0:
            per["true_positive_rate"][label] = float("nan")
        if positives[i] == sizes[i]:
            per["false_positive_rate"][label] = float("nan")
    both = [i for i in judged if 0 < positives[i] < sizes[i]]
    rates = _Counted(grouping, o.y, o.pred, judged).frame(_RATES) if len(judged) >= 2 else None
    odds = _Counted(grouping, o.y, o.pred, both).frame(_ODDS) if len(both) >= 2 else None
    plan: list[tuple[str, Callable[[Any], float], str, Any, list[int]]] = [
        ("demographic_parity_difference", demographic_parity_difference, "selection_rate",
         rates, judged),
        ("demographic_parity_ratio", demographic_parity_ratio, "selection_rate", rates, judged),
        ("equalized_odds_difference", equalized_odds_difference, "", odds, both),
        ("equalized_odds_ratio", equalized_odds_ratio, "", odds, both),
        ("equal_opportunity_difference", equal_opportunity_difference, "true_positive_rate",
         odds, both),
        ("false_positive_rate_difference", false_positive_rate_difference,
         "false_positive_rate", odds, both),
        ("accuracy_difference", accuracy_difference, "accuracy", rates, judged),
    ]  # fmt: skip
    out = []
    for name, func, base, frame, groups in plan:
        m = Measurement(
            scoped(name, grouping.name),
            name,
            "fairness",
            None,
            n=o.n,
            by_group=dict(per[base]) if base else None,
            group_sizes=group_sizes,
            groups_too_small=small,
            evidence={"sensitive_feature": grouping.name, "min_group_size": min_size},
        )
        if base:
            m.evidence["by_group_metric"] = base
        else:
            m.evidence["true_positive_rate"] = _defined(per["true_positive_rate"])
            m.evidence["false_positive_rate"] = _defined(per["false_positive_rate"])
        excluded = [grouping.labels[i] for i in judged if i not in groups]
        if excluded:
            m.evidence["groups_without_both_classes"] = excluded
        if frame is not None:
            m.value = func(frame)
        else:
            m.note = _too_few(len(groups), min_size, odds=groups is both)
        out.append(m)
    return out


def _multiclass(o: Outcomes, grouping: Grouping, min_size: int) -> list[Measurement]:
    group_sizes, judged, small = _split(grouping, min_size)
    per = _by_group(
        _Counted(grouping, o.y, o.pred, grouping.present()).frame({"accuracy": accuracy_score})
    )
    m = Measurement(
        scoped("accuracy_difference", grouping.name),
        "accuracy_difference",
        "fairness",
        None,
        n=o.n,
        by_group=per["accuracy"],
        group_sizes=group_sizes,
        groups_too_small=small,
        evidence={"sensitive_feature": grouping.name, "by_group_metric": "accuracy"},
    )
    if len(judged) >= 2:
        frame = _Counted(grouping, o.y, o.pred, judged).frame({"accuracy": accuracy_score})
        m.value = accuracy_difference(frame)
    else:
        m.note = _too_few(len(judged), min_size)
    return [m]


def _regression(o: Outcomes, grouping: Grouping, min_size: int) -> list[Measurement]:
    group_sizes, judged, small = _split(grouping, min_size)
    sizes = grouping.sizes().astype(np.float64)
    abs_err = np.bincount(grouping.codes, weights=np.abs(o.y - o.pred), minlength=sizes.size)
    pred_sum = np.bincount(grouping.codes, weights=o.pred, minlength=sizes.size)
    present = grouping.present()
    mae = {grouping.labels[i]: float(abs_err[i] / sizes[i]) for i in present}
    mean = {grouping.labels[i]: float(pred_sum[i] / sizes[i]) for i in present}
    names = [grouping.labels[i] for i in judged]
    out = []
    for name, func, values, base in (
        ("mean_absolute_error_difference", mean_absolute_error_difference, mae,
         "mean_absolute_error"),
        ("mean_prediction_difference", mean_prediction_difference, mean, "mean_prediction"),
    ):  # fmt: skip
        m = Measurement(
            scoped(name, grouping.name),
            name,
            "fairness",
            None,
            n=o.n,
            by_group=values,
            group_sizes=group_sizes,
            groups_too_small=small,
            evidence={"sensitive_feature": grouping.name, "by_group_metric": base},
        )
        if len(names) >= 2:
            m.value = func({g: values[g] for g in names})
        else:
            m.note = _too_few(len(names), min_size)
        out.append(m)
    return out


def _defined(values: dict[str, float]) -> dict[str, float]:
    return {g: v for g, v in values.items() if np.isfinite(v)}


def _too_few(count: int, min_size: int, *, odds: bool = False) -> str:
    both = " and both label classes" if odds else ""
    return f"too small to judge: {count} group(s) with at least {min_size} rows{both}; 2 are needed"
