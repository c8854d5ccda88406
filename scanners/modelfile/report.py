"""Scan results as a :class:`Report` and as Warden's JSON document (``warden.modelscan/v1``).

The JSON document is what ``python -m scanners scan --format json`` prints and what
:mod:`scanners.parsers.warden_modelscan` parses back, so ``warden scan PATH --upload`` goes
through the same ingestion path as every other tool's report.

``warden.modelscan/v1`` is extended compatibly: ``targets[]`` (one per path given: file or
directory, its repository layouts, the manifest of every file with format, size, sha256 and
whether it was scanned, and the one weights digest) and ``files[].repository`` (a repository
tarball's layouts and manifest) are new keys a reader of the first version ignores; findings
may have the category ``model_code`` besides ``model_file``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from scanners.findings import Report
from scanners.modelfile.engine import FileResult, ScanResults, Target
from scanners.modelfile.rules import TOOL
from scanners.severity import SEVERITY_RANK

SCHEMA = "warden.modelscan/v1"
VERSION = "0.1.0"
SCAN_TYPE = "warden-modelscan"


def _targets(results: list[FileResult]) -> list[Target]:
    return list(results.targets) if isinstance(results, ScanResults) else []


def to_report(results: list[FileResult]) -> Report:
    """All findings of a scan in one report (files, formats and hashes in metadata). A
    single file: ``target`` is its path and ``artifact_sha256`` its digest. A single
    directory: ``target`` is the directory as given, ``artifact_sha256`` the digest of its
    one weights file when it has exactly one, else ""."""
    report = Report(tool=TOOL, tool_version=VERSION, scan_type=SCAN_TYPE, category="model_file")
    for res in results:
        report.findings.extend(res.findings)
        if res.error:
            report.warnings.append(f"{res.path}: {res.error}")
    report.metadata = {
        "schema": SCHEMA,
        "files": [
            {"path": r.path, "format": r.format, "sha256": r.sha256, "size": r.size}
            for r in results
        ],
    }
    targets = _targets(results)
    if targets:
        report.metadata["targets"] = [t.to_dict() for t in targets]
    if len(targets) == 1 and targets[0].kind == "directory":
        report.target = targets[0].path[:500]
        report.artifact_sha256 = targets[0].artifact_sha256
    elif len(results) == 1:
        report.target = results[0].path[:500]
        report.artifact_sha256 = results[0].sha256 or ""
    return report


def summary(results: list[FileResult]) -> dict[str, Any]:
    counts: Counter[str] = Counter(f.severity for r in results for f in r.findings)
    worst = max(counts, key=lambda s: SEVERITY_RANK[s]) if counts else None
    return {
        "files": len(results),
        "findings": sum(counts.values()),
        "by_severity": {s: counts.get(s, 0) for s in SEVERITY_RANK},
        "max_severity": worst,
    }


def to_json_doc(results: list[FileResult]) -> dict[str, Any]:
    """The ``warden.modelscan/v1`` document."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": TOOL,
        "version": VERSION,
        "summary": summary(results),
        "files": [r.to_dict() for r in results],
    }
    targets = _targets(results)
    if targets:
        doc["targets"] = [t.to_dict() for t in targets]
    return doc
