"""Options of an assessment (plain data: safe to build from JSON or a policy)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """A feature has drifted when its two-sample test gives p < ``alpha`` and its PSI (over
    ``bins`` reference quantile bins) is at least ``psi_min``."""

    bins: int = 10
    alpha: float = 0.05
    psi_min: float = 0.1


@dataclass(frozen=True, slots=True)
class RobustnessPlan:
    """The perturbations of a model-based assessment (see :mod:`scanners.assess.robustness`)."""

    seed: int = 0
    noise_scales: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5)
    flip_rate: float = 0.1
    missing_rate: float = 0.1
    evasion_rows: int = 200
    evasion_directions: int = 16
    evasion_max: float = 1.0
    evasion_steps: int = 8

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RobustnessPlan:
        values = dict(data)
        values["noise_scales"] = tuple(float(s) for s in values.get("noise_scales", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Options:
    """``task``: auto (from the label: whole numbers with few values -> classification),
    classification or regression. ``positive_label``: the positive class of a binary label
    (needed unless the classes are 0/1, False/True or -1/1). ``decision_threshold``: turns
    a score into a prediction when no prediction column is given. ``min_group_size``: groups
    smaller than this are reported but not judged. ``max_groups``: a sensitive feature with
    more groups is an error (bin it first)."""

    task: str = "auto"
    positive_label: str | None = None
    decision_threshold: float = 0.5
    min_group_size: int = 30
    max_groups: int = 100
    calibration_bins: int = 10
    drift: DriftOptions = field(default_factory=DriftOptions)
    robustness: RobustnessPlan = field(default_factory=RobustnessPlan)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
