"""Performance figures from predictions: hand-computed on a 10-row table, and against
scikit-learn / plain numpy on generated data."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from scanners.assess import Options, assess_predictions
from scanners.assess.measurement import METRICS
from tests.assess.builders import disparity_table
from tests.assess.conftest import figure, value

# Hand-checked table: TP = 4 (rows 0, 1, 3, 8), FN = 1 (row 2), FP = 2 (rows 5, 9), TN = 3.
HAND = pd.DataFrame(
    {
        "y": [1, 1, 1, 1, 0, 0, 0, 0, 1, 0],
        "yhat": [1, 1, 0, 1, 0, 1, 0, 0, 1, 1],
        "p": [0.9, 0.8, 0.4, 0.7, 0.2, 0.6, 0.1, 0.3, 0.95, 0.55],
        "g": ["a"] * 5 + ["b"] * 5,
    }
)


def test_it_computes_the_hand_checked_classification_figures(write: Callable[..., Path]) -> None:
    doc = assess_predictions(
        write(HAND), label="y", prediction="yhat", score="p", options=Options(min_group_size=5)
    )

    assert value(doc, "accuracy") == pytest.approx(7 / 10)
    assert figure(doc, "accuracy")["failures"] == 3
    assert value(doc, "precision") == pytest.approx(4 / 6)
    assert value(doc, "recall") == pytest.approx(4 / 5)
    assert value(doc, "f1") == pytest.approx(8 / 11)  # 2TP / (2TP + FP + FN)
    # 23 of the 25 (positive, negative) pairs are ordered right.
    assert value(doc, "roc_auc") == pytest.approx(23 / 25)
    squares = [0.1, 0.2, 0.6, 0.3, 0.2, 0.6, 0.1, 0.3, 0.05, 0.55]
    assert value(doc, "brier_score_loss") == pytest.approx(sum(d * d for d in squares) / 10)
    right = [0.9, 0.8, 0.4, 0.7, 0.8, 0.4, 0.9, 0.7, 0.95, 0.45]
    assert value(doc, "log_loss") == pytest.approx(-sum(math.log(q) for q in right) / 10)


def test_the_calibration_error_is_the_weighted_gap_of_the_calibration_curve(
    write: Callable[..., Path],
) -> None:
    frame = pd.DataFrame(
        {
            "y": [0, 1, 0, 0, 1, 1, 1, 0],
            "p": [0.15, 0.15, 0.45, 0.45, 0.85, 0.85, 0.85, 0.85],
            "yhat": [0, 0, 0, 0, 1, 1, 1, 1],
        }
    )

    doc = assess_predictions(write(frame), label="y", prediction="yhat", score="p")

    ece = figure(doc, "expected_calibration_error")
    # Bins of width 0.1 hold 2, 2 and 4 rows; observed rates 1/2, 0, 3/4 against 0.15,
    # 0.45, 0.85: gaps 0.35, 0.45 and 0.1.
    assert ece["value"] == pytest.approx((2 * 0.35 + 2 * 0.45 + 4 * 0.1) / 8)
    curve = ece["evidence"]["calibration_curve"]
    assert curve["count"] == [2, 2, 4]
    assert curve["prob_true"] == [0.5, 0.0, 0.75]
    assert curve["prob_pred"] == [0.15, 0.45, 0.85]


def test_the_roc_curve_is_kept_for_the_chart(write: Callable[..., Path]) -> None:
    doc = assess_predictions(write(HAND), label="y", prediction="yhat", score="p")

    curve = figure(doc, "roc_auc")["evidence"]["roc_curve"]
    fpr, tpr, _ = skm.roc_curve(HAND["y"], HAND["p"])
    assert curve == {"fpr": [round(v, 6) for v in fpr], "tpr": [round(v, 6) for v in tpr]}


def test_generated_data_matches_scikit_learn_on_the_raw_rows(write: Callable[..., Path]) -> None:
    frame = disparity_table(30_000)
    doc = assess_predictions(write(frame), label="y", prediction="yhat", score="p")

    y, pred, p = frame["y"], frame["yhat"], frame["p"]
    assert value(doc, "accuracy") == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert value(doc, "precision") == pytest.approx(skm.precision_score(y, pred), abs=1e-12)
    assert value(doc, "recall") == pytest.approx(skm.recall_score(y, pred), abs=1e-12)
    assert value(doc, "f1") == pytest.approx(skm.f1_score(y, pred), abs=1e-12)
    assert value(doc, "roc_auc") == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert value(doc, "log_loss") == pytest.approx(skm.log_loss(y, p), abs=1e-12)
    assert value(doc, "brier_score_loss") == pytest.approx(float(np.mean((p - y) ** 2)), abs=1e-12)


def test_a_score_alone_is_turned_into_predictions_at_the_decision_threshold(
    write: Callable[..., Path],
) -> None:
    doc = assess_predictions(
        write(HAND), label="y", score="p", options=Options(decision_threshold=0.58)
    )

    pred = (HAND["p"] >= 0.58).astype(int)
    assert value(doc, "accuracy") == pytest.approx(float(np.mean(pred == HAND["y"])))


def test_text_labels_need_the_positive_class_named(write: Callable[..., Path]) -> None:
    frame = HAND.assign(
        y=HAND["y"].map({1: "yes", 0: "no"}), yhat=HAND["yhat"].map({1: "yes", 0: "no"})
    )

    doc = assess_predictions(
        write(frame), label="y", prediction="yhat", options=Options(positive_label="yes")
    )

    assert value(doc, "recall") == pytest.approx(4 / 5)
    assert doc["metadata"]["positive_label"] == "yes"
    assert doc["metadata"]["classes"] == ["no", "yes"]


def test_the_other_class_as_positive_swaps_precision_and_recall(
    write: Callable[..., Path],
) -> None:
    doc = assess_predictions(
        write(HAND), label="y", prediction="yhat", options=Options(positive_label="0")
    )

    assert value(doc, "precision") == pytest.approx(3 / 4)  # TN / (TN + FN)
    assert value(doc, "recall") == pytest.approx(3 / 5)  # TN / (TN + FP)


def test_multiclass_labels_get_macro_figures(write: Callable[..., Path]) -> None:
    rng = np.random.default_rng(5)
    y = rng.choice(["cat", "dog", "fish"], 3000)
    pred = np.where(rng.random(3000) < 0.7, y, rng.choice(["cat", "dog", "fish"], 3000))
    frame = pd.DataFrame({"y": y, "yhat": pred, "g": rng.choice(["a", "b"], 3000)})

    doc = assess_predictions(write(frame), label="y", prediction="yhat", sensitive=["g"])

    assert doc["metadata"]["task"] == "multiclass"
    assert value(doc, "accuracy") == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert value(doc, "f1") == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-12)
    by_group = figure(doc, "accuracy_difference[g]")["by_group"]
    for g in ("a", "b"):
        mask = frame["g"] == g
        assert by_group[g] == pytest.approx(float(np.mean(y[mask] == pred[mask])), abs=1e-12)


def test_regression_figures_match_plain_numpy(write: Callable[..., Path]) -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(50, 10, 5000)
    pred = y + rng.normal(0, 3, 5000)
    g = rng.choice(["a", "b"], 5000)
    pred[g == "b"] += 2.0  # the model overestimates group b
    doc = assess_predictions(
        write(pd.DataFrame({"y": y, "yhat": pred, "g": g})),
        label="y",
        prediction="yhat",
        sensitive=["g"],
    )

    err = pred - y
    assert doc["metadata"]["task"] == "regression"
    assert value(doc, "mean_absolute_error") == pytest.approx(np.mean(np.abs(err)), rel=1e-9)
    assert value(doc, "root_mean_squared_error") == pytest.approx(
        np.sqrt(np.mean(err**2)), rel=1e-9
    )
    r2 = 1 - np.sum(err**2) / np.sum((y - y.mean()) ** 2)
    assert value(doc, "r2") == pytest.approx(r2, rel=1e-9)
    mae = {k: np.mean(np.abs(err[g == k])) for k in ("a", "b")}
    gap = figure(doc, "mean_absolute_error_difference[g]")
    assert gap["value"] == pytest.approx(abs(mae["a"] - mae["b"]), rel=1e-6)
    mean_gap = value(doc, "mean_prediction_difference[g]")
    assert mean_gap == pytest.approx(abs(pred[g == "a"].mean() - pred[g == "b"].mean()), rel=1e-6)


def test_scores_that_are_not_probabilities_leave_the_probability_figures_undefined(
    write: Callable[..., Path],
) -> None:
    frame = HAND.assign(p=HAND["p"] * 10 - 5)  # margins, not probabilities

    doc = assess_predictions(write(frame), label="y", prediction="yhat", score="p")

    assert value(doc, "roc_auc") == pytest.approx(23 / 25)  # a ranking needs no probabilities
    loss = figure(doc, "log_loss")
    assert loss["value"] is None
    assert loss["note"] == "the scores are not probabilities (outside [0, 1])"


def test_every_metric_is_registered_once_with_its_formula() -> None:
    assert len(METRICS) >= 35
    for info in METRICS.values():
        assert info.summary, info.name
        assert "=" in info.formula, f"{info.name} has no formula in its docstring"


def test_every_figure_names_a_registered_metric(write: Callable[..., Path]) -> None:
    doc = assess_predictions(
        write(disparity_table(2000)),
        label="y",
        prediction="yhat",
        score="p",
        sensitive=["sex", "age_band"],
        reference=write(disparity_table(2000, seed=8), "ref.csv"),
    )

    names = {item["metric"] for item in [*doc["results"], *doc["measurements"]]}
    assert names <= set(METRICS)
    assert METRICS["demographic_parity_difference"].category == "fairness"


def test_the_guide_lists_every_metric() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs/assessment-runner.md").read_text()

    missing = [name for name in METRICS if f"| `{name}` |" not in guide]
    assert missing == []
