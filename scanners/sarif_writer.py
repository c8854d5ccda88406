"""Render reports as SARIF 2.1.0, so Warden's output uploads to code-scanning tools as is."""

from __future__ import annotations

from typing import Any

from scanners.findings import Report

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}


def to_sarif(reports: list[Report]) -> dict[str, Any]:
    """One SARIF run per report; each finding a result with its rule, level, location,
    ``security-severity`` and Warden's fingerprint in ``partialFingerprints``."""
    runs: list[dict[str, Any]] = []
    for report in reports:
        rules: dict[str, dict[str, Any]] = {}
        results: list[dict[str, Any]] = []
        for f in report.findings:
            rule_id = f.rule_id or f.vuln_id or "warden"
            if rule_id not in rules:
                rules[rule_id] = {
                    "id": rule_id,
                    "shortDescription": {"text": f.title[:1000]},
                    "help": {"text": f.remediation or f.description or f.title},
                    "properties": {"security-severity": _SCORE[f.severity], "tags": ["security"]},
                }
            location: dict[str, Any] = {
                "physicalLocation": {
                    "artifactLocation": {"uri": f.file_path or f.package or "unknown"},
                }
            }
            if f.line:
                location["physicalLocation"]["region"] = {"startLine": f.line}
            if f.archive_member:
                location["logicalLocations"] = [{"name": f.archive_member, "kind": "member"}]
            props: dict[str, Any] = {"warden-severity": f.severity, "category": f.category}
            if f.byte_offset is not None:
                props["byte-offset"] = f.byte_offset
            if f.atlas:
                props["mitre-atlas"] = f.atlas
            if f.owasp_ml or f.owasp_llm:
                props["owasp"] = f.owasp_ml + f.owasp_llm
            results.append(
                {
                    "ruleId": rule_id,
                    "level": _LEVEL[f.severity],
                    "message": {"text": f.description or f.title},
                    "locations": [location],
                    "partialFingerprints": {"wardenFingerprint/v1": f.fingerprint},
                    "properties": props,
                }
            )
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": report.tool,
                        "version": report.tool_version or "unknown",
                        "informationUri": "https://github.com/warden/warden",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "properties": {"scan_type": report.scan_type, "category": report.category},
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    }
