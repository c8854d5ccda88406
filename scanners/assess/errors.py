"""Errors of the assessment runner. All are :class:`scanners.findings.ReportError`, so a caller
that already turns report errors into one line (the CLI, the import service) handles them."""

from __future__ import annotations

from scanners.findings import ReportError


class AssessmentError(ReportError):
    """Input the runner cannot assess: a missing column, a label with one class, a sensitive
    feature with a single group, a table that is neither CSV nor Parquet. One line."""


class ModelRefused(AssessmentError):
    """A model the runner will not execute (pickle-based, custom ONNX operators, untrusted
    skops types, a model-file scan that is not clean), with the reason."""


class WorkerLimitError(AssessmentError):
    """The model worker hit its CPU-time, memory or wall-clock limit."""


class WorkerError(AssessmentError):
    """The model worker failed for another reason (the model raised, the process crashed)."""


class MissingExtra(AssessmentError):
    """A library of the ``assess`` extra is not installed."""
