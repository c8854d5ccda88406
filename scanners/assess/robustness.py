"""Robustness (model-based assessments only): the model's answers on seeded perturbations of
the evaluation rows, and a bounded black-box search for the smallest change that flips a
prediction.

Two halves. :func:`perturb_and_predict` runs inside the model worker (numpy and pandas only):
it perturbs the feature table and calls the model. :func:`measure` runs in the caller and
turns those answers into figures against the labels. Every perturbation draws from its own
generator seeded by ``(seed, perturbation number)``, so a run is reproducible and changing
one perturbation leaves the others alone.

Perturbations, with ``std`` each numeric feature's standard deviation on the evaluation table:

- ``gaussian_noise[s]``: every numeric feature ``x + s * std * z``, ``z ~ N(0, 1)``;
- ``category_flip``: each categorical value, with probability ``flip_rate``, replaced by
  another category of the column drawn uniformly;
- ``missing_value``: each feature value, with probability ``missing_rate``, made missing.

Evasion (classifiers): for ``evasion_rows`` seeded rows and ``evasion_directions`` random sign
directions ``d`` (each feature +std or -std), the smallest ``eps`` in ``[0, evasion_max]``
with ``pred(x + eps * d) != pred(x)``, found by bisection in ``evasion_steps`` steps. It is
the L-infinity size of the change in units of each feature's std, an upper bound on the
true minimum (a random-direction search, not a gradient attack).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from scanners.assess.measurement import Measurement, metric, scoped
from scanners.assess.options import RobustnessPlan

Array = np.ndarray[Any, Any]
Predict = Callable[[Any], Array]


# -- in the worker ---------------------------------------------------------------------------


def perturb_and_predict(
    predict: Predict,
    frame: Any,
    numeric: list[str],
    categorical: list[str],
    plan: RobustnessPlan,
    *,
    classifier: bool,
) -> dict[str, Any]:
    """The model's answers on each perturbation: ``{name: predictions}``, or ``{name: error
    text}`` when the model rejects the perturbed rows. With ``classifier``, ``evasion`` holds
    ``{"rows": indices, "eps": smallest flipping eps per row, NaN when none was found}``."""
    out: dict[str, Any] = {}
    std = {c: _std(frame[c]) for c in numeric}
    for k, scale in enumerate(plan.noise_scales):
        rng = np.random.default_rng([plan.seed, k])
        noisy = frame.copy()
        for c in numeric:
            x = frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
            noisy[c] = x + rng.standard_normal(x.shape[0]) * std[c] * scale
        out[scoped("gaussian_noise", float(scale))] = _attempt(predict, noisy)
    if categorical:
        rng = np.random.default_rng([plan.seed, 1000])
        flipped = frame.copy()
        for c in categorical:
            flipped[c] = _flip(frame[c], plan.flip_rate, rng)
        out["category_flip"] = _attempt(predict, flipped)
    columns = numeric + categorical
    if columns:
        rng = np.random.default_rng([plan.seed, 2000])
        holes = frame.copy()
        for c in columns:
            mask = rng.random(len(frame)) < plan.missing_rate
            if c in numeric:
                x = frame[c].to_numpy(dtype=np.float64, na_value=np.nan)
                holes[c] = np.where(mask, np.nan, x)
            else:
                holes[c] = frame[c].astype("object").where(~mask, None)
        out["missing_value"] = _attempt(predict, holes)
    if classifier and numeric:
        out["evasion"] = _evasion(predict, frame, numeric, std, plan)
    return out


def _attempt(predict: Predict, frame: Any) -> Array | str:
    try:
        return predict(frame)
    except MemoryError:
        raise
    except Exception as exc:  # the model rejecting a perturbation is a result, not a crash
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def _std(column: Any) -> float:
    x = column.to_numpy(dtype=np.float64, na_value=np.nan)
    x = x[~np.isnan(x)]
    return float(x.std()) if x.size > 1 else 0.0


def _flip(column: Any, rate: float, rng: np.random.Generator) -> Any:
    values = column.astype("object")
    cats = values.dropna().unique()
    if len(cats) < 2:
        return values
    codes = {v: i for i, v in enumerate(cats)}
    current = np.array([codes.get(v, -1) for v in values.tolist()], dtype=np.int64)
    mask = (rng.random(len(values)) < rate) & (current >= 0)
    shift = rng.integers(1, len(cats), size=len(values))
    new = np.where(mask, (current + shift) % len(cats), current)
    replaced = np.asarray(cats, dtype=object)[np.maximum(new, 0)]
    return values.where(~mask, replaced)


def _evasion(
    predict: Predict, frame: Any, numeric: list[str], std: dict[str, float], plan: RobustnessPlan
) -> dict[str, Any]:
    rng = np.random.default_rng([plan.seed, 3000])
    n = len(frame)
    rows = np.sort(rng.choice(n, size=min(n, plan.evasion_rows), replace=False))
    base = frame.iloc[rows].reset_index(drop=True)
    k = plan.evasion_directions
    scale = np.array([std[c] for c in numeric])
    signs = rng.choice(np.array([-1.0, 1.0]), size=(rows.size * k, len(numeric)))
    step = signs * scale
    repeated = base.loc[base.index.repeat(k)].reset_index(drop=True)
    x0 = repeated[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    clean = np.asarray(predict(base))
    clean_rep = np.repeat(clean, k)

    def flips(which: Array, eps: Array) -> Array:
        moved = repeated.iloc[which].copy()
        moved[numeric] = x0[which] + eps[:, None] * step[which]
        flipped: Array = np.asarray(predict(moved)) != clean_rep[which]
        return flipped

    every = np.arange(rows.size * k)
    hi = np.full(every.size, np.nan)
    active = every[flips(every, np.full(every.size, plan.evasion_max))]
    lo_a = np.zeros(active.size)
    hi_a = np.full(active.size, plan.evasion_max)
    for _ in range(plan.evasion_steps):
        if not active.size:
            break
        mid = (lo_a + hi_a) / 2
        flipped = flips(active, mid)
        hi_a = np.where(flipped, mid, hi_a)
        lo_a = np.where(flipped, lo_a, mid)
    hi[active] = hi_a
    per_row = hi.reshape(rows.size, k)
    eps = np.where(np.isnan(per_row).all(axis=1), np.nan, np.nanmin(_nan_to_inf(per_row), axis=1))
    return {"rows": rows, "eps": eps}


def _nan_to_inf(values: Array) -> Array:
    return np.where(np.isnan(values), np.inf, values)


# -- in the caller ---------------------------------------------------------------------------


@metric("noise_accuracy", "robustness")
def noise_accuracy(y: Array, pred_noisy: Array) -> float:
    """Accuracy with Gaussian noise on the numeric features (scale s, in feature stds).
    acc_s = mean(pred(x + s * std * z) == y), z ~ N(0, 1) seeded."""
    return float(np.mean(pred_noisy == y))


@metric("noise_flip_rate", "robustness")
def noise_flip_rate(pred: Array, pred_noisy: Array) -> float:
    """Share of predictions that change under the Gaussian noise of scale s.
    flip_s = mean(pred(x + s * std * z) != pred(x))."""
    return float(np.mean(pred_noisy != pred))


@metric("category_flip_accuracy", "robustness")
def category_flip_accuracy(y: Array, pred_flipped: Array) -> float:
    """Accuracy after replacing each categorical value, with probability flip_rate, by another
    category of its column. acc = mean(pred(x_flipped) == y)."""
    return float(np.mean(pred_flipped == y))


@metric("category_flip_rate", "robustness")
def category_flip_rate(pred: Array, pred_flipped: Array) -> float:
    """Share of predictions that change after the category flips.
    flip = mean(pred(x_flipped) != pred(x))."""
    return float(np.mean(pred_flipped != pred))


@metric("missing_value_accuracy", "robustness")
def missing_value_accuracy(y: Array, pred_holes: Array) -> float:
    """Accuracy after making each feature value missing with probability missing_rate.
    acc = mean(pred(x_missing) == y)."""
    return float(np.mean(pred_holes == y))


@metric("missing_value_flip_rate", "robustness")
def missing_value_flip_rate(pred: Array, pred_holes: Array) -> float:
    """Share of predictions that change when values go missing.
    flip = mean(pred(x_missing) != pred(x))."""
    return float(np.mean(pred_holes != pred))


@metric("noise_root_mean_squared_error", "robustness")
def noise_root_mean_squared_error(y: Array, pred_noisy: Array) -> float:
    """Regression: RMSE with Gaussian noise of scale s on the numeric features.
    rmse_s = sqrt(mean((pred(x + s * std * z) - y)^2))."""
    return float(np.sqrt(np.mean((pred_noisy - y) ** 2)))


@metric("category_flip_root_mean_squared_error", "robustness")
def category_flip_root_mean_squared_error(y: Array, pred_flipped: Array) -> float:
    """Regression: RMSE after the category flips.
    rmse = sqrt(mean((pred(x_flipped) - y)^2))."""
    return float(np.sqrt(np.mean((pred_flipped - y) ** 2)))


@metric("missing_value_root_mean_squared_error", "robustness")
def missing_value_root_mean_squared_error(y: Array, pred_holes: Array) -> float:
    """Regression: RMSE after values go missing.
    rmse = sqrt(mean((pred(x_missing) - y)^2))."""
    return float(np.sqrt(np.mean((pred_holes - y) ** 2)))


@metric("evasion_rate", "robustness")
def evasion_rate(eps: Array) -> float:
    """Share of the searched rows whose prediction the bounded search flipped within
    evasion_max (L-infinity, in feature stds). rate = rows flipped / rows searched."""
    return float(np.mean(~np.isnan(eps)))


@metric("min_perturbation", "robustness")
def min_perturbation(eps: Array, bound: float) -> float:
    """Median over the searched rows of the smallest flipping change found (L-infinity, in
    feature stds); a row not flipped within evasion_max counts as evasion_max, so the value
    is at most evasion_max and larger is more robust. m = median_i min(eps_i, evasion_max)."""
    return float(np.median(np.where(np.isnan(eps), bound, eps)))


_CLASSIFIER = {
    "gaussian_noise": (noise_accuracy, noise_flip_rate),
    "category_flip": (category_flip_accuracy, category_flip_rate),
    "missing_value": (missing_value_accuracy, missing_value_flip_rate),
}
_REGRESSOR = {
    "gaussian_noise": noise_root_mean_squared_error,
    "category_flip": category_flip_root_mean_squared_error,
    "missing_value": missing_value_root_mean_squared_error,
}
_NAMES = {
    noise_accuracy: "noise_accuracy",
    noise_flip_rate: "noise_flip_rate",
    category_flip_accuracy: "category_flip_accuracy",
    category_flip_rate: "category_flip_rate",
    missing_value_accuracy: "missing_value_accuracy",
    missing_value_flip_rate: "missing_value_flip_rate",
    noise_root_mean_squared_error: "noise_root_mean_squared_error",
    category_flip_root_mean_squared_error: "category_flip_root_mean_squared_error",
    missing_value_root_mean_squared_error: "missing_value_root_mean_squared_error",
}


def measure(
    answers: dict[str, Any],
    y: Array,
    pred: Array,
    plan: RobustnessPlan,
    *,
    classifier: bool,
    encode: Callable[[Array], Array],
) -> list[Measurement]:
    """Figures from the worker's answers. ``y`` and ``pred`` are the labels and the clean
    predictions (class codes for classifiers); ``encode`` maps the model's raw answers the
    same way."""
    out: list[Measurement] = []
    n = int(y.shape[0])
    evidence = {"plan": plan.to_dict()}
    for name, answer in answers.items():
        if name == "evasion":
            continue
        family, _, scope = name.partition("[")
        scope_value = scope.rstrip("]") or None
        funcs = _CLASSIFIER[family] if classifier else (_REGRESSOR[family],)
        for func in funcs:
            metric_name = _NAMES[func]
            m = Measurement(scoped(metric_name, scope_value), metric_name, "robustness", None, n=n)
            m.evidence = {"perturbation": name, **evidence}
            if isinstance(answer, str):
                m.note = f"the model failed on the perturbed rows: {answer}"
            else:
                got = encode(np.asarray(answer))
                is_flip = func in (noise_flip_rate, category_flip_rate, missing_value_flip_rate)
                m.value = func(pred if is_flip else y, got)
                if classifier:
                    m.failures = int(np.count_nonzero(got != (pred if is_flip else y)))
            out.append(m)
    search = answers.get("evasion")
    if classifier and isinstance(search, dict):
        eps = np.asarray(search["eps"], dtype=np.float64)
        searched = int(eps.size)
        flipped = int(np.count_nonzero(~np.isnan(eps)))
        detail = {
            "rows_searched": searched,
            "directions": plan.evasion_directions,
            "bound": plan.evasion_max,
            "norm": "L-infinity, in feature standard deviations",
            "method": "random sign directions, bisection",
            **evidence,
        }
        out.append(
            Measurement(
                "evasion_rate",
                "evasion_rate",
                "robustness",
                evasion_rate(eps) if searched else None,
                n=searched,
                failures=flipped,
                evidence=detail,
            )
        )
        out.append(
            Measurement(
                "min_perturbation",
                "min_perturbation",
                "robustness",
                min_perturbation(eps, plan.evasion_max) if searched else None,
                n=searched,
                evidence=detail,
            )
        )
    return out
