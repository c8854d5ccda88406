"""Model-based assessments: ONNX models built here with onnx.helper and a skops pipeline,
run in the worker; their figures agree with the predictions path and with numpy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from scanners.assess import (
    AssessmentError,
    Options,
    RobustnessPlan,
    assess_model,
    assess_predictions,
)
from scanners.modelfile.engine import file_sha256
from tests.assess import builders
from tests.assess.conftest import figure, value

W, B = [1.0, 0.2], -0.4


def _numpy_logistic(frame: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    x = frame[["x1", "x2"]].to_numpy(dtype=np.float32)
    p = 1 / (1 + np.exp(-(x @ np.array(W, np.float32) + np.float32(B))))
    return p.astype(np.float64), (p > 0.5).astype(np.int64)


@pytest.fixture
def table() -> pd.DataFrame:
    return builders.features_table(4000)


def test_an_onnx_model_is_assessed_on_its_own_predictions(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)

    doc = assess_model(
        model, write(table), label="y", sensitive=["sex"], features=["x1", "x2"], scan_clean=None
    )

    p, pred = _numpy_logistic(table)
    by_hand = assess_predictions(
        write(table.assign(p=p, yhat=pred), "by-hand.csv"),
        label="y",
        prediction="yhat",
        score="p",
        sensitive=["sex"],
    )
    for test in ("accuracy", "f1", "roc_auc", "log_loss", "demographic_parity_difference[sex]"):
        assert value(doc, test) == pytest.approx(value(by_hand, test), abs=1e-6), test
    assert doc["artifact_sha256"] == file_sha256(str(model))
    assert doc["metadata"]["model_file"]["format"] == "onnx"
    assert doc["library_versions"]["onnxruntime"]


def test_zipmap_probabilities_are_read_in_their_class_order(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B, zipmap=True)

    doc = assess_model(model, write(table), label="y", features=["x1", "x2"], with_robustness=False)

    p, _ = _numpy_logistic(table)
    assert value(doc, "roc_auc") == pytest.approx(skm.roc_auc_score(table["y"], p), abs=1e-6)


def test_a_model_with_one_input_per_column_is_fed_by_name(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    # Inputs named x2 then x1: the table's columns are matched by name, not position.
    model = builders.logistic_onnx(tmp_path / "model.onnx", W[::-1], B, columns=["x2", "x1"])

    doc = assess_model(model, write(table), label="y", features=["x1", "x2"])

    p, pred = _numpy_logistic(table)
    assert value(doc, "accuracy") == pytest.approx(float(np.mean(pred == table["y"])))
    assert value(doc, "roc_auc") == pytest.approx(skm.roc_auc_score(table["y"], p), abs=1e-6)
    assert value(doc, "noise_accuracy[0.1]") > 0.5


def test_a_true_false_label_takes_true_as_the_positive_class(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)
    data = write(table.assign(y=table["y"].astype(bool)))

    doc = assess_model(
        model,
        data,
        label="y",
        features=["x1", "x2"],
        with_robustness=False,
        options=Options(positive_label="True"),
    )

    _, pred = _numpy_logistic(table)
    recall = np.mean(pred[table["y"] == 1] == 1)
    assert doc["metadata"]["positive_label"] == "1"
    assert value(doc, "recall") == pytest.approx(float(recall))


def test_an_onnx_regressor_is_assessed_as_a_regression(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    frame["target"] = 2 * frame["a"] - frame["b"] + 1 + rng.normal(0, 0.3, 3000)
    model = builders.linear_regressor_onnx(tmp_path / "reg.onnx", [2.0, -1.0], 1.0)

    doc = assess_model(model, write(frame), label="target", features=["a", "b"])

    pred = 2 * frame["a"] - frame["b"] + 1
    assert doc["metadata"]["task"] == "regression"
    err = np.abs(pred - frame["target"])
    assert value(doc, "mean_absolute_error") == pytest.approx(err.mean(), rel=1e-5)
    assert value(doc, "noise_root_mean_squared_error[0.5]") > value(doc, "root_mean_squared_error")


def test_robustness_is_seeded_and_degrades_with_the_noise(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)
    path = write(table.iloc[:1500])

    def run(seed: int) -> dict[str, Any]:
        options = Options(robustness=RobustnessPlan(seed=seed))
        return assess_model(model, path, label="y", features=["x1", "x2"], options=options)

    first, again, other = run(0), run(0), run(1)

    robust = [m for m in first["measurements"] if m["category"] == "robustness"]
    assert [m["value"] for m in robust] == [
        m["value"] for m in again["measurements"] if m["category"] == "robustness"
    ]
    assert value(other, "noise_accuracy[0.5]") != value(first, "noise_accuracy[0.5]")
    assert value(first, "noise_flip_rate[0.05]") < value(first, "noise_flip_rate[0.5]")
    assert value(first, "noise_accuracy[0.5]") < value(first, "accuracy")
    flips = figure(first, "noise_flip_rate[0.5]")
    assert flips["failures"] == round(flips["value"] * 1500)


def test_the_evasion_search_finds_the_linear_models_margin(
    tmp_path: Path, write: Callable[..., Path]
) -> None:
    frame = builders.features_table(150)
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)
    plan = RobustnessPlan(evasion_rows=150, evasion_directions=64, evasion_steps=10)

    doc = assess_model(
        model, write(frame), label="y", features=["x1", "x2"], options=Options(robustness=plan)
    )

    # For w.x + b the smallest L-infinity change (in feature stds) that reaches the boundary
    # is |w.x + b| / sum_j |w_j| std_j; 64 sign directions hit the best corner of 2 features.
    std = frame[["x1", "x2"]].std(ddof=0).to_numpy()
    margin = np.abs(frame[["x1", "x2"]].to_numpy() @ np.array(W) + B) / np.sum(np.abs(W) * std)
    capped = np.minimum(margin, plan.evasion_max)
    assert value(doc, "min_perturbation") == pytest.approx(np.median(capped), abs=2 / 1024 + 1e-3)
    assert value(doc, "evasion_rate") == pytest.approx(np.mean(margin <= 1.0), abs=2 / 150)


def test_a_skops_pipeline_runs_with_category_flips_and_missing_values(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    estimator = builders.skops_pipeline(tmp_path / "model.skops", table)

    doc = assess_model(
        tmp_path / "model.skops",
        write(table),
        label="y",
        sensitive=["sex"],
        features=["x1", "x2", "colour"],
    )

    expected = estimator.predict(table[["x1", "x2", "colour"]])
    assert value(doc, "accuracy") == pytest.approx(float(np.mean(expected == table["y"])))
    proba = estimator.predict_proba(table[["x1", "x2", "colour"]])[:, 1]
    assert value(doc, "roc_auc") == pytest.approx(skm.roc_auc_score(table["y"], proba))
    assert doc["metadata"]["model_file"]["format"] == "skops"
    assert 0.0 < value(doc, "category_flip_rate") < 0.2
    # LogisticRegression rejects NaN: the figure is undefined, with the model's own reason.
    missing = figure(doc, "missing_value_accuracy")
    assert missing["value"] is None
    assert "the model failed on the perturbed rows: ValueError" in missing["note"]


def test_a_feature_count_the_model_does_not_take_is_a_clear_error(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)

    with pytest.raises(AssessmentError) as excinfo:
        assess_model(model, write(table), label="y")

    assert str(excinfo.value) == (
        "model refused: the model takes 2 features in one tensor; 4 were given (x1, x2, colour, "
        "sex): choose them with --features"
    )


def test_the_worker_records_how_it_was_isolated(
    tmp_path: Path, table: pd.DataFrame, write: Callable[..., Path]
) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", W, B)

    doc = assess_model(model, write(table), label="y", features=["x1", "x2"], with_robustness=False)

    isolation = doc["metadata"]["isolation"]
    assert isolation["memory_mb"] == 4096
    assert "audit hook" in isolation["network"]
    assert not [m for m in doc["measurements"] if m["category"] == "robustness"]
