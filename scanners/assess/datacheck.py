"""Checks on the evaluation table itself: size, label balance, missing values, and overlap
with the reference table (rows seen in training make an evaluation look better than it is)."""

from __future__ import annotations

from typing import Any

import numpy as np

from scanners.assess.measurement import Measurement, metric
from scanners.assess.outcomes import Outcomes

Array = np.ndarray[Any, Any]


@metric("row_count", "data")
def row_count(rows: int) -> float:
    """Rows of the evaluation table that have a label and a prediction.
    n = rows used."""
    return float(rows)


@metric("minority_class_share", "data")
def minority_class_share(class_counts: Array) -> float:
    """Share of the rarest label class.
    share = min_c n_c / n (0.5 is balanced for two classes, 1/k for k)."""
    return float(class_counts.min() / class_counts.sum())


@metric("missing_value_share", "data")
def missing_value_share(missing: int, cells: int) -> float:
    """Share of missing cells in the columns the assessment uses.
    share = missing cells / cells."""
    return missing / cells if cells else 0.0


@metric("reference_overlap_share", "data")
def reference_overlap_share(overlap: int, rows: int) -> float:
    """Share of evaluation rows that also occur in the reference table, compared on their
    common columns (a leakage check). share = rows found in the reference / rows."""
    return overlap / rows


def measure(o: Outcomes, frame: Any, columns: list[str], dropped: int) -> list[Measurement]:
    """Row count, label balance and missing values of the evaluation table ``frame``."""
    out = [
        Measurement(
            "row_count",
            "row_count",
            "data",
            row_count(o.n),
            n=o.n + dropped,
            failures=dropped,
            evidence={"rows_without_label_or_prediction": dropped},
        )
    ]
    if o.is_classification:
        counts = np.bincount(o.y, minlength=len(o.classes))
        out.append(
            Measurement(
                "minority_class_share",
                "minority_class_share",
                "data",
                minority_class_share(counts),
                n=o.n,
                by_group={c: float(k / o.n) for c, k in zip(o.classes, counts, strict=True)},
                group_sizes={c: int(k) for c, k in zip(o.classes, counts, strict=True)},
                evidence={"by_group_metric": "class share"},
            )
        )
    missing = frame[columns].isna().sum()
    total = int(missing.sum())
    out.append(
        Measurement(
            "missing_value_share",
            "missing_value_share",
            "data",
            missing_value_share(total, len(frame) * len(columns)),
            n=len(frame) * len(columns),
            failures=total,
            by_group={c: float(missing[c] / len(frame)) for c in columns},
            evidence={"by_group_metric": "missing share of the column"},
        )
    )
    return out


def overlap(frame: Any, reference: Any, columns: list[str]) -> Measurement:
    """Evaluation rows whose values on ``columns`` equal a reference row."""
    import pandas as pd  # type: ignore[import-untyped]

    cur = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
    ref = pd.util.hash_pandas_object(reference[columns], index=False).to_numpy()
    found = int(np.isin(cur, ref).sum())
    return Measurement(
        "reference_overlap_share",
        "reference_overlap_share",
        "data",
        reference_overlap_share(found, len(frame)),
        n=len(frame),
        failures=found,
        evidence={"columns": columns},
    )
