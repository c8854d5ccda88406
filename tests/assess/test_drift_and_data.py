"""Drift against a reference table, and the checks on the evaluation table itself."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scanners.assess import assess_predictions
from tests.assess.builders import disparity_table
from tests.assess.conftest import figure, value


def _tables(n: int = 5000) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(21)

    def make(shift: float, blue: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "income": rng.normal(50 + shift, 10, n),
                "age": rng.normal(40, 12, n),
                "colour": rng.choice(["red", "blue"], n, p=[1 - blue, blue]),
                "y": rng.integers(0, 2, n),
                "yhat": rng.integers(0, 2, n),
            }
        )

    return make(6.0, 0.7), make(0.0, 0.3)  # income and colour drift, age does not


def test_drifted_features_are_found_and_stable_ones_are_not(write: Callable[..., Path]) -> None:
    current, reference = _tables()

    doc = assess_predictions(
        write(current), label="y", prediction="yhat", reference=write(reference, "train.csv")
    )

    share = figure(doc, "drifted_feature_share")
    assert share["evidence"]["drifted"] == ["income", "colour"]
    assert share["value"] == pytest.approx(2 / 3)  # label and prediction are not features
    assert set(share["by_group"]) == {"income", "age", "colour"}
    assert figure(doc, "population_stability_index[age]")["evidence"]["drifted"] is False


def test_psi_and_ks_match_a_hand_computation(write: Callable[..., Path]) -> None:
    current, reference = _tables()

    doc = assess_predictions(
        write(current), label="y", prediction="yhat", reference=write(reference, "train.csv")
    )

    # Deciles of the reference, one bin per decile, shares floored at 1e-4.
    edges = np.quantile(reference["income"], np.linspace(0, 1, 11)[1:-1])
    a = np.bincount(np.searchsorted(edges, current["income"], side="right"), minlength=10) / 5000
    e = np.bincount(np.searchsorted(edges, reference["income"], side="right"), minlength=10) / 5000
    a, e = np.maximum(a, 1e-4), np.maximum(e, 1e-4)
    psi = float(np.sum((a - e) * np.log(a / e)))
    assert value(doc, "population_stability_index[income]") == pytest.approx(psi, rel=1e-9)
    ks = stats.ks_2samp(current["income"], reference["income"])
    test = figure(doc, "drift_p_value[income]")
    assert test["value"] == pytest.approx(ks.pvalue)
    assert test["evidence"]["statistic"] == pytest.approx(ks.statistic)
    assert test["evidence"]["test"] == "ks_2samp"


def test_a_categorical_feature_gets_a_chi_square_test(write: Callable[..., Path]) -> None:
    current, reference = _tables()

    doc = assess_predictions(
        write(current), label="y", prediction="yhat", reference=write(reference, "train.csv")
    )

    counts = np.array(
        [
            [(current["colour"] == c).sum() for c in ("blue", "red")],
            [(reference["colour"] == c).sum() for c in ("blue", "red")],
        ]
    )
    chi2 = stats.chi2_contingency(counts, correction=False)
    test = figure(doc, "drift_p_value[colour]")
    assert test["evidence"]["test"] == "chi2_contingency"
    assert test["evidence"]["statistic"] == pytest.approx(chi2.statistic)
    shares_now, shares_then = counts[0] / 5000, counts[1] / 5000
    psi = float(np.sum((shares_now - shares_then) * np.log(shares_now / shares_then)))
    assert value(doc, "population_stability_index[colour]") == pytest.approx(psi, rel=1e-9)


def test_rows_shared_with_the_reference_are_a_leakage_warning(write: Callable[..., Path]) -> None:
    current, reference = _tables()
    current.iloc[:40, :3] = reference.iloc[:40, :3].to_numpy()

    doc = assess_predictions(
        write(current), label="y", prediction="yhat", reference=write(reference, "train.csv")
    )

    overlap = figure(doc, "reference_overlap_share")
    assert overlap["failures"] == 40
    assert overlap["value"] == pytest.approx(40 / 5000)
    assert overlap["evidence"]["columns"] == ["income", "age", "colour"]
    assert any("40 of 5000 evaluation rows (0.8%) also occur" in w for w in doc["warnings"])


def test_no_leakage_means_no_warning(write: Callable[..., Path]) -> None:
    current, reference = _tables()

    doc = assess_predictions(
        write(current), label="y", prediction="yhat", reference=write(reference, "train.csv")
    )

    assert value(doc, "reference_overlap_share") == 0.0
    assert "warnings" not in doc


def test_the_data_checks_describe_the_evaluation_table(write: Callable[..., Path]) -> None:
    frame = disparity_table(1000).astype({"y": "float64"})
    frame.loc[[3, 5, 7], "y"] = np.nan

    doc = assess_predictions(write(frame), label="y", prediction="yhat", sensitive=["sex"])

    rows = figure(doc, "row_count")
    assert rows["value"] == 997
    assert rows["failures"] == 3
    assert doc["warnings"] == ["3 of 1000 rows have no label or prediction and were left out"]
    missing = figure(doc, "missing_value_share")
    assert missing["by_group"] == {"y": 0.003, "yhat": 0.0, "sex": 0.0}
    assert missing["value"] == pytest.approx(3 / 3000)
    balance = figure(doc, "minority_class_share")
    kept = frame["y"].dropna()
    assert balance["value"] == pytest.approx(min(kept.mean(), 1 - kept.mean()))
    assert balance["group_sizes"] == {"0": int((kept == 0).sum()), "1": int((kept == 1).sum())}


def test_the_dataset_fingerprint_and_library_versions_are_recorded(
    write: Callable[..., Path],
) -> None:
    path = write(disparity_table(500))

    doc = assess_predictions(path, label="y", prediction="yhat")

    fingerprint = doc["dataset_fingerprint"]
    assert fingerprint["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fingerprint["rows"] == 500
    assert fingerprint["bytes"] == path.stat().st_size
    assert [c["name"] for c in fingerprint["columns"]] == ["sex", "age_band", "y", "yhat", "p"]
    assert doc["library_versions"]["scikit-learn"] == metadata.version("scikit-learn")
    assert doc["library_versions"]["fairlearn"] == metadata.version("fairlearn")


def test_parquet_gives_the_same_figures_as_csv(write: Callable[..., Path]) -> None:
    frame = disparity_table(3000)

    from_csv = assess_predictions(write(frame), label="y", prediction="yhat", sensitive=["sex"])
    from_parquet = assess_predictions(
        write(frame, "eval.parquet"), label="y", prediction="yhat", sensitive=["sex"]
    )

    assert from_parquet["dataset_fingerprint"]["format"] == "parquet"
    assert from_parquet["measurements"] == from_csv["measurements"]
