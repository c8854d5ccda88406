"""Drift between the evaluation table and a reference (training) table, per feature.

A feature has drifted when its two-sample test rejects "same distribution" at ``alpha`` AND
its PSI reaches ``psi_min``: on large tables a test alone flags shifts too small to matter,
on small ones PSI alone is noise. Missing values are a category of their own in PSI and are
left out of the test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scanners.assess.measurement import Measurement, metric, scoped
from scanners.assess.options import DriftOptions

Array = np.ndarray[Any, Any]
EPS = 1e-4


@metric("population_stability_index", "drift")
def population_stability_index(actual: Array, expected: Array) -> float:
    """Population stability index of the evaluation shares against the reference shares over
    the same bins (numeric: the reference's deciles; categorical: the categories; missing
    values: one more bin). psi = sum_b (a_b - e_b) * ln(a_b / e_b), shares floored at 1e-4.
    Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift."""
    a = np.maximum(actual / max(actual.sum(), 1), EPS)
    e = np.maximum(expected / max(expected.sum(), 1), EPS)
    return float(np.sum((a - e) * np.log(a / e)))


@metric("drift_p_value", "drift")
def drift_p_value(current: Array, reference: Array, numeric: bool) -> tuple[float, float, str]:
    """p-value of a two-sample test that both tables come from one distribution; small
    means drift. Numeric features: scipy.stats.ks_2samp, D = sup_x |F_eval(x) - F_ref(x)|;
    categorical ones: scipy.stats.chi2_contingency on the 2 x categories count table,
    chi2 = sum (observed - expected)^2 / expected."""
    # scipy.stats takes 1.5 s to import: only assessments with a reference need it
    from scipy import stats  # type: ignore[import-untyped]

    if numeric:
        ks = stats.ks_2samp(current, reference)
        return float(ks.pvalue), float(ks.statistic), "ks_2samp"
    table = np.vstack([current, reference])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0, 0.0, "chi2_contingency"
    chi2 = stats.chi2_contingency(table, correction=False)
    return float(chi2.pvalue), float(chi2.statistic), "chi2_contingency"


@metric("drifted_feature_share", "drift")
def drifted_feature_share(drifted: int, features: int) -> float:
    """Share of the compared features that drifted.
    share = drifted features / features."""
    return drifted / features


def measure(
    current: Any, reference: Any, features: list[str], numeric: set[str], opts: DriftOptions
) -> list[Measurement]:
    """Per-feature PSI and test, then the share of drifted features. ``current`` and
    ``reference`` are pandas DataFrames holding ``features``."""
    out: list[Measurement] = []
    psi_by_feature: dict[str, float] = {}
    drifted: list[str] = []
    for name in features:
        cur, ref = current[name], reference[name]
        is_numeric = name in numeric
        if is_numeric:
            cur_counts, ref_counts, x_cur, x_ref = _numeric_bins(cur, ref, opts.bins)
        else:
            cur_counts, ref_counts = _category_counts(cur, ref)
            x_cur, x_ref = cur_counts[:-1], ref_counts[:-1]
        psi = Measurement(
            scoped("population_stability_index", name),
            "population_stability_index",
            "drift",
            population_stability_index(cur_counts, ref_counts),
            n=len(cur),
            evidence={"feature": name, "kind": "numeric" if is_numeric else "categorical"},
        )
        test = Measurement(
            scoped("drift_p_value", name), "drift_p_value", "drift", None, n=len(cur)
        )
        if x_cur.size and x_ref.size:
            test.value, statistic, test_name = drift_p_value(x_cur, x_ref, is_numeric)
            test.evidence = {"feature": name, "test": test_name, "statistic": statistic}
        else:
            test.note = "no non-missing values in one of the tables"
        is_drifted = (
            test.value is not None
            and test.value < opts.alpha
            and psi.value is not None
            and psi.value >= opts.psi_min
        )
        psi.evidence["drifted"] = test.evidence["drifted"] = is_drifted
        if psi.value is not None:
            psi_by_feature[name] = psi.value
        if is_drifted:
            drifted.append(name)
        out.extend([psi, test])
    if features:
        out.append(
            Measurement(
                "drifted_feature_share",
                "drifted_feature_share",
                "drift",
                drifted_feature_share(len(drifted), len(features)),
                n=len(features),
                failures=len(drifted),
                by_group=psi_by_feature,
                evidence={
                    "drifted": drifted,
                    "by_group_metric": "population_stability_index",
                    "rule": f"p < {opts.alpha:g} (two-sample test) and PSI >= {opts.psi_min:g}",
                },
            )
        )
    return out


def _numeric_bins(cur: Any, ref: Any, bins: int) -> tuple[Array, Array, Array, Array]:
    x_cur = cur.to_numpy(dtype=np.float64, na_value=np.nan)
    x_ref = ref.to_numpy(dtype=np.float64, na_value=np.nan)
    x_cur, miss_cur = x_cur[~np.isnan(x_cur)], int(np.isnan(x_cur).sum())
    x_ref, miss_ref = x_ref[~np.isnan(x_ref)], int(np.isnan(x_ref).sum())
    if x_ref.size:
        edges = np.unique(np.quantile(x_ref, np.linspace(0, 1, bins + 1)[1:-1]))
    else:
        edges = np.array([], dtype=np.float64)
    k = edges.size + 1
    c = np.bincount(np.searchsorted(edges, x_cur, side="right"), minlength=k)
    r = np.bincount(np.searchsorted(edges, x_ref, side="right"), minlength=k)
    return np.append(c, miss_cur), np.append(r, miss_ref), x_cur, x_ref


def _category_counts(cur: Any, ref: Any) -> tuple[Array, Array]:
    """Counts per category (union of both tables), missing values last."""
    c = cur.astype("object").value_counts(dropna=True)
    r = ref.astype("object").value_counts(dropna=True)
    keys = sorted(set(c.index) | set(r.index), key=str)
    cc = np.array([int(c.get(k, 0)) for k in keys] + [int(cur.isna().sum())])
    rc = np.array([int(r.get(k, 0)) for k in keys] + [int(ref.isna().sum())])
    return cc, rc
