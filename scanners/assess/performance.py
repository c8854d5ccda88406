"""Performance: scikit-learn's metric functions on the whole evaluation table.

Accuracy, precision, recall and F1 depend on the rows only through the confusion matrix, so
they run on its cells (one weighted row per (label, prediction) pair): the same numbers as
on the raw rows, without scikit-learn's per-call validation of a million rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm  # type: ignore[import-untyped]
from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]

from scanners.assess.measurement import Measurement, metric
from scanners.assess.outcomes import BINARY, MULTICLASS, Outcomes

Array = np.ndarray[Any, Any]
CURVE_POINTS = 101


@metric("accuracy", "performance")
def accuracy(cells: Confusion) -> float:
    """Share of rows predicted right (sklearn.metrics.accuracy_score).
    accuracy = (TP + TN) / n; multiclass: (rows with pred == y) / n."""
    return float(skm.accuracy_score(*cells.args, sample_weight=cells.weight))


@metric("precision", "performance")
def precision(cells: Confusion, average: str) -> float:
    """Share of predicted positives that are truly positive (sklearn precision_score).
    precision = TP / (TP + FP); multiclass: the unweighted mean over classes (macro).
    Undefined when nothing is predicted positive."""
    return float(
        skm.precision_score(
            *cells.args, sample_weight=cells.weight, average=average, zero_division=np.nan
        )
    )


@metric("recall", "performance")
def recall(cells: Confusion, average: str) -> float:
    """Share of positives predicted positive (sklearn.metrics.recall_score), the TPR.
    recall = TP / (TP + FN); multiclass: macro mean over classes."""
    return float(
        skm.recall_score(
            *cells.args, sample_weight=cells.weight, average=average, zero_division=np.nan
        )
    )


@metric("f1", "performance")
def f1(cells: Confusion, average: str) -> float:
    """Harmonic mean of precision and recall (sklearn.metrics.f1_score).
    f1 = 2 * precision * recall / (precision + recall) = 2TP / (2TP + FP + FN)."""
    return float(
        skm.f1_score(*cells.args, sample_weight=cells.weight, average=average, zero_division=np.nan)
    )


@metric("roc_auc", "performance")
def roc_auc(y: Array, score: Array) -> tuple[float, dict[str, list[float]] | None]:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative (ties count 1/2). roc_auc = integral of TPR d(FPR), by the trapezoidal
    rule over sklearn.metrics.roc_curve (what sklearn.metrics.roc_auc_score computes);
    multiclass: roc_auc_score one-vs-rest, macro mean. Binary also returns the curve."""
    if score.ndim == 2:
        return float(skm.roc_auc_score(y, score, multi_class="ovr", average="macro")), None
    fpr, tpr, _ = skm.roc_curve(y, score)
    keep = _thin(fpr.size)
    return float(skm.auc(fpr, tpr)), {"fpr": _r(fpr[keep]), "tpr": _r(tpr[keep])}


@metric("log_loss", "performance")
def log_loss(y: Array, score: Array) -> float:
    """Cross-entropy of the predicted probabilities (sklearn.metrics.log_loss).
    log_loss = -(1/n) * sum_i [y_i ln p_i + (1 - y_i) ln(1 - p_i)];
    multiclass: -(1/n) * sum_i ln p_i[y_i]. Lower is better."""
    if score.ndim == 2:
        return float(skm.log_loss(y, score, labels=list(range(score.shape[1]))))
    return float(skm.log_loss(y, score, labels=[0, 1]))


@metric("brier_score_loss", "performance")
def brier_score_loss(y: Array, score: Array) -> float:
    """Mean squared error of the probability of the positive class
    (sklearn.metrics.brier_score_loss). brier = (1/n) * sum_i (p_i - y_i)^2. Lower is better."""
    return float(skm.brier_score_loss(y, score))


@metric("expected_calibration_error", "performance")
def expected_calibration_error(y: Array, score: Array, bins: int) -> tuple[float, dict[str, Any]]:
    """Mean gap between predicted probability and observed frequency, over equal-width bins
    (the calibration curve of sklearn.calibration.calibration_curve).
    ece = sum_b (n_b / n) * |mean(y in b) - mean(p in b)|, over the non-empty bins b."""
    prob_true, prob_pred = calibration_curve(y, score, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], score), minlength=bins)  # sklearn's bins
    counts = counts[counts > 0]
    ece = float(np.sum(counts / counts.sum() * np.abs(prob_true - prob_pred)))
    curve = {
        "prob_pred": _r(prob_pred),
        "prob_true": _r(prob_true),
        "count": [int(c) for c in counts],
        "bins": bins,
        "strategy": "uniform",
    }
    return ece, curve


