"""The ``warden.assessment/v1`` document: judged figures in ``results`` (the existing
parser turns failed ones into findings and keeps passed ones as evidence), the others in
``measurements``, and the provenance: dataset fingerprints, library versions, artifact."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from scanners.assess._deps import warden_version
from scanners.assess.measurement import Measurement
from scanners.assess.table import Table
from scanners.assess.thresholds import Threshold, match
from scanners.parsers._assessment_common import holds
from scanners.parsers._schema import validate
from scanners.parsers.warden_assessment import SCAN_TYPE, SCHEMA, SCHEMA_ID, WARDEN_TOOL

TOOL = WARDEN_TOOL


def build(
    measurements: Sequence[Measurement],
    thresholds: Sequence[Threshold],
    *,
    dataset: Table,
    reference: Table | None,
    libraries: dict[str, str],
    warnings: Sequence[str],
    metadata: dict[str, Any],
    model: str = "",
    model_version: str = "",
    artifact_sha256: str = "",
    created: dt.datetime | None = None,
) -> dict[str, Any]:
    """The document, validated against the schema (a bug here must not reach the server)."""
    judged, unjudged = match(measurements, thresholds)
    judged_ids = {id(j.measurement) for j in judged}
    results = []
    for j in judged:
        item = j.measurement.to_dict()
        item.pop("note", None)
        item["threshold"] = j.threshold.value
        item["comparator"] = j.threshold.comparator
        results.append(item)
    when = created or dt.datetime.now(dt.UTC)
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "tool": TOOL,
        "tool_version": warden_version(),
        "created": when.isoformat(timespec="seconds"),
        "dataset": dataset.name,
        "dataset_fingerprint": dataset.fingerprint(),
    }
    if model:
        doc["model"] = model
    if model_version:
        doc["model_version"] = model_version
    if artifact_sha256:
        doc["artifact_sha256"] = artifact_sha256
    if reference is not None:
        doc["reference_fingerprint"] = reference.fingerprint()
    doc["library_versions"] = libraries
    doc["metadata"] = {**metadata, "thresholds": [str(t) for t in thresholds]}
    doc["results"] = results
    doc["measurements"] = [m.to_dict() for m in measurements if id(m) not in judged_ids]
    all_warnings = [*warnings, *unjudged]
    if all_warnings:
        doc["warnings"] = all_warnings
    validate(SCAN_TYPE, SCHEMA, doc)
    return doc


def to_json(doc: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON bytes (what ``warden upload`` or the import service takes)."""
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


def verdict(doc: dict[str, Any]) -> dict[str, Any]:
    """``{"passed": [...], "failed": [...], "unjudged": [...]}``: test ids by outcome, and the
    warnings of thresholds that could not be judged."""
    passed: list[str] = []
    failed: list[str] = []
    for r in doc["results"]:
        ok = holds(r["value"], r["comparator"], r["threshold"])
        (passed if ok else failed).append(r["test"])
    unjudged = [w for w in doc.get("warnings", []) if w.startswith("threshold ")]
    return {"passed": passed, "failed": failed, "unjudged": unjudged}
