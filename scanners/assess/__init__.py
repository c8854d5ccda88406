"""Warden's assessment runner: performance, fairness, robustness and drift measured by Warden
itself on the user's evaluation data, written as ``warden.assessment/v1``.

Two ways in (both return the document as a dict; see ``docs/assessment-runner.md``):

- :func:`assess_predictions` - a CSV/Parquet table with labels, predictions and/or scores;
  no model is run.
- :func:`assess_model` - an ONNX or skops model run on the table in a limited worker
  process (never a pickle-based format; only after a clean model-file scan).

The libraries (scikit-learn, fairlearn, onnxruntime, skops, pyarrow, scipy, pandas) are the
``assess`` extra; they are imported on first use, so ``import scanners.assess`` stays light
and a missing extra is a :class:`MissingExtra` error naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanners.assess.errors import (
    AssessmentError,
    MissingExtra,
    ModelRefused,
    WorkerError,
    WorkerLimitError,
)
from scanners.assess.options import DriftOptions, Options, RobustnessPlan
from scanners.assess.thresholds import Threshold, parse_threshold

if TYPE_CHECKING:
    from scanners.assess.document import to_json, verdict
    from scanners.assess.model import ModelFile, inspect_model
    from scanners.assess.runner import assess_model, assess_predictions
    from scanners.assess.sandbox import WorkerLimits
    from scanners.assess.table import Table, load_table

__all__ = [
    "AssessmentError",
    "DriftOptions",
    "MissingExtra",
    "ModelFile",
    "ModelRefused",
    "Options",
    "RobustnessPlan",
    "Table",
    "Threshold",
    "WorkerError",
    "WorkerLimitError",
    "WorkerLimits",
    "assess_model",
    "assess_predictions",
    "inspect_model",
    "load_table",
    "parse_threshold",
    "to_json",
    "verdict",
]

_LAZY = {
    "assess_model": "scanners.assess.runner",
    "assess_predictions": "scanners.assess.runner",
    "to_json": "scanners.assess.document",
    "verdict": "scanners.assess.document",
    "ModelFile": "scanners.assess.model",
    "inspect_model": "scanners.assess.model",
    "WorkerLimits": "scanners.assess.sandbox",
    "Table": "scanners.assess.table",
    "load_table": "scanners.assess.table",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scanners.assess' has no attribute {name!r}")
    import importlib

    from scanners.assess._deps import require_core

    require_core()
    return getattr(importlib.import_module(module), name)
