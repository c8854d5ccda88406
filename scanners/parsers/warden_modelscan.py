"""Warden's own model-file scanner, JSON output (``python -m scanners scan --format json``).

The document is marked ``"schema": "warden.modelscan/v1"`` and ``"tool": "warden-modelscan"``;
``files[]`` lists every scanned file (path, detected format, sha256, size) with its
``findings[]``, each carrying every :class:`NormalizedFinding` field by name. Parsing gives
those findings back unchanged (types checked, severities and category validated, evidence
trimmed), so an uploaded scan is ingested like any other report. Findings are category
``model_file`` or ``model_code`` (custom code a model repository runs when loaded).

Files and their hashes go into ``metadata["files"]``; a file the scanner could not read
becomes a warning (its ``not-scanned`` finding is already in the list). The optional
``targets[]`` (what each scanned path was: file or directory, repository layouts, manifest)
goes into ``metadata["targets"]``; a scan of exactly one directory sets ``Report.target`` to
it and ``artifact_sha256`` to its one weights file's digest (or "").
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import SEVERITIES, NormalizedFinding, Report
from scanners.parsers._fields import Fields, at

SCAN_TYPE = "warden-modelscan"
CATEGORY = "model_file"
FINDING_CATEGORIES = ("model_file", "model_code")
_HEX = frozenset("0123456789abcdef")
DESCRIPTION = "Warden model-file scanner JSON (scan --format json): imports, formats, hashes"
SCHEMA = "warden.modelscan/v1"

_F = Fields(SCAN_TYPE)
_STR_FIELDS = (
    "description", "raw_severity", "cvss_vector", "vuln_id", "package", "package_version",
    "fixed_version", "ecosystem", "purl", "file_path", "archive_member", "metric_name",
    "comparator", "remediation",
)  # fmt: skip
_LIST_FIELDS = ("aliases", "atlas", "owasp_ml", "owasp_llm", "references")
_INT_FIELDS = ("line", "byte_offset", "sample_count", "failure_count")
_FLOAT_FIELDS = ("cvss_score", "metric_value", "metric_threshold")


def sniff(doc: Document) -> bool:
    data = doc.json
    return (
        isinstance(data, dict)
        and data.get("schema") == SCHEMA
        and isinstance(data.get("files"), list)
    )


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    schema = _F.req_str(data, "schema", "")
    if schema != SCHEMA:
        _F.fail("schema", f"expected {SCHEMA!r}, got {schema!r}")
    report = Report(
        tool=_F.opt_str(data, "tool", "", "warden-modelscan"),
        tool_version=_F.opt_str(data, "version", ""),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
    )
    files_meta: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(_F.arr(data["files"], "files")):
        where = at("files", i)
        entry = _F.obj(item, where)
        path = _F.req_str(entry, "path", where)
        files_meta.append(
            {
                "path": path,
                "format": _F.opt_str(entry, "format", where),
                "sha256": _F.opt_str(entry, "sha256", where) or None,
                "size": _F.opt_int(entry, "size", where),
            }
        )
        error = _F.opt_str(entry, "error", where)
        if error:
            report.warnings.append(f"{path}: {error}")
        for j, raw in enumerate(_F.opt_arr(entry, "findings", where)):
            fwhere = at(at(where, "findings"), j)
            finding = _finding(_F.obj(raw, fwhere), fwhere)
            if finding.fingerprint in seen:
                continue
            seen.add(finding.fingerprint)
            report.findings.append(finding)
    report.metadata = {"schema": SCHEMA, "files": files_meta}
    targets = _targets(data)
    if targets:
        report.metadata["targets"] = targets
    if len(targets) == 1 and targets[0]["kind"] == "directory":
        report.target = str(targets[0]["path"])[:500]
        report.artifact_sha256 = str(targets[0]["artifact_sha256"])
    elif len(files_meta) == 1:
        report.target = str(files_meta[0]["path"])[:500]
        report.artifact_sha256 = str(files_meta[0]["sha256"] or "")
    summary = data.get("summary")
    if isinstance(summary, dict):
        report.metadata["summary"] = trim(summary, limit=2000)
    return report


def _targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``targets[]``: each path the scan was given (optional; a v1 reader ignores it)."""
    out: list[dict[str, Any]] = []
    for i, item in enumerate(_F.opt_arr(data, "targets", "")):
        where = at("targets", i)
        t = _F.obj(item, where)
        kind = _F.req_str(t, "kind", where)
        if kind not in ("file", "directory"):
            _F.fail(at(where, "kind"), f"expected 'file' or 'directory', got {kind!r}")
        digest = _F.opt_str(t, "artifact_sha256", where)
        if digest and (len(digest) != 64 or not set(digest) <= _HEX):
            _F.fail(at(where, "artifact_sha256"), "expected 64 lower-case hex characters")
        manifest = []
        for j, row in enumerate(_F.opt_arr(t, "manifest", where)):
            rwhere = at(at(where, "manifest"), j)
            r = _F.obj(row, rwhere)
            scanned = r.get("scanned", False)
            if not isinstance(scanned, bool):
                _F.fail(at(rwhere, "scanned"), "expected true or false")
            manifest.append(
                {
                    "path": _F.req_str(r, "path", rwhere),
                    "format": _F.opt_str(r, "format", rwhere),
                    "size": _F.opt_int(r, "size", rwhere),
                    "sha256": _F.opt_str(r, "sha256", rwhere) or None,
                    "scanned": scanned,
                    "role": _F.opt_str(r, "role", rwhere),
                    "reason": _F.opt_str(r, "reason", rwhere),
                }
            )
        layouts = [trim(x, limit=400) for x in _F.opt_arr(t, "layouts", where)]
        out.append(
            {
                "path": _F.req_str(t, "path", where),
                "kind": kind,
                "layouts": layouts,
                "artifact_sha256": digest,
                "manifest": manifest,
            }
        )
    return out


def _finding(f: dict[str, Any], where: str) -> NormalizedFinding:
    severity = _F.req_str(f, "severity", where)
    if severity not in SEVERITIES:
        _F.fail(at(where, "severity"), f"unknown severity {severity!r}")
    category = _F.opt_str(f, "category", where, CATEGORY)
    if category not in FINDING_CATEGORIES:
        _F.fail(
            at(where, "category"),
            f"expected one of {', '.join(FINDING_CATEGORIES)}, got {category!r}",
        )
    out = NormalizedFinding(
        fingerprint=_F.req_str(f, "fingerprint", where),
        category=category,
        tool=_F.opt_str(f, "tool", where, "warden-modelscan"),
        rule_id=_F.req_str(f, "rule_id", where),
        title=_F.req_str(f, "title", where),
        severity=severity,
    )
    for name in _STR_FIELDS:
        setattr(out, name, _F.opt_str(f, name, where))
    for name in _LIST_FIELDS:
        values = _F.opt_arr(f, name, where)
        if not all(isinstance(v, str) for v in values):
            _F.fail(at(where, name), "expected a list of strings")
        setattr(out, name, list(values))
    for name in _INT_FIELDS:
        setattr(out, name, _F.opt_int(f, name, where))
    for name in _FLOAT_FIELDS:
        setattr(out, name, _F.opt_num(f, name, where))
    passed = f.get("passed", False)
    if not isinstance(passed, bool):
        _F.fail(at(where, "passed"), "expected true or false")
    out.passed = passed
    evidence = f.get("evidence", {})
    if not isinstance(evidence, dict):
        _F.fail(at(where, "evidence"), "expected an object")
    out.evidence = trim(evidence)
    return out
