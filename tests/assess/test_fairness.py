"""Fairness figures: hand-computed, then on generated data with a known disparity against a
plain-numpy computation and fairlearn run on the raw rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm

from scanners.assess import Options, assess_predictions
from tests.assess.builders import disparity_table
from tests.assess.conftest import figure, value
from tests.assess.test_performance import HAND


def test_it_computes_the_hand_checked_group_figures(write: Callable[..., Path]) -> None:
    # group a: y 1 1 1 1 0, pred 1 1 0 1 0 -> selection 3/5, TPR 3/4, FPR 0/1, accuracy 4/5
    # group b: y 0 0 0 1 0, pred 1 0 0 1 1 -> selection 3/5, TPR 1/1, FPR 2/4, accuracy 3/5
    doc = assess_predictions(
        write(HAND),
        label="y",
        prediction="yhat",
        sensitive=["g"],
        options=Options(min_group_size=5),
    )

    dpd = figure(doc, "demographic_parity_difference[g]")
    assert dpd["value"] == pytest.approx(0.0)
    assert dpd["by_group"] == pytest.approx({"a": 0.6, "b": 0.6})
    assert dpd["group_sizes"] == {"a": 5, "b": 5}
    assert value(doc, "demographic_parity_ratio[g]") == pytest.approx(1.0)
    assert value(doc, "equal_opportunity_difference[g]") == pytest.approx(0.25)
    assert value(doc, "false_positive_rate_difference[g]") == pytest.approx(0.5)
    assert value(doc, "equalized_odds_difference[g]") == pytest.approx(0.5)
    assert value(doc, "equalized_odds_ratio[g]") == pytest.approx(0.0)  # FPR 0 / 0.5
    assert value(doc, "accuracy_difference[g]") == pytest.approx(0.2)
    odds = figure(doc, "equalized_odds_difference[g]")["evidence"]
    assert odds["true_positive_rate"] == pytest.approx({"a": 0.75, "b": 1.0})
    assert odds["false_positive_rate"] == pytest.approx({"a": 0.0, "b": 0.5})


def _numpy_rates(y: Any, pred: Any, groups: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"sel": {}, "tpr": {}, "fpr": {}, "acc": {}}
    for g in np.unique(groups):
        m = groups == g
        out["sel"][g] = float(np.mean(pred[m] == 1))
        out["tpr"][g] = float(np.mean(pred[m & (y == 1)] == 1))
        out["fpr"][g] = float(np.mean(pred[m & (y == 0)] == 1))
        out["acc"][g] = float(np.mean(pred[m] == y[m]))
    return out


def _gap(values: dict[str, float]) -> float:
    return max(values.values()) - min(values.values())


@pytest.fixture(scope="module")
def disparity(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, Any]]:
    frame = disparity_table(20_000)
    path = tmp_path_factory.mktemp("disparity") / "eval.csv"
    frame.to_csv(path, index=False)
    return frame, assess_predictions(
        path, label="y", prediction="yhat", sensitive=["sex", "age_band"]
    )


def test_the_known_disparity_is_found(disparity: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    _, doc = disparity

    # Built in: selection rate 0.6 + 0.45 * 0.25 - 0.55 * 0.2 = 0.6025 for a, 0.3025 for b.
    assert value(doc, "demographic_parity_difference[sex]") == pytest.approx(0.30, abs=0.02)
    assert value(doc, "demographic_parity_ratio[sex]") == pytest.approx(0.3025 / 0.6025, abs=0.03)
    # age_band has no disparity built in.
    assert value(doc, "demographic_parity_difference[age_band]") < 0.03


@pytest.mark.parametrize("feature", ["sex", "age_band"])
def test_group_figures_equal_a_plain_numpy_computation(
    disparity: tuple[pd.DataFrame, dict[str, Any]], feature: str
) -> None:
    frame, doc = disparity
    y, pred, groups = frame["y"].to_numpy(), frame["yhat"].to_numpy(), frame[feature].to_numpy()

    rates = _numpy_rates(y, pred, groups)

    def check(test: str, expected: float) -> None:
        assert value(doc, f"{test}[{feature}]") == pytest.approx(expected, abs=1e-12), test

    check("demographic_parity_difference", _gap(rates["sel"]))
    check("demographic_parity_ratio", min(rates["sel"].values()) / max(rates["sel"].values()))
    check("equal_opportunity_difference", _gap(rates["tpr"]))
    check("false_positive_rate_difference", _gap(rates["fpr"]))
    check("equalized_odds_difference", max(_gap(rates["tpr"]), _gap(rates["fpr"])))
    check("accuracy_difference", _gap(rates["acc"]))
    dpd = figure(doc, f"demographic_parity_difference[{feature}]")
    assert dpd["by_group"] == pytest.approx(rates["sel"], abs=1e-12)
    assert dpd["group_sizes"] == {g: int(np.sum(groups == g)) for g in np.unique(groups)}


def test_the_intersection_is_judged_group_by_group(
    disparity: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    frame, doc = disparity
    groups = (frame["sex"] + ", " + frame["age_band"]).to_numpy()

    rates = _numpy_rates(frame["y"].to_numpy(), frame["yhat"].to_numpy(), groups)

    dpd = figure(doc, "demographic_parity_difference[sex+age_band]")
    assert set(dpd["by_group"]) == {f"{s}, {a}" for s in "ab" for a in ("young", "mid", "old")}
    assert dpd["by_group"] == pytest.approx(rates["sel"], abs=1e-12)
    assert dpd["value"] == pytest.approx(_gap(rates["sel"]), abs=1e-12)


def test_it_matches_fairlearn_on_the_raw_rows(
    disparity: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    frame, doc = disparity
    raw = {"y_true": frame["y"], "y_pred": frame["yhat"], "sensitive_features": frame["sex"]}

    pairs = {
        "demographic_parity_difference": flm.demographic_parity_difference,
        "demographic_parity_ratio": flm.demographic_parity_ratio,
        "equalized_odds_difference": flm.equalized_odds_difference,
        "equalized_odds_ratio": flm.equalized_odds_ratio,
        "equal_opportunity_difference": flm.equal_opportunity_difference,
    }
    for name, func in pairs.items():
        assert value(doc, f"{name}[sex]") == pytest.approx(func(**raw), abs=1e-12), name


def test_groups_below_the_minimum_are_reported_not_judged(write: Callable[..., Path]) -> None:
    frame = disparity_table(6000)
    tiny = pd.DataFrame({"sex": ["c"] * 12, "age_band": "mid", "y": 1, "yhat": 0, "p": 0.1})
    both = pd.concat([frame, tiny], ignore_index=True)

    doc = assess_predictions(
        write(both),
        label="y",
        prediction="yhat",
        sensitive=["sex"],
        options=Options(min_group_size=30),
    )

    dpd = figure(doc, "demographic_parity_difference[sex]")
    assert dpd["groups_too_small"] == ["c"]
    assert dpd["group_sizes"]["c"] == 12
    assert dpd["by_group"]["c"] == 0.0  # its value is still shown
    rates = _numpy_rates(frame["y"].to_numpy(), frame["yhat"].to_numpy(), frame["sex"].to_numpy())
    assert dpd["value"] == pytest.approx(_gap(rates["sel"]), abs=1e-12)  # without c


def test_with_fewer_than_two_judged_groups_the_gap_is_too_small_to_judge(
    write: Callable[..., Path],
) -> None:
    doc = assess_predictions(
        write(HAND),
        label="y",
        prediction="yhat",
        sensitive=["g"],
        options=Options(min_group_size=6),
    )

    dpd = figure(doc, "demographic_parity_difference[g]")
    assert dpd["value"] is None
    assert dpd["note"].startswith("too small to judge: 0 group(s) with at least 6 rows")
    assert dpd["groups_too_small"] == ["a", "b"]


def test_a_group_without_positives_is_left_out_of_the_odds_not_scored_zero(
    write: Callable[..., Path],
) -> None:
    frame = disparity_table(6000)
    no_pos = pd.DataFrame({"sex": ["d"] * 50, "age_band": "mid", "y": 0, "yhat": [0, 1] * 25})
    both = pd.concat([frame, no_pos], ignore_index=True)

    doc = assess_predictions(write(both), label="y", prediction="yhat", sensitive=["sex"])

    eopp = figure(doc, "equal_opportunity_difference[sex]")
    assert "d" not in eopp["by_group"]
    assert eopp["evidence"]["undefined_groups"] == ["d"]
    assert eopp["evidence"]["groups_without_both_classes"] == ["d"]
    rates = _numpy_rates(frame["y"].to_numpy(), frame["yhat"].to_numpy(), frame["sex"].to_numpy())
    assert eopp["value"] == pytest.approx(_gap(rates["tpr"]), abs=1e-12)
    # Demographic parity needs no positives: d (selection rate 0.5) takes part.
    dpd = figure(doc, "demographic_parity_difference[sex]")
    assert dpd["by_group"]["d"] == 0.5


def test_missing_sensitive_values_are_a_group_of_their_own(write: Callable[..., Path]) -> None:
    frame = HAND.assign(g=["a", "a", None, "a", "a", "b", "b", None, "b", "b"])

    doc = assess_predictions(
        write(frame),
        label="y",
        prediction="yhat",
        sensitive=["g"],
        options=Options(min_group_size=1),
    )

    sizes = figure(doc, "demographic_parity_difference[g]")["group_sizes"]
    assert sizes == {"a": 4, "b": 4, "(missing)": 2}