@metric("mean_absolute_error", "performance")
def mean_absolute_error(y: Array, pred: Array) -> float:
    """Mean absolute error (sklearn.metrics.mean_absolute_error).
    mae = (1/n) sum |y - pred|."""
    return float(skm.mean_absolute_error(y, pred))


@metric("root_mean_squared_error", "performance")
def root_mean_squared_error(y: Array, pred: Array) -> float:
    """Root mean squared error (sklearn.metrics.root_mean_squared_error).
    rmse = sqrt((1/n) sum (y - pred)^2)."""
    return float(skm.root_mean_squared_error(y, pred))


@metric("r2", "performance")
def r2(y: Array, pred: Array) -> float:
    """Coefficient of determination (sklearn.metrics.r2_score).
    r2 = 1 - sum (y - pred)^2 / sum (y - mean(y))^2. Undefined for a constant label."""
    if np.all(y == y[0]):
        return float("nan")
    return float(skm.r2_score(y, pred))


class Confusion:
    """The confusion matrix as weighted rows: ``args`` = (labels, predictions), ``weight``."""

    def __init__(self, y: Array, pred: Array) -> None:
        k = int(max(y.max(initial=0), pred.max(initial=0))) + 1
        cells = np.bincount(y * k + pred, minlength=k * k)
        index = np.flatnonzero(cells)
        self.args = (index // k, index % k)
        self.weight = cells[index].astype(np.float64)


def measure(o: Outcomes, *, calibration_bins: int = 10) -> list[Measurement]:
    """Every performance figure the outcomes allow."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division and constant-input notes: None instead
        if not o.is_classification:
            return _regression(o)
        return _classification(o, calibration_bins)


def _classification(o: Outcomes, bins: int) -> list[Measurement]:
    n = o.n
    average = "binary" if o.task == BINARY else "macro"
    wrong = int(np.count_nonzero(o.y != o.pred))
    cells = Confusion(o.y, o.pred)
    out = [
        Measurement("accuracy", "accuracy", "performance", accuracy(cells), n, wrong),
        Measurement("precision", "precision", "performance", precision(cells, average), n),
        Measurement("recall", "recall", "performance", recall(cells, average), n),
        Measurement("f1", "f1", "performance", f1(cells, average), n),
    ]
    if average == "macro":
        for m in out[1:]:
            m.evidence["average"] = "macro"
    s = o.score
    if s is None:
        return out
    if o.task == MULTICLASS and s.ndim != 2:
        return out
    present = np.unique(o.y)
    if o.task == BINARY and present.size < 2:
        return out
    auc = Measurement("roc_auc", "roc_auc", "performance", None, n)
    if o.task == BINARY:
        auc.value, curve = roc_auc(o.y, s)
        auc.evidence["roc_curve"] = curve
    elif present.size == s.shape[1]:
        auc.value, _ = roc_auc(o.y, s)
    else:
        auc.note = "some classes do not occur in the evaluation labels"
    out.append(auc)
    if not o.score_is_probability():
        note = "the scores are not probabilities (outside [0, 1])"
        names = ["log_loss", "brier_score_loss", "expected_calibration_error"]
        out.extend(Measurement(k, k, "performance", None, n, note=note) for k in names)
        return out
    out.append(Measurement("log_loss", "log_loss", "performance", log_loss(o.y, s), n))
    if o.task == BINARY:
        brier = brier_score_loss(o.y, s)
        out.append(Measurement("brier_score_loss", "brier_score_loss", "performance", brier, n))
        ece, curve = expected_calibration_error(o.y, s, bins)
        out.append(
            Measurement(
                "expected_calibration_error",
                "expected_calibration_error",
                "performance",
                ece,
                n,
                evidence={"calibration_curve": curve},
            )
        )
    return out


def _regression(o: Outcomes) -> list[Measurement]:
    n = o.n
    return [
        Measurement(name, name, "performance", func(o.y, o.pred), n)
        for name, func in (
            ("mean_absolute_error", mean_absolute_error),
            ("root_mean_squared_error", root_mean_squared_error),
            ("r2", r2),
        )
    ]


def _thin(size: int) -> Array:
    """Indices of at most CURVE_POINTS points of a curve, first and last included."""
    if size <= CURVE_POINTS:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, CURVE_POINTS).round().astype(np.int64))


def _r(values: Array) -> list[float]:
    return [round(float(v), 6) for v in values]
