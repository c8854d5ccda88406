"""What the metrics are computed on: labels, predictions and scores, encoded once.

Classification labels and predictions are class codes (``classes[code]`` is the label as
text); binary tasks use 1 for the positive class. ``score`` is P(positive) for binary tasks,
the probability matrix (rows x classes) for multiclass ones, or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


@dataclass(slots=True)
class Outcomes:
    task: str
    y: np.ndarray[Any, Any]
    pred: np.ndarray[Any, Any]
    score: np.ndarray[Any, Any] | None = None
    classes: tuple[str, ...] = ()
    positive: str | None = None

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def is_classification(self) -> bool:
        return self.task != REGRESSION

    def score_is_probability(self) -> bool:
        s = self.score
        return s is not None and bool(np.all((s >= 0.0) & (s <= 1.0)))


@dataclass(slots=True)
class Grouping:
    """A sensitive feature (or an intersection of them) as integer codes into ``labels``."""

    name: str
    codes: np.ndarray[Any, Any]
    labels: list[str]

    def sizes(self) -> np.ndarray[Any, Any]:
        return np.bincount(self.codes, minlength=len(self.labels))

    def present(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.sizes())]


def intersection(groupings: list[Grouping]) -> Grouping:
    """The groups of all features at once: ``f, 18-30`` is sex=f and age_band=18-30."""
    codes = np.zeros(groupings[0].codes.shape[0], dtype=np.int64)
    for g in groupings:
        codes = codes * len(g.labels) + g.codes
    used, inverse = np.unique(codes, return_inverse=True)
    labels = []
    for combined in used.tolist():
        parts = []
        for g in reversed(groupings):
            combined, code = divmod(combined, len(g.labels))
            parts.append(g.labels[code])
        labels.append(", ".join(reversed(parts)))
    return Grouping("+".join(g.name for g in groupings), inverse.astype(np.int64), labels)
