"""One measured figure, and the registry of metric names.

Every metric is a function defined once, in the module of its kind (performance, fairness,
robustness, drift, data), with its formula in the docstring, and registered here under its
name by :func:`metric`. A :class:`Measurement` records one figure: the metric's value on the
whole table or one scope of it (a sensitive feature, a drift feature, a noise scale).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

#: Categories of the assessment format (warden.assessment/v1 ``category``).
CATEGORIES = ("performance", "fairness", "robustness", "drift", "data")

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    category: str
    summary: str
    formula: str


#: metric name -> what it is (filled by :func:`metric` as the metric modules are imported).
METRICS: dict[str, MetricInfo] = {}


#: The modules whose functions are the metrics (each registers its own on import).
METRIC_MODULES = ("datacheck", "performance", "fairness", "robustness", "drift")


def catalogue() -> dict[str, MetricInfo]:
    """Every metric the runner measures, by name. Imports the metric modules (their
    libraries are the ``assess`` extra: :class:`MissingExtra` without it)."""
    import importlib

    from scanners.assess._deps import require_core

    require_core()
    for module in METRIC_MODULES:
        importlib.import_module(f"scanners.assess.{module}")
    return METRICS


def metric(name: str, category: str) -> Callable[[_F], _F]:
    """Register ``name`` as a metric of ``category``; the function's docstring gives its
    summary (first sentence) and formula (the rest)."""
    assert category in CATEGORIES, category

    def register(func: _F) -> _F:
        doc = " ".join((func.__doc__ or "").split())
        summary, _, formula = doc.partition(". ")
        summary += "." if formula else ""
        assert name not in METRICS, f"metric {name} defined twice"
        METRICS[name] = MetricInfo(name, category, summary.strip(), formula.strip())
        return func

    return register


@dataclass(slots=True)
class Measurement:
    """One figure. ``test`` is the metric name, with its scope in brackets when it has one:
    ``accuracy``, ``demographic_parity_difference[sex]``, ``noise_accuracy[0.1]``. ``value``
    is None when the figure is undefined on this data; ``note`` then says why."""

    test: str
    metric: str
    category: str
    value: float | None
    n: int | None = None
    failures: int | None = None
    by_group: dict[str, float] | None = None
    group_sizes: dict[str, int] | None = None
    groups_too_small: list[str] | None = None
    description: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        self.value = finite(self.value)
        if self.by_group is not None:
            # A group whose value is undefined (no positives for a TPR) is listed, not dropped.
            undefined = [g for g, v in self.by_group.items() if finite(v) is None]
            self.by_group = {g: float(v) for g, v in self.by_group.items() if g not in undefined}
            if undefined:
                self.evidence.setdefault("undefined_groups", undefined)

    @property
    def why_undefined(self) -> str:
        return self.note or "undefined on this data"

    def to_dict(self) -> dict[str, Any]:
        """The figure as a ``measurements`` item of warden.assessment/v1."""
        out: dict[str, Any] = {
            "test": self.test,
            "category": self.category,
            "metric": self.metric,
            "value": self.value,
        }
        for key in ("n", "failures", "by_group", "group_sizes", "groups_too_small"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.description:
            out["description"] = self.description
        if self.value is None:
            out["note"] = self.why_undefined
        if self.evidence:
            out["evidence"] = self.evidence
        return out


def finite(value: Any) -> float | None:
    """``value`` as a float, or None for None, NaN and infinities (JSON has none of them)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def scoped(name: str, scope: str | float | None) -> str:
    """The test id of ``name`` measured on ``scope``: ``name[scope]``, or ``name``."""
    if scope is None or scope == "":
        return name
    if isinstance(scope, float):
        scope = f"{scope:g}"
    return f"{name}[{scope}]"
