"""The two ways in: :func:`assess_predictions` (a table of labels and predictions; no model
is run) and :func:`assess_model` (an ONNX or skops model run on the table in the worker,
then the same figures plus robustness). Both return a ``warden.assessment/v1`` document."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from scanners.assess import datacheck, drift, fairness, performance, robustness
from scanners.assess._deps import CORE, MODEL, library_versions, require_core
from scanners.assess.document import build
from scanners.assess.errors import AssessmentError
from scanners.assess.measurement import Measurement
from scanners.assess.model import inspect_model
from scanners.assess.options import Options
from scanners.assess.outcomes import BINARY, MULTICLASS, REGRESSION, Grouping, Outcomes
from scanners.assess.outcomes import intersection as intersect
from scanners.assess.sandbox import WorkerLimits, run_model
from scanners.assess.table import Table, load_table
from scanners.assess.thresholds import Threshold, coerce

Source = Table | str | os.PathLike[str] | bytes
Array = np.ndarray[Any, Any]
MAX_CLASSES_AUTO = 20
MISSING_GROUP = "(missing)"
#: Binary class pairs whose positive class is known without asking.
_KNOWN_POSITIVE = {("0", "1"): "1", ("-1", "1"): "1", ("False", "True"): "True"}


def assess_predictions(
    data: Source,
    *,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    sensitive: Sequence[str] = (),
    reference: Source | None = None,
    thresholds: Iterable[Threshold | str] = (),
    features: Sequence[str] | None = None,
    options: Options | None = None,
    model: str = "",
    model_version: str = "",
    artifact_sha256: str = "",
) -> dict[str, Any]:
    """Assess predictions already in ``data`` (CSV or Parquet: path, bytes or a loaded
    :class:`Table`). ``prediction`` and/or ``score`` (P(positive) of a binary task) name
    columns; ``sensitive`` the columns to compare groups on; ``reference`` a training table
    for drift and leakage checks, compared on ``features`` (default: the columns both tables
    share, less label, prediction and score). Returns the warden.assessment/v1 document."""
    require_core()
    opts = options or Options()
    checks = coerce(thresholds)
    artifact_sha256 = artifact_sha256.lower()
    if artifact_sha256 and not re.fullmatch(r"[0-9a-f]{64}", artifact_sha256):
        raise AssessmentError(f"artifact sha256 {artifact_sha256[:80]!r} is not 64 hex digits")
    table = _load(data)
    ref = _load(reference) if reference is not None else None
    if prediction is None and score is None:
        raise AssessmentError("give a prediction column, a score column or both")
    _require(table, label=label, prediction=prediction, score=score, sensitive=sensitive)
    frame = table.frame()
    keep = frame[label].notna().to_numpy().copy()
    for column in (prediction, score):
        if column is not None:
            keep &= frame[column].notna().to_numpy()
    warnings: list[str] = []
    _enough_rows(table, keep, label, warnings)
    y = frame[label][keep]
    task = _task(y, opts)
    pred = frame[prediction][keep] if prediction else None
    prob = _numeric(table.name, frame[score][keep], score) if score else None
    if task == REGRESSION:
        if pred is None:
            raise AssessmentError("a regression assessment needs a prediction column")
        outcomes = Outcomes(
            REGRESSION, _numeric(table.name, y, label), _numeric(table.name, pred, prediction)
        )
    else:
        outcomes = _classification(table.name, label, y, pred, prob, opts, warnings)
    groups = _groupings(table, sensitive, keep, opts)
    used = [c for c in (label, prediction, score, *sensitive) if c]
    measurements = _common(outcomes, groups, frame, used, keep, opts)
    compare = list(features) if features is not None else None
    if ref is not None:
        measurements += _against_reference(
            table, ref, compare, {label, prediction, score}, set(sensitive), opts, warnings
        )
    metadata = {
        "mode": "predictions",
        **_task_metadata(outcomes),
        "columns": {"label": label, "prediction": prediction, "score": score},
        "sensitive_features": list(sensitive),
        "rows_used": outcomes.n,
        "options": opts.to_dict(),
    }
    return build(
        measurements,
        checks,
        dataset=table,
        reference=ref,
        libraries=library_versions(CORE),
        warnings=warnings,
        metadata=metadata,
        model=model,
        model_version=model_version,
        artifact_sha256=artifact_sha256,
    )


def assess_model(
    model_path: str | os.PathLike[str],
    data: Source,
    *,
    label: str,
    sensitive: Sequence[str] = (),
    features: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    reference: Source | None = None,
    thresholds: Iterable[Threshold | str] = (),
    scan_clean: bool | None = None,
    limits: WorkerLimits | None = None,
    options: Options | None = None,
    with_robustness: bool = True,
    model: str = "",
    model_version: str = "",
) -> dict[str, Any]:
    """Run the model file at ``model_path`` (ONNX or skops; refused otherwise, see
    :func:`scanners.assess.model.inspect_model` for ``scan_clean``) on ``data[features]``
    (default: every column but the label) in the worker under ``limits``, then assess its
    answers as :func:`assess_predictions` does, plus robustness. ``categorical`` names
    numeric columns to treat as categories (text columns always are)."""
    require_core()
    opts = options or Options()
    checks = coerce(thresholds)
    model_file = inspect_model(model_path, scan_clean=scan_clean)
    table = _load(data)
    ref = _load(reference) if reference is not None else None
    _require(table, label=label, sensitive=sensitive)
    feats = list(features) if features is not None else [c for c in table.columns if c != label]
    for column in feats:
        table.require(column, "feature")
    if label in feats:
        raise AssessmentError(f"the label {label!r} cannot also be a feature")
    if not feats:
        raise AssessmentError(f"{table.name}: no feature columns to run the model on")
    frame = table.frame()
    keep = frame[label].notna().to_numpy().copy()
    warnings: list[str] = []
    _enough_rows(table, keep, label, warnings)
    y = frame[label][keep]
    task = _task(y, opts)
    numeric = [c for c in feats if _is_numeric(frame[c]) and c not in set(categorical)]
    cats = [c for c in feats if c not in numeric]
    answers = run_model(
        model_file,
        frame.loc[keep, feats].reset_index(drop=True),
        features=feats,
        numeric=numeric,
        categorical=cats,
        plan=opts.robustness if with_robustness else None,
        limits=limits or WorkerLimits(),
        task=task,
    )
    if answers.classifier and task == REGRESSION:
        raise AssessmentError(
            f"the model is a classifier but the label {label!r} looks numeric: pass "
            "--task classification to assess it as one"
        )
    if not answers.classifier and task != REGRESSION:
        raise AssessmentError(
            f"the model answers with numbers, not classes, but the label {label!r} looks like "
            "classes: pass --task regression to assess it as a regression"
        )
    if task == REGRESSION:
        outcomes = Outcomes(
            REGRESSION,
            _numeric(table.name, y, label),
            np.asarray(answers.predictions, dtype=np.float64),
        )

        def encode(raw: Array) -> Array:
            return np.asarray(raw, dtype=np.float64)

    else:
        outcomes, encode = _model_classification(table.name, label, y, answers, opts, warnings)
    groups = _groupings(table, sensitive, keep, opts)
    measurements = _common(outcomes, groups, frame, [label, *sensitive, *feats], keep, opts)
    if with_robustness:
        measurements += robustness.measure(
            answers.robustness,
            outcomes.y,
            outcomes.pred,
            opts.robustness,
            classifier=outcomes.is_classification,
            encode=encode,
        )
    if ref is not None:
        measurements += _against_reference(
            table, ref, feats, {label}, set(sensitive), opts, warnings
        )
    metadata = {
        "mode": "model",
        **_task_metadata(outcomes),
        "columns": {"label": label, "features": feats, "categorical": cats},
        "sensitive_features": list(sensitive),
        "rows_used": outcomes.n,
        "model_file": {
            "name": os.path.basename(model_file.path),
            "format": model_file.kind,
            "sha256": model_file.sha256,
            "bytes": model_file.size,
        },
        "isolation": answers.isolation,
        "options": opts.to_dict(),
    }
    return build(
        measurements,
        checks,
        dataset=table,
        reference=ref,
        libraries=library_versions({**CORE, **MODEL}),
        warnings=warnings,
        metadata=metadata,
        model=model,
        model_version=model_version,
        artifact_sha256=model_file.sha256,
    )


def check_inputs(
    data: Source,
    *,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    sensitive: Sequence[str] = (),
    features: Sequence[str] | None = None,
    reference: Source | None = None,
    thresholds: Iterable[Threshold | str] = (),
    options: Options | None = None,
    runs_model: bool = False,
) -> None:
    """The checks of :func:`assess_predictions` (or, with ``runs_model``, of
    :func:`assess_model`) that need no model and no metric: both tables load as CSV or
    Parquet, the named columns exist, the label has two classes, each sensitive feature two
    groups, the thresholds name known metrics. Raises the same one-line AssessmentError the
    run would, so a server can refuse bad input before queueing it."""
    require_core()
    opts = options or Options()
    coerce(thresholds)
    table = _load(data)
    if reference is not None:
        _load(reference)
    if runs_model:
        if prediction or score:
            raise AssessmentError(
                "a model-based assessment runs the model for the predictions: drop the "
                "prediction and score columns"
            )
        _require(table, label=label, sensitive=sensitive)
        feats = list(features) if features is not None else [c for c in table.columns
                                                             if c != label]  # fmt: skip
        for column in feats:
            table.require(column, "feature")
        if label in feats:
            raise AssessmentError(f"the label {label!r} cannot also be a feature")
    else:
        if prediction is None and score is None:
            raise AssessmentError("give a prediction column, a score column or both")
        _require(table, label=label, prediction=prediction, score=score, sensitive=sensitive)
    y_column = table.data.column(label).to_pandas()
    keep = y_column.notna().to_numpy()
    if not keep.any():
        raise AssessmentError(f"{table.name}: no row has a label")
    y = y_column[keep]
    if _task(y, opts) != REGRESSION:
        classes = _Classes([y])
        _two_classes(label, classes, classes.encode(y))
    _groupings(table, sensitive, keep, opts)


# -- shared steps ----------------------------------------------------------------------------


def _load(source: Source) -> Table:
    return source if isinstance(source, Table) else load_table(source)


def _require(
    table: Table,
    *,
    label: str,
    prediction: str | None = None,
    score: str | None = None,
    sensitive: Sequence[str] = (),
) -> None:
    table.require(label, "label")
    if prediction:
        table.require(prediction, "prediction")
    if score:
        table.require(score, "score")
    for column in sensitive:
        table.require(column, "sensitive feature")
        if column in (label, prediction, score):
            raise AssessmentError(f"{column!r} cannot be both a sensitive feature and {label!r}")


def _enough_rows(table: Table, keep: Array, label: str, warnings: list[str]) -> None:
    dropped = int(keep.size - np.count_nonzero(keep))
    if dropped == keep.size:
        raise AssessmentError(f"{table.name}: no row has both a label and a prediction")
    if dropped:
        warnings.append(
            f"{dropped} of {keep.size} rows have no label or prediction and were left out"
        )


def _common(
    o: Outcomes, groups: list[Grouping], frame: Any, used: list[str], keep: Array, opts: Options
) -> list[Measurement]:
    dropped = int(keep.size - np.count_nonzero(keep))
    out = datacheck.measure(o, frame, list(dict.fromkeys(used)), dropped)
    out += performance.measure(o, calibration_bins=opts.calibration_bins)
    out += fairness.measure(o, groups, min_group_size=opts.min_group_size)
    return out


def _task(y: Any, opts: Options) -> str:
    if opts.task == "regression":
        return REGRESSION
    if opts.task == "classification" or not _is_numeric(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    x = y.to_numpy(dtype=np.float64)
    if np.any(x != np.round(x)) or np.unique(x).size > MAX_CLASSES_AUTO:
        return REGRESSION
    return "classification"


def _is_numeric(column: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def _numeric(name: str, column: Any, role: str | None) -> Array:
    if not pd.api.types.is_numeric_dtype(column):
        raise AssessmentError(f"{name}: column {role!r} must hold numbers")
    return np.asarray(column.to_numpy(dtype=np.float64))


class _Classes:
    """The class labels of a classification task (union of labels and predictions), sorted,
    as names and integer codes. Numbers compare as numbers (1 == 1.0), the rest as text."""

    def __init__(self, columns: list[Any], extra: Sequence[Any] = ()) -> None:
        arrays = [np.asarray(c.to_numpy() if hasattr(c, "to_numpy") else c) for c in columns]
        extras = np.asarray(list(extra))
        self.numeric = all(_numeric_array(a) for a in arrays) and (
            extras.size == 0 or _numeric_array(extras)
        )
        if self.numeric:
            parts = [a.astype(np.float64) for a in arrays] + [extras.astype(np.float64)]
            self.keys: Array = np.unique(np.concatenate(parts))
            self.names = [_number_name(v) for v in self.keys.tolist()]
        else:
            texts = [_as_text(a) for a in arrays] + ([_as_text(extras)] if extras.size else [])
            self.names = sorted(set().union(*(pd.unique(t) for t in texts)))
            self.keys = np.asarray(self.names, dtype=object)

    def encode(self, values: Any) -> Array:
        """Codes of ``values`` (-1 for a value that is no class)."""
        a = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
        if self.numeric and _numeric_array(a):
            x = a.astype(np.float64)
            idx = np.clip(np.searchsorted(self.keys, x), 0, self.keys.size - 1)
            return np.where(self.keys[idx] == x, idx, -1).astype(np.int64)
        codes = pd.Categorical(_as_text(a), categories=self.names).codes
        return np.asarray(codes, dtype=np.int64)

    def binary(self, values: Any, positive: str) -> Array:
        """1 for the positive class, 0 for the other, -1 for a value that is no class."""
        codes = self.encode(values)
        pos = self.names.index(positive)
        return np.where(codes == pos, 1, np.where(codes < 0, -1, 0)).astype(np.int64)


def _numeric_array(a: Array) -> bool:
    return a.dtype.kind in "iufb"


def _number_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _as_text(a: Array) -> Array:
    if _numeric_array(a):
        x = a.astype(np.float64)
        return np.asarray([_number_name(v) for v in x.tolist()], dtype=object)
    return np.asarray(a.astype(str), dtype=object)


def _positive(names: list[str], label: str, opts: Options) -> str:
    if opts.positive_label is not None:
        wanted = str(opts.positive_label)
        if wanted not in names and names == ["0", "1"]:  # a true/false label reads as 0/1
            wanted = {"true": "1", "false": "0"}.get(wanted.lower(), wanted)
        if wanted not in names:  # "1.0" names the class 1
            with contextlib.suppress(ValueError, OverflowError):
                wanted = _number_name(float(wanted))
        if wanted not in names:
            raise AssessmentError(
                f"positive label {opts.positive_label!r} is not a class of {label!r} "
                f"(classes: {', '.join(names)})"
            )
        return wanted
    known = _KNOWN_POSITIVE.get((names[0], names[1]))
    if known is None:
        raise AssessmentError(
            f"label {label!r} has the classes {names[0]!r} and {names[1]!r}: say which is "
            "positive (--positive-label)"
        )
    return known


def _classification(
    name: str,
    label: str,
    y: Any,
    pred: Any | None,
    prob: Array | None,
    opts: Options,
    warnings: list[str],
) -> Outcomes:
    classes = _Classes([y] if pred is None else [y, pred])
    y_codes = classes.encode(y)
    _two_classes(label, classes, y_codes)
    if len(classes.names) == 2:
        positive = _positive(classes.names, label, opts)
        y01 = classes.binary(y, positive)
        if pred is not None:
            p01 = classes.binary(pred, positive)
        else:
            assert prob is not None
            p01 = (prob >= opts.decision_threshold).astype(np.int64)
        return Outcomes(BINARY, y01, p01, prob, (_other(classes.names, positive), positive),
                        positive)  # fmt: skip
    if pred is None:
        raise AssessmentError(
            f"label {label!r} has {len(classes.names)} classes: a score column alone describes "
            "a binary task; give the prediction column"
        )
    if prob is not None:
        warnings.append("the score column was not used: one score describes binary tasks only")
    return Outcomes(MULTICLASS, y_codes, classes.encode(pred), None, tuple(classes.names))


def _two_classes(label: str, classes: _Classes, y_codes: Array) -> None:
    present = np.unique(y_codes)
    if present.size < 2:
        only = classes.names[int(present[0])] if present.size else "?"
        raise AssessmentError(
            f"label {label!r} has a single class ({only!r}): nothing to compare predictions with"
        )


def _other(names: list[str], positive: str) -> str:
    return names[0] if names[1] == positive else names[1]


def _model_classification(
    name: str, label: str, y: Any, answers: Any, opts: Options, warnings: list[str]
) -> tuple[Outcomes, Any]:
    model_classes = list(answers.classes or [])
    classes = _Classes([y, answers.predictions], extra=model_classes)
    y_codes = classes.encode(y)
    _two_classes(label, classes, y_codes)
    proba = answers.proba
    columns: list[int] | None = None
    if proba is not None:
        # Probability columns follow the model's classes when it names them (skops
        # classes_, an ONNX ZipMap), else the sorted classes (scikit-learn's order).
        order = model_classes or (classes.names if proba.shape[1] == len(classes.names) else [])
        codes = [int(c) for c in classes.encode(np.asarray(order))] if order else []
        if len(codes) == proba.shape[1] and min(codes) >= 0:
            columns = codes
        else:
            warnings.append("the model's probabilities could not be matched to its classes")
    if len(classes.names) == 2:
        positive = _positive(classes.names, label, opts)
        score = None
        if proba is not None and columns is not None:
            score = proba[:, columns.index(classes.names.index(positive))]
        outcomes = Outcomes(
            BINARY,
            classes.binary(y, positive),
            classes.binary(answers.predictions, positive),
            score,
            (_other(classes.names, positive), positive),
            positive,
        )
        return outcomes, lambda raw: classes.binary(raw, positive)
    matrix = None
    if proba is not None and columns is not None:
        matrix = np.zeros((proba.shape[0], len(classes.names)))
        matrix[:, columns] = proba
    outcomes = Outcomes(
        MULTICLASS, y_codes, classes.encode(answers.predictions), matrix, tuple(classes.names)
    )
    return outcomes, classes.encode


def _groupings(
    table: Table, sensitive: Sequence[str], keep: Array, opts: Options
) -> list[Grouping]:
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    out: list[Grouping] = []
    for column in sensitive:
        encoded = table.data.column(column).dictionary_encode().combine_chunks()
        labels = [str(v) for v in encoded.dictionary.to_pylist()]
        indices = encoded.indices
        if indices.null_count:
            indices = pc.fill_null(indices, len(labels))
            labels.append(MISSING_GROUP)
        codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)[keep]
        grouping = Grouping(column, codes, labels)
        present = grouping.present()
        if len(present) < 2:
            only = labels[present[0]] if present else "?"
            raise AssessmentError(
                f"sensitive feature {column!r} has a single group ({only!r}): nothing to compare"
            )
        if len(present) > opts.max_groups:
            raise AssessmentError(
                f"sensitive feature {column!r} has {len(present)} groups (at most "
                f"{opts.max_groups}): group its values into bands first"
            )
        out.append(grouping)
    if len(out) >= 2:
        out.append(intersect(out))
    return out


def _task_metadata(o: Outcomes) -> dict[str, Any]:
    meta: dict[str, Any] = {"task": o.task}
    if o.is_classification:
        meta["classes"] = list(o.classes)
    if o.positive is not None:
        meta["positive_label"] = o.positive
    return meta


def _against_reference(
    table: Table,
    ref: Table,
    features: list[str] | None,
    outcome_columns: set[str | None],
    sensitive: set[str],
    opts: Options,
    warnings: list[str],
) -> list[Measurement]:
    cur, old = table.frame(), ref.frame()
    if features is None:
        features = [c for c in table.columns if c in set(ref.columns) - outcome_columns]
    missing = [c for c in features if c not in ref.columns]
    if missing:
        raise AssessmentError(f"{ref.name}: no column {missing[0]!r} (a feature to compare)")
    numeric = {c for c in features if _is_numeric(cur[c]) and _is_numeric(old[c])}
    out = drift.measure(cur, old, features, numeric, opts.drift)
    if not features:
        warnings.append(f"{table.name} and {ref.name} share no feature column: no drift check")
    compare = [c for c in features if c not in outcome_columns]
    if not compare or set(compare) <= sensitive:
        out.append(
            Measurement(
                "reference_overlap_share",
                "reference_overlap_share",
                "data",
                None,
                note="the tables share no feature columns besides the sensitive features",
            )
        )
        return out
    a, b = _aligned(cur, old, compare)
    overlap = datacheck.overlap(a, b, compare)
    out.append(overlap)
    if overlap.failures:
        warnings.append(
            f"{overlap.failures} of {len(cur)} evaluation rows ({overlap.value:.1%}) also occur "
            f"in the reference table {ref.name} (possible leakage)"
        )
    return out


def _aligned(cur: Any, old: Any, columns: list[str]) -> tuple[Any, Any]:
    """The two tables' ``columns`` with equal dtypes, so equal values hash equally."""
    a, b = cur[columns].copy(), old[columns].copy()
    for c in columns:
        if a[c].dtype == b[c].dtype:
            continue
        if _is_numeric(a[c]) and _is_numeric(b[c]):
            a[c], b[c] = a[c].astype(np.float64), b[c].astype(np.float64)
        else:
            a[c], b[c] = a[c].astype(str), b[c].astype(str)
    return a, b
